from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse

from accounts.imports import ACCOUNT_HEADER, SNAPSHOT_HEADER, import_accounts, import_snapshots
from accounts.models import Account, AccountSnapshot, OwnershipChange, Region
from accounts.roles import Role
from accounts.tests.books_factories import TODAY, freeze_today
from accounts.tests.factories import AccountFactory, manager, tam, user_with_role

pytestmark = pytest.mark.django_db

HEADER = ",".join(ACCOUNT_HEADER)


@pytest.fixture(autouse=True)
def _today(time_machine):
    freeze_today(time_machine)


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def test_a_valid_file_creates_accounts_with_owners_and_history():
    owner = tam(email="ana@example.test")
    text = csv_text(
        "org_1,Acme,acme.com,DE,250,ANA@example.test,TAM,2026-02-01,true,annual,2026-12-01",
        "org_2,Beta,beta.io,US,,,,,false,,",
    )
    result = import_accounts(text, dry_run=False, changed_by=None)
    assert result.ok and result.applied
    acme = Account.objects.get(organization_id="org_1")
    assert (acme.owner, acme.owner_role, acme.owner_since, acme.region) == (
        owner,
        "TAM",
        dt.date(2026, 2, 1),
        Region.EU,
    )
    assert acme.am_managed and acme.plan == "annual"
    change = OwnershipChange.objects.get()
    assert (change.account, change.new_owner, change.effective_on, change.source) == (
        acme,
        owner,
        dt.date(2026, 2, 1),
        "import",
    )
    assert Account.objects.get(organization_id="org_2").owner is None


def test_any_bad_row_applies_nothing_and_reports_line_column_and_reason():
    tam(email="ana@example.test")
    text = csv_text(
        "org_1,Acme,acme.com,DE,250,ana@example.test,TAM,2026-02-01,true,annual,",
        "org_2,,beta.io,USA,many,ghost@example.test,BOSS,02/01/2026,maybe,gold,tomorrow",
        "org_1,Again,,,,,,,,,",
    )
    result = import_accounts(text, dry_run=False, changed_by=None)
    assert not result.applied
    assert not Account.objects.exists()
    found = {(e.line, e.column) for e in result.errors}
    assert found == {
        (3, "name"),
        (3, "country"),
        (3, "employee_count"),
        (3, "owner_email"),
        (3, "owner_role"),
        (3, "owner_since"),
        (3, "am_managed"),
        (3, "plan"),
        (3, "renewal_date"),
        (4, "organization_id"),
    }


def test_an_owner_without_the_named_role_is_a_row_error_and_nothing_is_applied():
    manager(email="boss@example.test")
    tam(email="ana@example.test")
    text = csv_text(
        "org_1,Acme,acme.com,US,10,ana@example.test,TAM,,false,monthly,",
        "org_2,Beta,beta.io,US,10,boss@example.test,TAM,,false,monthly,",
        "org_3,Gamma,gamma.io,US,10,ana@example.test,CSM,,false,monthly,",
    )
    result = import_accounts(text, dry_run=False, changed_by=None)
    assert [(e.line, e.column, e.reason) for e in result.errors] == [
        (3, "owner_role", "boss@example.test is not a TAM."),
        (4, "owner_role", "ana@example.test is not a CSM."),
    ]
    assert not result.applied
    assert not Account.objects.exists()


def test_a_wrong_header_is_an_error_on_line_one():
    result = import_accounts("org,name\nx,y\n", dry_run=False, changed_by=None)
    assert [(e.line, e.column) for e in result.errors] == [(1, "header")]


def test_upsert_updates_by_organization_id_and_records_only_real_owner_changes():
    old, new = tam(email="old@example.test"), user_with_role(Role.CSM, email="new@example.test")
    account = AccountFactory.create(
        organization_id="org_1", owner=old, owner_role="TAM", owner_since=dt.date(2025, 1, 1)
    )
    same = csv_text("org_1,Renamed,acme.com,US,10,old@example.test,TAM,,false,monthly,")
    assert import_accounts(same, dry_run=False, changed_by=None).ok
    account.refresh_from_db()
    assert (account.name, account.owner_since) == ("Renamed", dt.date(2025, 1, 1))
    assert not OwnershipChange.objects.exists()
    moved = csv_text("org_1,Renamed,acme.com,US,10,new@example.test,CSM,,false,monthly,")
    boss = manager()
    result = import_accounts(moved, dry_run=False, changed_by=boss)
    assert result.outcomes == [(2, "org_1", "update, owner change")]
    account.refresh_from_db()
    assert (account.owner, account.owner_role, account.owner_since) == (new, "CSM", TODAY)
    change = OwnershipChange.objects.get()
    assert (change.previous_owner, change.new_owner, change.actor) == (old, new, boss)
    assert Account.objects.count() == 1


def test_a_dry_run_shows_outcomes_and_applies_nothing():
    AccountFactory.create(organization_id="org_1")
    text = csv_text("org_1,A,,,,,,,,,", "org_2,B,,,,,,,,,")
    result = import_accounts(text, dry_run=True, changed_by=None)
    assert result.outcomes == [(2, "org_1", "update"), (3, "org_2", "create")]
    assert not result.applied
    assert Account.objects.count() == 1


def test_import_accounts_command_fails_loudly_on_bad_rows(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text(csv_text("org_1,,,,,,,,,,"))
    with pytest.raises(CommandError, match="nothing was applied"):
        call_command("import_accounts", str(path))
    path.write_text(csv_text("org_1,Acme,,,,,,,,,"))
    call_command("import_accounts", str(path), "--dry-run")
    assert not Account.objects.exists()
    call_command("import_accounts", str(path))
    assert Account.objects.get().name == "Acme"


def test_snapshots_upsert_by_week_and_refresh_the_accounts_health():
    account = AccountFactory.create(organization_id="org_1")
    header = ",".join(SNAPSHOT_HEADER)
    text = csv_text(
        "org_1,2026-05-04,fair,10,1000,1,0,",
        "org_1,2026-05-11,good,12,1200,0,2,5000",
        header=header,
    )
    assert import_snapshots(text, dry_run=False).ok
    again = csv_text("org_1,2026-05-11,poor,3,,,,", header=header)
    assert import_snapshots(again, dry_run=False).ok
    assert AccountSnapshot.objects.count() == 2
    account.refresh_from_db()
    assert (account.health, account.active_users_30d) == ("poor", 3)


def _row_version(account: Account) -> str:
    """The account row's physical address: every UPDATE of the row moves it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT ctid::text FROM accounts_account WHERE id = %s", [account.pk])
        return str(cursor.fetchone()[0])


def test_a_snapshot_reimport_that_changes_nothing_does_not_rewrite_the_account():
    account = AccountFactory.create(organization_id="org_1")
    text = csv_text("org_1,2026-05-11,good,12,1200,0,2,5000", header=",".join(SNAPSHOT_HEADER))
    assert import_snapshots(text, dry_run=False).ok
    before = _row_version(account)
    assert import_snapshots(text, dry_run=False).ok
    assert _row_version(account) == before
    account.refresh_from_db()
    assert (account.health, account.active_users_30d) == ("good", 12)


def test_a_snapshot_import_sets_the_health_of_the_imported_accounts_only():
    imported = AccountFactory.create(organization_id="org_1", health="good")
    other = AccountFactory.create(organization_id="org_2", health="good")
    AccountSnapshot.objects.create(account=other, week=dt.date(2026, 5, 4), health="poor")
    text = csv_text("org_1,2026-05-11,fair,3,,,,", header=",".join(SNAPSHOT_HEADER))
    assert import_snapshots(text, dry_run=False).ok
    imported.refresh_from_db()
    other.refresh_from_db()
    assert (imported.health, other.health) == ("fair", "good")


def test_bad_snapshot_rows_apply_nothing():
    AccountFactory.create(organization_id="org_1")
    header = ",".join(SNAPSHOT_HEADER)
    text = csv_text("org_1,2026-05-11,good,1,,,,", "org_9,2026-05-12,great,-1,,,,", header=header)
    result = import_snapshots(text, dry_run=False)
    assert {(e.line, e.column) for e in result.errors} == {
        (3, "organization_id"),
        (3, "week"),
        (3, "health"),
        (3, "active_users_30d"),
    }
    assert not AccountSnapshot.objects.exists()


def test_import_page_reports_errors_and_applies_valid_files(client):
    client.force_login(manager())
    bad = SimpleUploadedFile("a.csv", csv_text("org_1,,,,,,,,,,").encode())
    response = client.post(reverse("accounts:import"), {"kind": "accounts", "file": bad})
    assert response.status_code == 422
    assert "nothing was applied" in response.content.decode()
    good = SimpleUploadedFile("a.csv", csv_text("org_1,Acme,,,,,,,,,").encode())
    response = client.post(reverse("accounts:import"), {"kind": "accounts", "file": good})
    assert response.status_code == 200
    assert Account.objects.get().name == "Acme"


def test_large_files_apply_in_batches_and_report_progress():
    rows = [f"org_{i},Company {i},,US,,,,,false,," for i in range(2500)]
    seen: list[tuple[int, int]] = []
    result = import_accounts(
        csv_text(*rows),
        dry_run=False,
        changed_by=None,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert result.applied
    assert seen == [(1000, 2500), (2000, 2500), (2500, 2500)]
    assert Account.objects.count() == 2500


# --- issue 15/16 examples: strict parsing, whole rows, shared validators ------------


def snapshot_csv(*rows: str) -> str:
    return csv_text(*rows, header=",".join(SNAPSHOT_HEADER))


def test_a_truncated_accounts_row_is_an_error_and_changes_nothing():
    owner = tam(email="ana@example.test")
    AccountFactory.create(
        organization_id="org_1", owner=owner, owner_role="TAM", am_managed=True, domain="a.com"
    )
    result = import_accounts(csv_text("org_1,Acme"), dry_run=False, changed_by=None)
    assert [(e.line, e.column) for e in result.errors] == [(2, "row")]
    account = Account.objects.get()
    assert (account.owner, account.am_managed, account.domain) == (owner, True, "a.com")


def test_a_short_snapshot_row_is_an_error_and_blanks_nothing():
    AccountFactory.create(organization_id="org_1")
    assert import_snapshots(snapshot_csv("org_1,2026-05-04,good,10,100,1,0,"), dry_run=False).ok
    result = import_snapshots(snapshot_csv("org_1,2026-05-04,good"), dry_run=False)
    assert [(e.line, e.column) for e in result.errors] == [(2, "row")]
    assert AccountSnapshot.objects.get().events == 100


def test_error_lines_are_physical_after_a_blank_line_and_a_quoted_newline():
    text = csv_text('org_1,"Acme\nEurope",,,,,,,,,', "", "org_2,,,,,,,,,,")
    result = import_accounts(text, dry_run=True, changed_by=None)
    assert [(e.line, e.column) for e in result.errors] == [(5, "name")]


def test_a_compact_date_is_refused_and_a_trimmed_key_repeats_the_earlier_line():
    AccountFactory.create(organization_id="org_1")
    text = snapshot_csv(
        "org_1,2026-01-05,good,1,,,,", "org_1,20260105,good,1,,,,", " org_1 ,2026-01-05,fair,2,,,,"
    )
    result = import_snapshots(text, dry_run=True)
    assert [(e.line, e.column, e.reason) for e in result.errors] == [
        (3, "week", "Use YYYY-MM-DD, e.g. 2026-03-02."),
        (4, "week", "Repeats line 2."),
    ]


def test_a_snapshot_measure_above_the_column_is_a_row_error_in_the_dry_run_and_the_apply():
    AccountFactory.create(organization_id="org_1")
    text = snapshot_csv("org_1,2026-05-04,good,2147483648,,,,")
    for dry_run in (True, False):
        result = import_snapshots(text, dry_run=dry_run)
        assert [(e.line, e.column) for e in result.errors] == [(2, "active_users_30d")]
    assert not AccountSnapshot.objects.exists()


def test_an_employee_count_above_the_column_is_a_row_error():
    result = import_accounts(
        csv_text("org_1,Acme,,,2147483648,,,,,,"), dry_run=False, changed_by=None
    )
    assert [(e.line, e.column) for e in result.errors] == [(2, "employee_count")]
    assert not Account.objects.exists()


def test_a_future_snapshot_week_is_refused():
    AccountFactory.create(organization_id="org_1")
    result = import_snapshots(snapshot_csv("org_1,2099-01-05,good,1,,,,"), dry_run=False)
    assert [(e.line, e.column) for e in result.errors] == [(2, "week")]
    next_week = snapshot_csv("org_1,2026-05-18,good,1,,,,")  # TODAY is Friday 2026-05-15
    assert [e.column for e in import_snapshots(next_week, dry_run=False).errors] == ["week"]
    assert import_snapshots(snapshot_csv("org_1,2026-05-11,good,1,,,,"), dry_run=False).applied


def test_nul_bytes_and_overlong_names_are_field_errors():
    text = csv_text("org_1,Ac\x00me,,,,,,,,,", f"org_2,{'x' * 201},,,,,,,,,")
    result = import_accounts(text, dry_run=False, changed_by=None)
    assert [(e.line, e.column) for e in result.errors] == [(2, "name"), (3, "name")]


def test_owner_email_matches_a_mixed_case_staff_address_in_either_case():
    owner = tam(email="First.Last@Example.com")
    text = csv_text(
        "org_1,Acme,,,,first.last@example.com,TAM,,,,",
        "org_2,Beta,,,,FIRST.LAST@EXAMPLE.COM,tam,,,,",
    )
    assert import_accounts(text, dry_run=False, changed_by=None).applied
    assert set(Account.objects.values_list("owner", flat=True)) == {owner.pk}


@pytest.mark.parametrize(
    ("rows", "heading"),
    [
        (["org_1,,,,,,,,,,"], "1 error: nothing was applied"),
        (["org_1,,,,,,,,,,", "org_2,,,,,,,,,,"], "2 errors: nothing was applied"),
    ],
)
def test_the_import_page_counts_its_errors_in_words(client, rows, heading):
    client.force_login(manager())
    upload = SimpleUploadedFile("a.csv", csv_text(*rows).encode())

    response = client.post(reverse("accounts:import"), {"kind": "accounts", "file": upload})

    assert heading in response.content.decode()
