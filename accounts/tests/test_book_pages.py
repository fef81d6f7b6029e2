from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import (
    Account,
    AccountPlan,
    AccountSnapshot,
    Activity,
    ActivityKind,
    Health,
    NewOwnerTrait,
    OwnerRole,
    OwnershipChange,
    Region,
    TopAccount,
)
from accounts.roles import Role
from accounts.segments import refresh_top_accounts
from accounts.tests.books_factories import (
    LAST_MONTH,
    freeze_today,
    fully_expanded,
    give_arr,
    give_revenue,
    plan_for,
)
from accounts.tests.factories import (
    AccountFactory,
    manager,
    revops,
    tam,
    team_lead,
    user_with_role,
)
from billing.models import MonthlyRevenue, Product
from leads.models import TaskStatus
from leads.recommendations import give_recommendation
from leads.tests.factories import TaskFactory
from revopsweb.dates import company_today
from revopsweb.tests.csv_reading import export_rows

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _today(time_machine):
    freeze_today(time_machine)


def fill_book(owner, n: int) -> list[Account]:
    """n accounts in owner's book, each with 13 months of revenue in 2 products,
    a plan, a note and a snapshot (bulk, so 1,000 stays fast)."""
    accounts = Account.objects.bulk_create(
        Account(
            name=f"Acct {owner.pk}-{i:04d}",
            organization_id=f"org-{owner.pk}-{i}",
            owner=owner,
            owner_role=OwnerRole.TAM,
            health=Health.GOOD,
        )
        for i in range(n)
    )
    products = list(Product.objects.filter(key__in=["session_replay", "product_analytics"]))
    MonthlyRevenue.objects.bulk_create(
        MonthlyRevenue(
            account=a,
            product=p,
            month=dt.date(2025 + (3 + m) // 12, (3 + m) % 12 + 1, 1),
            amount=100 * (m + 1),
        )
        for a in accounts
        for p in products
        for m in range(13)
    )
    AccountPlan.objects.bulk_create(
        AccountPlan(account=a, quarter_start=dt.date(2026, 4, 1), title="Q2") for a in accounts
    )
    return accounts


# --- My book ------------------------------------------------------------------------


def test_my_book_lists_only_my_accounts_with_revenue_and_badges(client):
    me = tam()
    mine = AccountFactory.create(owner=me, owner_role=OwnerRole.TAM, name="Mine Inc")
    fully_expanded(mine)
    AccountFactory.create(owner=tam(), owner_role=OwnerRole.TAM, name="Theirs Inc")
    client.force_login(me)
    content = client.get(reverse("accounts:my_book")).content.decode()
    assert "Mine Inc" in content and "Theirs Inc" not in content
    assert "$36,000" in content
    assert "Session Replay" in content and "<svg" in content
    assert "Missing" in content  # no plan this quarter


def test_my_book_htmx_request_returns_only_the_table(client):
    me = tam()
    AccountFactory.create(owner=me, owner_role=OwnerRole.TAM)
    client.force_login(me)
    content = client.get(reverse("accounts:my_book"), **HTMX).content.decode()
    assert content.lstrip().startswith('<section id="book-table">')
    assert "<html" not in content


def test_my_book_filters_by_segment_and_sorts_by_arr(client):
    me = tam()
    small, big, mid = (
        AccountFactory.create(owner=me, owner_role=OwnerRole.TAM, name=n)
        for n in ("Small", "Big", "Mid")
    )
    give_arr(small, 1_200)
    give_arr(big, 120_000)
    give_arr(mid, 30_000)
    client.force_login(me)
    url = reverse("accounts:my_book")
    content = client.get(url, {"sort": "arr", "dir": "asc"}).content.decode()
    assert content.index("Small") < content.index("Mid") < content.index("Big")
    content = client.get(url, {"segment": "arr_20k"}).content.decode()
    assert "Mid" in content and "Big" not in content and "Small" not in content


def test_with_filters_on_the_book_says_how_many_of_its_rows_the_table_shows(client):
    # The totals stay the whole book's (its targets are the book's); the page says so.
    me = tam()
    for name in ("Alpha", "Beta", "Gamma"):
        AccountFactory.create(owner=me, owner_role=OwnerRole.TAM, name=name)
    AccountFactory.create(owner=me, owner_role=OwnerRole.TAM, name="Alphabet", is_lead=True)
    client.force_login(me)
    url = reverse("accounts:my_book")

    filtered = client.get(url, {"q": "alpha"}).content.decode()
    plain = client.get(url).content.decode()

    assert "Filtered: 2 of the book's 4 shown. The totals are the whole book's." in filtered
    assert "+ 1 lead" in filtered and "1 leads" not in filtered
    assert 'data-testid="book-shown"' not in plain


def test_overlay_accounts_are_rows_of_the_book_said_apart_from_its_totals(client):
    # A TAM overlay account is a row of the book but owned by someone else: the totals
    # (and their targets) leave it out, and the page says so rather than showing more
    # rows than the totals count (the walk: "Filtered: 21 of the book's 19 shown").
    me, other = tam(), tam()
    AccountFactory.create(owner=me, owner_role=OwnerRole.TAM, name="Owned One")
    for name in ("Overlay One", "Overlay Two"):
        AccountFactory.create(owner=other, owner_role=OwnerRole.TAM, tam_overlay=me, name=name)
    client.force_login(me)
    url = reverse("accounts:my_book")

    plain = client.get(url).content.decode()
    filtered = client.get(url, {"q": "one"}).content.decode()

    assert "Overlay Two" in plain and "<strong>1</strong> account\n" in plain
    assert (
        "Also in this book as TAM overlay: 2 accounts owned by others, not in the totals." in plain
    )
    assert "Filtered: 2 of the book's 3 shown." in filtered


def test_a_tam_cannot_open_another_persons_book(client):
    client.force_login(tam())
    assert client.get(reverse("accounts:my_book"), {"owner": tam().pk}).status_code == 404


def test_a_team_lead_opens_a_team_members_book(client):
    lead = team_lead()
    member = tam(team_lead=lead)
    AccountFactory.create(owner=member, owner_role=OwnerRole.TAM, name="Team Account")
    client.force_login(lead)
    response = client.get(reverse("accounts:my_book"), {"owner": member.pk})
    assert "Team Account" in response.content.decode()


def test_book_export_is_a_csv_of_the_same_rows(client):
    me = tam()
    account = AccountFactory.create(owner=me, owner_role=OwnerRole.TAM, name="Csv Co")
    give_revenue(account, session_replay=500)
    client.force_login(me)
    rows = export_rows(client.get(reverse("accounts:book_export")))
    assert [(r["name"], r["arr"], r["paid_core_products"]) for r in rows] == [
        ("Csv Co", "6000.00", "Session Replay")
    ]


def test_book_export_neutralises_formulas_and_keeps_numbers_exact(client):
    me = tam()
    account = AccountFactory.create(
        owner=me, owner_role=OwnerRole.TAM, name="@SUM(A1:A9)", organization_id="-org-1"
    )
    # 1,000.10 in March, 800.03 in April: MoM -200.07, a number (no quote) with two decimals.
    give_revenue(account, month=dt.date(2026, 3, 1), session_replay="1000.10")
    give_revenue(account, session_replay="800.03")
    client.force_login(me)
    [row] = export_rows(client.get(reverse("accounts:book_export")))
    assert (row["organization_id"], row["name"]) == ("'-org-1", "'@SUM(A1:A9)")
    assert (row["mrr"], row["arr"], row["mom_change"]) == ("800.03", "9600.36", "-200.07")


def test_book_export_writes_the_last_contact_in_the_company_time_zone(client, settings):
    settings.TIME_ZONE = "America/New_York"
    me = tam()
    # 02:00 UTC on 14 May is 22:00 on 13 May in New York, the date the page shows.
    AccountFactory.create(
        owner=me,
        owner_role=OwnerRole.TAM,
        name="Zoë Müller GmbH",
        last_contact_at=dt.datetime(2026, 5, 14, 2, 0, tzinfo=dt.UTC),
    )
    client.force_login(me)
    page = client.get(reverse("accounts:my_book")).content.decode()
    [row] = export_rows(client.get(reverse("accounts:book_export")))
    assert row["last_contact_at"] == "2026-05-13 22:00:00"
    assert "<td>2026-05-13</td>" in page
    assert row["name"] == "Zoë Müller GmbH"


def test_my_book_wrong_method_is_refused(client):
    client.force_login(tam())
    assert client.post(reverse("accounts:my_book")).status_code == 405


@pytest.mark.parametrize("sizes", [(10, 100)])
def test_my_book_query_count_does_not_grow_with_the_book(client, sizes):
    counts = []
    for size in sizes:
        owner = tam()
        fill_book(owner, size)
        client.force_login(owner)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("accounts:my_book"))
        assert response.content.decode().count('data-testid="book-row"') == size
        counts.append(len(queries))
    # session, user with their roles, revenue data month, the month's Top 40 stored if
    # unranked (one statement, ranked or not), rows (with their churn-risk and suggestion
    # marks), sparklines, paid products, totals (the counts; the ARR by billing
    # configuration, as the rows read it); a TAM may open only their own book, so no
    # query lists the books they may open
    assert counts == [counts[0]] * len(sizes)
    assert counts[0] == 9


def test_my_book_query_count_is_the_same_at_a_thousand_accounts(client, django_assert_num_queries):
    owner = tam()
    fill_book(owner, 1000)
    client.force_login(owner)
    with django_assert_num_queries(9):
        response = client.get(reverse("accounts:my_book"), {"sort": "mom"})
    assert response.status_code == 200


# --- account page ----------------------------------------------------------------------


def test_account_page_shows_revenue_chart_data_owners_and_notes(client):
    me = tam()
    account = AccountFactory.create(owner=me, owner_role=OwnerRole.TAM, name="Page Co")
    give_revenue(account, session_replay=400, feature_flags=100)
    Activity.objects.create(
        account=account,
        kind=ActivityKind.NOTE,
        author=me,
        occurred_at=dt.datetime.now(dt.UTC),
        summary="Kickoff call went well",
    )
    client.force_login(me)
    content = client.get(reverse("accounts:account", args=[account.pk])).content.decode()
    assert 'id="mrr-by-product"' in content and "Feature Flags" in content
    assert "Kickoff call went well" in content
    assert "$6,000" in content


def test_account_page_of_another_book_is_not_found(client):
    account = AccountFactory.create(owner=tam(), owner_role=OwnerRole.TAM)
    client.force_login(tam())
    assert client.get(reverse("accounts:account", args=[account.pk])).status_code == 404


def test_crafted_note_on_another_book_is_refused_and_writes_nothing(client):
    account = AccountFactory.create(owner=tam(), owner_role=OwnerRole.TAM)
    client.force_login(tam())
    response = client.post(reverse("accounts:account_note", args=[account.pk]), {"summary": "x"})
    assert response.status_code == 404
    assert not Activity.objects.exists()


def test_onboarding_specialist_reads_but_cannot_write(client):
    specialist = user_with_role(Role.ONBOARDING)
    account = AccountFactory.create(
        owner=tam(), owner_role=OwnerRole.TAM, onboarding_specialist=specialist
    )
    client.force_login(specialist)
    assert client.get(reverse("accounts:account", args=[account.pk])).status_code == 200
    response = client.post(reverse("accounts:account_note", args=[account.pk]), {"summary": "x"})
    assert response.status_code == 403
    assert client.post(reverse("accounts:account_plan_start", args=[account.pk])).status_code == 403


def test_adding_a_note_by_htmx_returns_the_notes_region(client):
    me = tam()
    account = AccountFactory.create(owner=me, owner_role=OwnerRole.TAM)
    client.force_login(me)
    response = client.post(
        reverse("accounts:account_note", args=[account.pk]), {"summary": "Called champion"}, **HTMX
    )
    assert response.content.decode().lstrip().startswith('<article id="notes">')
    note = Activity.objects.get()
    assert (note.author, note.summary, note.kind) == (me, "Called champion", ActivityKind.NOTE)


def test_adding_a_note_as_a_plain_post_redirects(client):
    me = tam()
    account = AccountFactory.create(owner=me, owner_role=OwnerRole.TAM)
    client.force_login(me)
    response = client.post(reverse("accounts:account_note", args=[account.pk]), {"summary": "Hi"})
    assert response.status_code == 302


def test_starting_a_plan_prefills_it_from_the_accounts_data_once_per_quarter(client):
    me = tam()
    account = AccountFactory.create(owner=me, owner_role=OwnerRole.TAM, name="Plan Co")
    give_revenue(account, session_replay=1000)
    plan_for(account, quarter_start=dt.date(2026, 1, 1), stakeholders="Ana, CTO")
    client.force_login(me)
    url = reverse("accounts:account_plan_start", args=[account.pk])
    client.post(url)
    client.post(url)
    plan = AccountPlan.objects.get(account=account, quarter_start=dt.date(2026, 4, 1))
    assert plan.title == "Q2 Account Plan – Plan Co"
    assert "ARR $12,000" in plan.overview
    assert "Paid core products: Session Replay" in plan.products_cross_sell
    assert plan.stakeholders == "Ana, CTO"
    assert AccountPlan.objects.filter(account=account).count() == 2


def test_declaring_no_levers_needs_what_was_tried(client):
    me = tam()
    account = AccountFactory.create(owner=me, owner_role=OwnerRole.TAM)
    plan = plan_for(account)
    client.force_login(me)
    response = client.post(reverse("accounts:plan", args=[plan.pk]), {"no_viable_levers": "on"})
    assert response.status_code == 422
    plan.refresh_from_db()
    assert not plan.no_viable_levers


def test_account_page_query_count_does_not_grow(client):
    counts = []
    for size in (2, 20):
        me = tam()
        account = AccountFactory.create(owner=me, owner_role=OwnerRole.TAM)
        for p in Product.objects.all()[:size]:
            amounts: dict[str, Any] = {p.key: 300}
            give_revenue(account, **amounts)
        Activity.objects.bulk_create(
            Activity(
                account=account,
                kind=ActivityKind.NOTE,
                author=me,
                occurred_at=dt.datetime.now(dt.UTC),
                summary=f"n{i}",
            )
            for i in range(size)
        )
        OwnershipChange.objects.bulk_create(
            OwnershipChange(
                account=account,
                new_owner=me,
                new_owner_role="TAM",
                actor=me,
                at=dt.datetime.now(dt.UTC),
                effective_on=LAST_MONTH,
                reason="r",
                source="test",
            )
            for _ in range(size)
        )
        AccountSnapshot.objects.bulk_create(
            AccountSnapshot(
                account=account,
                week=dt.date(2026, 5, 11) - dt.timedelta(weeks=i),
                health=Health.FAIR,
            )
            for i in range(size)
        )
        AccountPlan.objects.bulk_create(
            AccountPlan(
                account=account, quarter_start=dt.date(2021 + i // 4, 3 * (i % 4) + 1, 1), title="p"
            )
            for i in range(size)
        )
        TaskFactory.create_batch(size, account=account, assignee=tam())
        for i in range(size):
            give_recommendation(account=account, by=me, text=f"r{i}")
        # The month's Top 40 stored, as its job leaves it (an unranked month: below).
        refresh_top_accounts(today=company_today())
        client.force_login(me)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("accounts:account", args=[account.pk])).status_code == 200
        counts.append(len(queries))
    # session, user with their roles, revenue data month, account with revenue (its
    # churn-risk mark, whether the month's Top 40 is stored), chart rows with the paid
    # products, snapshots, history, plans, notes, tasks, recommendations, handovers
    # panel, trials panel (one more for extensions when the account has trials),
    # failed-payment panel, refunds panel
    assert counts[0] == counts[1] == 15


def test_the_account_page_of_an_unranked_month_stores_its_top_40(client):
    me = tam()
    account = AccountFactory.create(owner=me, owner_role=OwnerRole.TAM)
    give_revenue(account, session_replay=1000)
    client.force_login(me)
    assert not TopAccount.objects.exists()
    with CaptureQueriesContext(connection) as queries:
        body = client.get(reverse("accounts:account", args=[account.pk])).content.decode()
    assert list(TopAccount.objects.values_list("account", flat=True)) == [account.pk]
    assert '<span class="badge">Top 40 by ARR</span>' in body
    # As a stored month's 15, with the ranking stored and the account read again.
    assert len(queries) == 17
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("accounts:account", args=[account.pk]))
    assert len(queries) == 15


# --- planning, allocation, import ------------------------------------------------------


def test_planning_page_shows_removal_candidates_of_my_book(client):
    me = tam()
    AccountFactory.create(owner=me, owner_role=OwnerRole.TAM, name="Churned Co")
    client.force_login(me)
    content = client.get(reverse("accounts:planning")).content.decode()
    assert "Churned Co" in content and "Churned, no documented plan" in content
    assert "2026-06-30" in content  # the one day format (revopsweb/formats.py)


def test_allocation_is_refused_to_a_tam(client):
    client.force_login(tam())
    assert client.get(reverse("accounts:allocation")).status_code == 403
    account = AccountFactory.create()
    response = client.post(
        reverse("accounts:allocation_trait", args=[account.pk]), {"trait": NewOwnerTrait.US_TAM}
    )
    assert response.status_code == 403


def test_crafted_trait_post_by_a_team_lead_is_refused(client):
    account = AccountFactory.create()
    client.force_login(team_lead())
    response = client.post(
        reverse("accounts:allocation_trait", args=[account.pk]), {"trait": NewOwnerTrait.US_TAM}
    )
    assert response.status_code == 403
    account.refresh_from_db()
    assert account.new_owner_trait == ""


def test_crafted_assign_of_a_top_40_account_by_a_team_lead_is_refused(client):
    lead = team_lead()
    member = tam(team_lead=lead)
    account = AccountFactory.create()
    give_arr(account, 240_000)
    client.force_login(lead)
    response = client.post(
        reverse("accounts:allocation_assign", args=[account.pk]),
        {"owner": member.pk, "reason": "mine now"},
    )
    assert response.status_code == 403
    account.refresh_from_db()
    assert account.owner is None


def test_a_team_lead_cannot_take_another_teams_account_for_their_own_team(client):
    lead = team_lead(region=Region.US)
    member = tam(team_lead=lead)
    theirs = tam(team_lead=team_lead(region=Region.US))
    account = AccountFactory.create(owner=theirs, owner_role="TAM")
    client.force_login(lead)
    response = client.post(
        reverse("accounts:allocation_assign", args=[account.pk]),
        {"owner": member.pk, "reason": "mine now"},
    )
    assert response.status_code == 403
    account.refresh_from_db()
    assert account.owner == theirs
    assert not account.ownership_changes.exists()


def test_a_team_lead_cannot_assign_an_account_tagged_for_the_other_region(client):
    lead = team_lead(region=Region.US)
    member = tam(team_lead=lead)
    account = AccountFactory.create(new_owner_trait=NewOwnerTrait.EU_TAM)
    client.force_login(lead)
    response = client.post(
        reverse("accounts:allocation_assign", args=[account.pk]),
        {"owner": member.pk, "reason": "mine now"},
    )
    assert response.status_code == 403
    account.refresh_from_db()
    assert account.owner is None


def test_a_team_lead_assigns_an_account_tagged_for_their_region_to_their_team(client):
    lead = team_lead(region=Region.EU)
    member = tam(team_lead=lead)
    account = AccountFactory.create(new_owner_trait=NewOwnerTrait.EU_TAM)
    client.force_login(lead)
    response = client.post(
        reverse("accounts:allocation_assign", args=[account.pk]),
        {"owner": member.pk, "reason": "EU TAM with capacity"},
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.owner, account.owner_role) == (member, "TAM")


def test_manager_sets_a_trait_and_assigns_through_the_page(client):
    boss = manager()
    person = tam()
    account = AccountFactory.create()
    give_arr(account, 240_000)
    client.force_login(boss)
    assert "Top 40" in client.get(reverse("accounts:allocation")).content.decode()
    client.post(
        reverse("accounts:allocation_trait", args=[account.pk]), {"trait": NewOwnerTrait.EU_TAM}
    )
    response = client.post(
        reverse("accounts:allocation_assign", args=[account.pk]),
        {"owner": person.pk, "reason": "Best fit"},
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.owner, account.owner_role) == (person, "TAM")
    assert account.ownership_changes.get().actor == boss


def test_import_page_is_for_revops_and_managers(client):
    client.force_login(tam())
    assert client.get(reverse("accounts:import")).status_code == 403
    client.force_login(revops())
    assert client.get(reverse("accounts:import")).status_code == 200


def test_a_tam_cannot_mark_their_own_account_am_managed_but_can_move_it_to_leads(client):
    me = tam()
    account = AccountFactory.create(owner=me, owner_role=OwnerRole.TAM)
    client.force_login(me)
    url = reverse("accounts:account_book_state", args=[account.pk])
    client.post(url, {"am_managed": "on", "is_lead": "on"})
    account.refresh_from_db()
    assert (account.am_managed, account.is_lead) == (False, True)


def test_a_team_lead_marks_a_team_account_am_managed_and_it_is_noted(client):
    lead = team_lead()
    account = AccountFactory.create(owner=tam(team_lead=lead), owner_role=OwnerRole.TAM)
    client.force_login(lead)
    client.post(reverse("accounts:account_book_state", args=[account.pk]), {"am_managed": "on"})
    account.refresh_from_db()
    assert account.am_managed
    assert Activity.objects.get().summary == "AM managed"


def test_planning_and_allocation_query_counts_do_not_grow(client):
    boss = manager()
    client.force_login(boss)
    counts = []
    for size in (3, 30):
        fill_book(tam(), size)
        AccountFactory.create_batch(size, new_owner_trait=NewOwnerTrait.READY_TO_MOVE)
        with CaptureQueriesContext(connection) as planning:
            client.get(reverse("accounts:planning"))
        with CaptureQueriesContext(connection) as allocation:
            client.get(reverse("accounts:allocation"))
        counts.append((len(planning), len(allocation)))
    assert counts[0] == counts[1]


def test_adding_a_note_needs_a_post(client):
    me = tam()
    account = AccountFactory.create(owner=me, owner_role=OwnerRole.TAM)
    client.force_login(me)
    assert client.get(reverse("accounts:account_note", args=[account.pk])).status_code == 405


def test_crafted_plan_edit_on_another_book_is_refused(client):
    plan = plan_for(AccountFactory.create(owner=tam(), owner_role=OwnerRole.TAM))
    client.force_login(tam())
    response = client.post(reverse("accounts:plan", args=[plan.pk]), {"objectives": "mine"})
    assert response.status_code == 404
    plan.refresh_from_db()
    assert plan.objectives == ""


def test_the_owner_saves_the_plan_sections(client):
    me = tam()
    plan = plan_for(AccountFactory.create(owner=me, owner_role=OwnerRole.TAM))
    client.force_login(me)
    response = client.post(
        reverse("accounts:plan", args=[plan.pk]),
        {"objectives": "Adopt error tracking", "plan_above_20k": "on"},
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.objectives, plan.plan_above_20k) == ("Adopt error tracking", True)


def test_the_sorted_column_shows_its_direction(client):
    me = tam()
    fill_book(me, 2)
    client.force_login(me)
    default = client.get(reverse("accounts:my_book")).content.decode()
    assert '<th class="num" aria-sort="descending"><a' in default and "▼" in default
    by_name = client.get(
        reverse("accounts:my_book"), {"sort": "name", "dir": "asc"}
    ).content.decode()
    assert ' aria-sort="ascending"><a' in by_name and "▲" in by_name
    assert by_name.count("aria-sort=") == 1


def test_my_book_rows_link_to_the_account_and_flag_back_to_the_same_view(client):
    owner = tam()
    account = AccountFactory.create(owner=owner, owner_role="TAM")
    client.force_login(owner)
    page = client.get(reverse("accounts:my_book"), {"sort": "name", "dir": "asc"}).content.decode()
    [row] = page.split('data-testid="book-row"')[1:]
    assert f'<a href="/accounts/{account.pk}/">' in row
    assert f'href="/churn/accounts/{account.pk}/flag/?next=/book/%3Fsort%3Dname%26dir%3Dasc"' in row


def test_my_book_shows_each_owner_their_own_rows_one_after_another(client):
    # The book's statement is compiled once per process (books.book_page_rows):
    # the second owner's page must not read the first's rows.
    for name in ("First", "Second"):
        owner = tam()
        AccountFactory.create(owner=owner, owner_role=OwnerRole.TAM, name=f"{name} Co")
        client.force_login(owner)
        content = client.get(reverse("accounts:my_book"), {"sort": "name"}).content.decode()
        assert f"{name} Co" in content
        assert content.count('data-testid="book-row"') == 1


def test_the_account_page_asks_each_viewer_their_own_permission(client):
    # The page's statement is compiled once per process around each viewer's own
    # permission filter (account_views._visible_or_none): what one person may open
    # must not open it for the next person with the same roles, nor another role.
    owner, other_tam, boss = tam(), tam(), manager()
    account = AccountFactory.create(owner=owner, owner_role=OwnerRole.TAM)
    url = reverse("accounts:account", args=[account.pk])
    for viewer, status in ((boss, 200), (owner, 200), (other_tam, 404), (boss, 200)):
        client.force_login(viewer)
        assert client.get(url).status_code == status, viewer
    lead = team_lead()
    owner.team_lead = lead
    owner.save()
    for viewer, status in ((lead, 200), (team_lead(), 404)):
        client.force_login(viewer)
        assert client.get(url).status_code == status


def test_a_tae_opens_the_account_of_their_open_task_read_only_until_it_closes(client):
    # Reassigned to them as stale: the account is someone else's, the task theirs.
    tae = user_with_role(Role.TAE)
    account = AccountFactory.create(owner=tam(), owner_role=OwnerRole.TAM)
    task = TaskFactory.create(account=account, assignee=tae, status=TaskStatus.IN_PROGRESS)
    client.force_login(tae)
    url = reverse("accounts:account", args=[account.pk])
    note_url = reverse("accounts:account_note", args=[account.pk])

    assert client.get(url).status_code == 200
    assert client.post(note_url, {"summary": "Called them"}).status_code == 403

    task.status = TaskStatus.CONVERTED
    task.save()
    assert client.get(url).status_code == 404


def test_a_book_row_shows_each_figure_with_its_text_escaped(client):
    me = tam()
    account = AccountFactory.create(
        owner=me,
        owner_role=OwnerRole.TAM,
        name='Zoë "Z" <O\'Neil> & co',
        health=Health.POOR,
        is_lead=True,
        last_contact_at=None,
        renewal_date=dt.date(2026, 9, 30),
    )
    give_revenue(account, month=dt.date(2026, 3, 1), session_replay=1500)
    give_revenue(account, session_replay=1000, feature_flags=100)
    client.force_login(me)

    body = client.get(reverse("accounts:my_book")).content.decode()

    name = "Zoë &quot;Z&quot; &lt;O&#x27;Neil&gt; &amp; co"
    flag = f"/churn/accounts/{account.pk}/flag/?next=/book/"
    # ARR 12 x $1,100 (the company's only revenue: Top 40); MoM $1,100 - $1,500; one
    # core product paid over $200; a lead of the owner's own book, no plan this quarter,
    # no contact yet.
    assert (
        '\n      <tr data-testid="book-row">\n'
        f'        <td><a href="/accounts/{account.pk}/">{name}</a>\n'
        '          <span class="badge">Top 40</span>\n'
        '          <span class="badge">Lead</span>\n'
        "          \n"
        "          \n"
        "        </td>\n"
        '        <td class="num" data-testid="arr">$13,200</td>\n'
        '        <td><svg class="sparkline"'
    ) in body
    assert (
        '</svg></td>\n        <td class="num">−$400</td>\n'
        '        <td><span class="badge">Session Replay</span></td>\n'
        '        <td><span class="badge poor">Poor</span></td>\n'
        f'        <td><a href="{flag}" class="small"\n'
        '                        data-testid="flag-churn-risk">Flag churn risk'
        f'<span class="visually-hidden"> for {name}</span></a></td>\n'
        '        <td><span class="badge poor">Missing</span></td>\n'
        "        <td>–</td>\n"
        "        <td>2026-09-30</td>\n"
        "      </tr>\n    "
    ) in body


def test_picking_a_teammates_book_through_htmx_names_it_in_the_heading_and_title(client):
    lead = team_lead()
    mate = tam(team_lead=lead, name="Emeka Zhang")
    fill_book(mate, 2)
    client.force_login(lead)

    response = client.get(
        reverse("accounts:my_book"), {"owner": mate.pk}, headers={"HX-Request": "true"}
    )

    body = response.content.decode()
    assert '<h1 id="book-title" hx-swap-oob="true">Emeka Zhang\'s book</h1>' in body
    assert "<title>Emeka Zhang's book · revopsweb</title>" in body


def test_a_full_page_names_the_book_once_in_its_heading(client):
    me = tam()
    client.force_login(me)

    body = client.get(reverse("accounts:my_book")).content.decode()

    assert body.count('id="book-title"') == 1
    assert '<h1 id="book-title">My book</h1>' in body
    assert "<title>My book · revopsweb</title>" in body


# --- My book of someone who owns no accounts ----------------------------------------------


@pytest.mark.parametrize("make_viewer", [manager, revops, team_lead])
def test_a_viewer_who_owns_no_accounts_lands_on_the_book_picker(
    client, make_viewer, django_assert_num_queries
):
    viewer = make_viewer()
    mate = tam(team_lead=viewer, name="Emeka Zhang")
    fill_book(mate, 2)
    client.force_login(viewer)

    # session, user with their roles, revenue data month, the viewer's totals (the
    # counts; the ARR), the books they may open: no rows of an empty book are read
    with django_assert_num_queries(6):
        body = client.get(reverse("accounts:my_book")).content.decode()

    assert "You own no accounts. Pick a book above to see its accounts." in body
    assert "No accounts match" not in body and 'data-testid="book"' not in body
    picker = body.split('data-testid="owner-filter">', 1)[1].split("</select>", 1)[0]
    assert '<option value="" selected>Choose…</option>' in picker
    assert f'<option value="{mate.pk}"' in picker and picker.count("selected") == 1


def test_the_urls_choice_of_a_book_wins_over_the_picker(client):
    boss = manager()
    mate = tam(name="Emeka Zhang")
    fill_book(mate, 2)
    client.force_login(boss)

    own = client.get(reverse("accounts:my_book"), {"owner": boss.pk}).content.decode()
    theirs = client.get(reverse("accounts:my_book"), {"owner": mate.pk}).content.decode()

    assert "No accounts match." in own and "You own no accounts" not in own
    assert theirs.count('data-testid="book-row"') == 2 and "You own no accounts" not in theirs


def test_an_htmx_request_without_a_book_answers_the_picker_sentence(client):
    boss = manager()
    fill_book(tam(), 1)
    client.force_login(boss)

    body = client.get(reverse("accounts:my_book"), {"q": "acct"}, **HTMX).content.decode()

    assert body.lstrip().startswith('<section id="book-table">')
    assert "You own no accounts. Pick a book above to see its accounts." in body


def test_a_manager_who_owns_accounts_and_a_tam_who_owns_none_land_on_their_own_book(client):
    boss = manager()
    fill_book(boss, 1)
    fill_book(tam(), 1)
    client.force_login(boss)
    assert (
        client.get(reverse("accounts:my_book")).content.decode().count('data-testid="book-row"')
        == 1
    )
    # A TAM may open no other book: an empty book of their own says so.
    client.force_login(tam())
    body = client.get(reverse("accounts:my_book")).content.decode()
    assert "No accounts match." in body and "You own no accounts" not in body
