from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.books import book_totals
from accounts.models import Account
from accounts.roles import Role
from accounts.tests.factories import AccountFactory, manager, revops, tam, team_lead, user_with_role
from billing.models import AnnualContract, Invoice, MonthlyRevenue
from billing.tests.helpers import month, series
from revopsweb.tests.csv_reading import export_rows

pytestmark = pytest.mark.django_db
# Revenue in these tests runs January to June 2026; in July June is the last
# complete month (a month in progress is never "in": billing.revenue_data).
TODAY = dt.datetime(2026, 7, 15, 12, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


def _customers(count: int, owner=None) -> None:
    for i in range(count):
        account = AccountFactory.create(
            owner=owner, owner_role="TAM" if owner else "", am_managed=owner is not None
        )
        series(account, [1000 + i, 1200, 0 if i % 3 == 0 else 1500, 1500, 900 + i, 2000])


@pytest.mark.smoke
def test_revenue_page_shows_components_charts_data_and_movers_with_owners(client):
    owner = tam(name="Tess Owner")
    _customers(3, owner)
    client.force_login(revops())
    response = client.get(reverse("billing:revenue"))
    content = response.content.decode()
    assert response.status_code == 200
    assert 'id="revenue-chart-data"' in content and "revenue.js" in content
    assert "Tess Owner" in content
    assert response.context["current"].month == month(5)
    assert response.context["adjusted"] is True


def test_revenue_toggle_over_htmx_returns_only_the_body_partial(client):
    _customers(2)
    client.force_login(manager())
    response = client.get(
        reverse("billing:revenue") + "?basis=unadjusted", headers={"HX-Request": "true"}
    )
    content = response.content.decode()
    assert content.lstrip().startswith('<section id="revenue-body">')
    assert "<html" not in content and response.context["adjusted"] is False


def test_revenue_toggle_works_as_a_plain_get(client):
    _customers(2)
    client.force_login(team_lead())
    response = client.get(reverse("billing:revenue") + "?basis=unadjusted&month=2026-04")
    assert "<html" in response.content.decode()
    assert response.context["current"].month == month(3)


@pytest.mark.parametrize("role", [Role.TAE, Role.CSM, Role.BDR])
def test_revenue_page_is_refused_to_other_roles(client, role):
    client.force_login(user_with_role(role))
    assert client.get(reverse("billing:revenue")).status_code == 403
    assert client.get(reverse("billing:revenue_csv")).status_code == 403
    assert client.get(reverse("billing:quota")).status_code == 403


def test_revenue_page_refuses_post(client):
    client.force_login(revops())
    assert client.post(reverse("billing:revenue")).status_code == 405


def test_revenue_csv_export_has_a_row_per_month(client):
    _customers(2)
    client.force_login(tam())
    rows = export_rows(client.get(reverse("billing:revenue_csv") + "?month=2026-06"))
    assert list(rows[0])[:4] == ["month", "total", "baseline", "new"]
    assert len(rows) == 19 and rows[-1]["month"] == "2026-06"


def test_revenue_csv_writes_adjusted_money_as_exact_cents(client):
    # An annual discount of 30%: 1,000 billed counts 1,000 / 0.7 = 1,428.571428…
    account = AccountFactory.create()
    AnnualContract.objects.create(
        account=account,
        starts_on=month(0),
        ends_on=month(12),
        annual_amount=Decimal(12000),
        discount_percent=Decimal(30),
    )
    series(account, [1000, 1000, 1000, 1000, 1000, 1000])
    client.force_login(tam())
    rows = export_rows(client.get(reverse("billing:revenue_csv") + "?month=2026-06&basis=adjusted"))
    assert (rows[-1]["total"], rows[-1]["retained"]) == ("1428.57", "1428.57")
    assert rows[-7]["total"] == "0.00"
    money = re.compile(r"^-?\d+\.\d{2}$")
    assert all(money.match(v) for r in rows for k, v in r.items() if k != "month" and v)


@pytest.mark.parametrize("count", [3, 30])
def test_revenue_page_query_count_does_not_grow_with_the_data(
    client, django_assert_num_queries, count
):
    _customers(count, tam())
    client.force_login(revops())
    # session, user with their roles, latest month, summaries changed? (yes), a
    # refresh of every account, and the revenue table's size? (yes, small: refreshed
    # here, the refresh's 44 statements, the same for any number of accounts: 7 to take the
    # recorded changes and plan (all months, the summaries being empty), 25 to set
    # up each basis and level, store the company level's adjusted amounts and
    # compute the per-product components, then one company-level sums statement per
    # basis and month, 2 × the series' 6 months), components, per-product
    # components, products, movers, which movers the person may open
    with django_assert_num_queries(54):
        client.get(reverse("billing:revenue"))


def test_revenue_movers_link_only_the_accounts_the_viewer_opens(client):
    me = tam()
    _customers(1, me)
    _customers(1, tam())
    client.force_login(me)
    revenue = client.get(reverse("billing:revenue")).content.decode()
    movers = revenue.split('data-testid="gainers"', 1)[1]
    mine, theirs = Account.objects.get(owner=me), Account.objects.exclude(owner=me).get()
    assert f'href="{reverse("accounts:account", args=[mine.pk])}"' in movers
    assert theirs.name in movers
    assert f'href="{reverse("accounts:account", args=[theirs.pk])}"' not in movers


def test_tam_sees_only_their_own_quota_row(client):
    me = tam(name="Me Tam", quarterly_quota=Decimal("100000"))
    other = tam(name="Other Tam")
    _customers(1, me)
    _customers(1, other)
    client.force_login(me)
    response = client.get(reverse("billing:quota") + "?quarter=2026Q2")
    assert [r.user for r in response.context["rows"]] == [me]
    assert "Other Tam" not in response.content.decode()


def test_team_lead_sees_every_tam_and_team_totals(client):
    lead = team_lead(name="Lead", quarterly_quota=Decimal("50000"))
    first = tam(team_lead=lead, quarterly_quota=Decimal("250000"))
    second = tam(team_lead=lead, quarterly_quota=Decimal("250000"))
    _customers(2, first)
    client.force_login(lead)
    response = client.get(reverse("billing:quota") + "?quarter=2026Q2")
    assert {r.user for r in response.context["rows"]} == {first, second}
    [team] = response.context["teams"]
    assert team["quota"] == Decimal("500000.00") and team["lead"] == lead


@pytest.mark.parametrize("count", [2, 20])
def test_quota_page_query_count_does_not_grow_with_the_book(
    client, django_assert_num_queries, count
):
    lead = team_lead()
    owners = [
        tam(quarterly_quota=Decimal("1000"), team_lead=lead if i else None)
        for i in range(count // 2)
    ]
    for owner in owners:
        _customers(2, owner)
    client.force_login(manager())
    # session, user with their roles, latest revenue month, TAMs with their leads, the
    # totals per TAM (one statement: book, invoices, contracts, exclusions, paid
    # invoices), the quarter's exclusion requests; no account's breakdown
    with django_assert_num_queries(6):
        client.get(reverse("billing:quota"))


@pytest.mark.parametrize("count", [2, 20])
def test_a_tams_accounts_partial_query_count_does_not_grow_with_the_book(
    client, django_assert_num_queries, count
):
    owner = tam(quarterly_quota=Decimal("1000"))
    _customers(count, owner)
    client.force_login(manager())
    url = reverse("billing:quota") + f"?quarter=2026Q2&tam={owner.pk}&part=accounts"
    # session, user with their roles, latest revenue month, the TAM, their book with the
    # previous-owner flag, invoices, annual contracts, approved exclusions, paid invoices
    with django_assert_num_queries(9):
        response = client.get(url, headers={"HX-Request": "true"})
    assert len(response.context["group"].accounts) == count


def _two_tams_with_books():
    lead = team_lead()
    first = tam(name="First Tam", team_lead=lead, quarterly_quota=Decimal("100000"))
    second = tam(name="Second Tam", team_lead=lead, quarterly_quota=Decimal("100000"))
    _customers(2, first)
    _customers(3, second)
    return lead, first, second


def _account_links(owner) -> list[str]:
    return [
        f'href="{reverse("accounts:account", args=[a.pk])}"' for a in owner.owned_accounts.all()
    ]


def test_quota_page_shows_each_tams_accounts_as_a_collapsed_group_with_its_count(client):
    lead, first, second = _two_tams_with_books()
    client.force_login(lead)
    html = client.get(reverse("billing:quota") + "?quarter=2026Q2").content.decode()
    assert "First Tam: 2 AM-managed accounts in the quota book" in html
    assert "Second Tam: 3 AM-managed accounts in the quota book" in html
    assert f'hx-get="?quarter=2026Q2&amp;tam={second.pk}&amp;part=accounts"' in html
    assert f'href="?quarter=2026Q2&amp;tam={second.pk}#tam-{second.pk}"' in html  # no JS
    assert 'data-testid="quota-account"' not in html
    assert not any(link in html for link in _account_links(first) + _account_links(second))


def test_a_tams_group_over_htmx_returns_only_that_tams_accounts_partial(client):
    lead, first, second = _two_tams_with_books()
    client.force_login(lead)
    response = client.get(
        reverse("billing:quota") + f"?quarter=2026Q2&tam={second.pk}&part=accounts",
        headers={"HX-Request": "true"},
    )
    content = response.content.decode()
    assert content.lstrip().startswith(f'<div class="tam-accounts" id="tam-{second.pk}-accounts"')
    assert "<html" not in content
    assert all(link in content for link in _account_links(second))
    assert not any(link in content for link in _account_links(first))


def test_the_plain_link_opens_one_tams_accounts_on_the_full_page(client):
    lead, first, second = _two_tams_with_books()
    client.force_login(lead)
    response = client.get(reverse("billing:quota") + f"?quarter=2026Q2&tam={first.pk}")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert f'id="tam-{first.pk}" data-testid="tam-group" open' in html
    assert all(link in html for link in _account_links(first))
    assert not any(link in html for link in _account_links(second))
    assert "Second Tam: 3 AM-managed accounts" in html  # the other groups stay collapsed


def test_a_tam_opens_their_own_accounts(client):
    _lead, first, _second = _two_tams_with_books()
    client.force_login(first)
    html = client.get(reverse("billing:quota") + f"?quarter=2026Q2&tam={first.pk}").content
    assert all(link in html.decode() for link in _account_links(first))


@pytest.mark.parametrize("htmx", [False, True])
def test_a_tam_asking_for_another_tams_accounts_is_refused(client, htmx):
    _lead, first, second = _two_tams_with_books()
    client.force_login(first)
    response = client.get(
        reverse("billing:quota") + f"?quarter=2026Q2&tam={second.pk}&part=accounts",
        headers={"HX-Request": "true"} if htmx else {},
    )
    assert response.status_code == 403
    assert not any(link in response.content.decode() for link in _account_links(second))


@pytest.mark.parametrize("asked", ["lead", "x", "0", "99999999999999999999999"])
def test_a_tam_id_that_is_no_active_tam_is_not_found(client, asked):
    lead, _first, _second = _two_tams_with_books()
    client.force_login(manager())
    tam_id = str(lead.pk) if asked == "lead" else asked
    response = client.get(reverse("billing:quota") + f"?quarter=2026Q2&tam={tam_id}")
    assert response.status_code == 404


def test_revops_imports_a_csv_through_the_page(client):
    AccountFactory.create(organization_id="org_1")
    client.force_login(revops())
    upload = SimpleUploadedFile(
        "mrr.csv", b"organization_id,product,month,amount\norg_1,logs,2026-05,50\n"
    )
    response = client.post(reverse("billing:import_mrr"), {"file": upload})
    assert response.status_code == 302
    assert MonthlyRevenue.objects.get().amount == Decimal("50.00")


def test_import_page_lists_bad_rows_and_imports_nothing(client):
    client.force_login(revops())
    upload = SimpleUploadedFile(
        "mrr.csv", b"organization_id,product,month,amount\norg_9,logs,2026-05,50\n"
    )
    response = client.post(reverse("billing:import_mrr"), {"file": upload})
    assert response.status_code == 200
    assert "No account" in response.content.decode()
    assert not MonthlyRevenue.objects.exists()


def test_import_page_is_refused_to_a_tam(client):
    client.force_login(tam())
    upload = SimpleUploadedFile("mrr.csv", b"organization_id,product,month,amount\n")
    assert client.post(reverse("billing:import_mrr"), {"file": upload}).status_code == 403


def test_an_applied_import_refreshes_the_cached_revenue_numbers(
    client, django_capture_on_commit_callbacks, monkeypatch
):
    from billing import tasks
    from billing.imports import import_mrr_csv

    queued = []
    monkeypatch.setattr(tasks.refresh_revenue_cache, "delay", lambda: queued.append(1))
    AccountFactory.create(organization_id="org_1")
    client.force_login(revops())
    assert client.get(reverse("billing:revenue")).context["current"].total == 0
    with django_capture_on_commit_callbacks(execute=True):
        import_mrr_csv(text="organization_id,product,month,amount\norg_1,logs,2026-06,75\n")
    assert client.get(reverse("billing:revenue")).context["current"].total == Decimal("75.00")
    assert queued == [1]  # the refresh job recomputes the page in the background


def test_refresh_job_computes_the_current_month_ahead_of_visitors(
    client, django_assert_num_queries
):
    from billing.tasks import refresh_revenue_cache

    _customers(3)
    assert refresh_revenue_cache()["outcome"] == "succeeded"
    client.force_login(revops())
    # session, user with their roles, latest month, summaries changed? (no), components,
    # per-product components, products, movers: all from the summaries; which movers
    # the person may open
    with django_assert_num_queries(9):
        response = client.get(reverse("billing:revenue"))
    assert response.context["current"].total > 0


def test_after_the_refresh_an_earlier_month_needs_only_its_movers(
    client, django_assert_num_queries
):
    from billing.tasks import refresh_revenue_cache

    _customers(3)
    assert refresh_revenue_cache()["outcome"] == "succeeded"
    client.force_login(revops())
    # session, user with their roles, latest month, summaries changed? (no), components,
    # per-product components, products, movers of March, which of them the person opens
    with django_assert_num_queries(9):
        response = client.get(reverse("billing:revenue") + "?month=2026-03")
    assert response.context["current"].month == month(2)
    assert response.context["current"].total > 0


def test_revenue_page_defaults_to_the_latest_imported_month(client):
    _customers(1)  # revenue through June
    with time_machine.travel(dt.datetime(2026, 7, 3, 9, tzinfo=dt.UTC), tick=False):
        client.force_login(revops())
        response = client.get(reverse("billing:revenue"))
    assert response.context["current"].month == month(5)


def test_revenue_movers_and_quota_rows_link_their_accounts(client):
    owner = tam(quarterly_quota=Decimal("100000"))
    _customers(2, owner)
    client.force_login(manager())
    revenue = client.get(reverse("billing:revenue")).content.decode()
    quota = client.get(reverse("billing:quota") + f"?quarter=2026Q2&tam={owner.pk}")
    quota = quota.content.decode()
    for account in owner.owned_accounts.all():
        url = f'href="{reverse("accounts:account", args=[account.pk])}"'
        assert url in revenue.split('data-testid="gainers"', 1)[1]
        assert url in quota


def test_quota_page_says_its_count_is_the_am_managed_book_beside_my_books_count(client):
    """My book counts every owned account outside Leads; the quota book only the
    AM-managed ones: the page says which it counts and gives My book's figure."""
    owner = tam(name="Quota Tam", quarterly_quota=Decimal("100000"))
    _customers(2, owner)  # AM-managed
    AccountFactory.create(owner=owner, owner_role="TAM", am_managed=False)
    AccountFactory.create(owner=owner, owner_role="TAM", am_managed=False, is_lead=True)
    client.force_login(owner)
    html = client.get(reverse("billing:quota") + "?quarter=2026Q2").content.decode()
    assert book_totals(owner, today=TODAY.date()).accounts == 3
    assert "Quota Tam: 2 AM-managed accounts in the quota book" in html
    assert re.search(r'data-testid="owned-now">\(My book today: 3 accounts\)', html)
    assert 'data-testid="quota-book-note"' in html


def test_a_negative_commission_basis_says_what_it_is_made_of(client):
    owner = tam(quarterly_quota=Decimal("100000"))
    dropping, growing, new = (
        AccountFactory.create(owner=owner, owner_role="TAM", am_managed=True) for _ in range(3)
    )
    series(dropping, [3000, 3000, 3000, 1000, 1000, 1000])  # -$24,000 × 0.7 = -$16,800
    series(growing, [1000, 1000, 1000, 1500, 1500, 1500])  # +$6,000 × 0.7 = +$4,200
    series(new, [1000, 1000, 1000, 5000, 5000, 5000])  # +$33,600, commission pending
    for account in (dropping, growing):
        for i in range(2):
            Invoice.objects.create(
                account=account, number=f"N-{account.pk}-{i}", issued_on=month(i),
                due_on=month(i), amount=Decimal(100), status=Invoice.Status.PAID,
            )  # fmt: skip
    client.force_login(owner)
    response = client.get(reverse("billing:quota") + "?quarter=2026Q2")
    [row] = response.context["rows"]
    assert row.attainment == Decimal("21000.00") and row.recognised_attainment < 0
    html = re.sub(r"\s+", " ", response.content.decode())
    assert "−$12,600" in html or "-$12,600" in html
    assert (
        "negative: drops and churn of $16,800 exceed growth of $4,200 on the accounts whose "
        "first two invoices are paid" in html
    )
    assert "$33,600 of the attainment is on accounts waiting for their first two paid" in html
