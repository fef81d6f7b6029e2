from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from accounts.books import (
    Queue,
    Removal,
    allocation_queue,
    assign_account,
    book_rows,
    book_totals,
    full_book_reason,
    plan_books,
    set_new_owner_trait,
    suggested_trait,
    team_book_totals,
)
from accounts.models import Account, NewOwnerTrait, OwnerRole, Plan, Region, User
from accounts.permissions import can_edit_account, visible_accounts
from accounts.roles import Role
from accounts.segments import with_revenue
from accounts.tests.books_factories import (
    LAST_MONTH,
    TODAY,
    fully_expanded,
    give_arr,
    give_revenue,
    grant_credits,
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
from billing.models import CreditGrantKind, Product

pytestmark = pytest.mark.django_db


def book(
    owner: User, n: int, *, arr: int = 0, role: str = OwnerRole.TAM, **kwargs
) -> list[Account]:
    accounts = AccountFactory.create_batch(n, owner=owner, owner_role=role, **kwargs)
    if arr:
        for account in accounts:
            give_arr(account, arr)
    return accounts


# --- totals and caps ---------------------------------------------------------------


def test_book_totals_count_accounts_and_arr_without_leads():
    owner = tam()
    book(owner, 3, arr=120_000)
    book(owner, 2, arr=120_000, is_lead=True)
    totals = book_totals(owner, today=TODAY)
    assert (totals.accounts, totals.leads, totals.arr) == (3, 2, Decimal(360_000))


def _book_with_credits(owner: User) -> None:
    """$120,000 ARR on usage; $600,000 of usage on startup credits ($0); $1,200 of usage
    under a $96,000 enterprise purchase ($96,000 ARR): $216,000 by billing configuration."""
    (usage,) = book(owner, 1, arr=120_000)
    (startup,) = book(owner, 1, arr=600_000, plan=Plan.STARTUP)
    grant_credits(startup, CreditGrantKind.STARTUP)
    (enterprise,) = book(owner, 1, arr=1_200, plan=Plan.ANNUAL)
    grant_credits(enterprise, CreditGrantKind.ENTERPRISE, paid_amount=Decimal(96_000))


def test_book_arr_is_by_billing_configuration_as_its_rows_show_it():
    owner = tam()
    _book_with_credits(owner)

    totals = book_totals(owner, today=TODAY)

    rows = with_revenue(Account.objects.filter(owner=owner), today=TODAY, month=LAST_MONTH)
    assert totals.arr == sum(row.arr for row in rows) == Decimal(216_000)


def test_a_team_leads_team_books_read_arr_as_each_book_does():
    lead = team_lead()
    owner = tam(team_lead=lead)
    _book_with_credits(owner)

    ((person, totals),) = team_book_totals(lead, today=TODAY, month=LAST_MONTH)

    assert person == owner
    assert totals.arr == book_totals(owner, today=TODAY).arr == Decimal(216_000)


def test_a_tam_book_of_fifteen_is_within_the_maximum_and_sixteen_is_over():
    owner = tam()
    book(owner, 15)
    assert not any("maximum" in w for w in book_totals(owner, today=TODAY).warnings)
    book(owner, 1)
    assert any("over the maximum of 15" in w for w in book_totals(owner, today=TODAY).warnings)


def test_the_hard_cap_of_twenty_five_includes_leads():
    owner = tam()
    book(owner, 15)
    book(owner, 10, is_lead=True)
    assert not any("hard cap" in w for w in book_totals(owner, today=TODAY).warnings)
    book(owner, 1, is_lead=True)
    assert any("hard cap of 25" in w for w in book_totals(owner, today=TODAY).warnings)


def test_a_csm_book_targets_about_thirty_accounts():
    owner = user_with_role(Role.CSM)
    book(owner, 31, role=OwnerRole.CSM)
    totals = book_totals(owner, today=TODAY)
    assert totals.role == OwnerRole.CSM
    assert totals.hard_cap is None
    assert any("about 30" in w for w in totals.warnings)


def test_round_robin_skips_a_tam_at_fifteen_am_managed_accounts():
    owner = tam()
    book(owner, 14, am_managed=True)
    book(owner, 5, am_managed=False)
    assert full_book_reason(owner, today=TODAY) == ""
    book(owner, 1, am_managed=True)
    assert "15 AM-managed accounts" in full_book_reason(owner, today=TODAY)


def test_round_robin_skips_a_tam_at_one_and_a_half_million_am_managed_arr():
    owner = tam()
    book(owner, 1, arr=1_499_988, am_managed=True)
    assert full_book_reason(owner, today=TODAY) == ""
    book(owner, 1, arr=12, am_managed=True)
    assert "$1,500,000" in full_book_reason(owner, today=TODAY)


# --- planning ------------------------------------------------------------------------


def candidates(owner: User) -> dict[int, list[str]]:
    (plan,) = plan_books(User.objects.filter(pk=owner.pk), today=TODAY)
    return {account.pk: reasons for account, reasons in plan.candidates}


def test_accounts_below_twenty_thousand_leave_unless_a_plan_documents_the_way_up():
    owner = tam()
    churned, small, planned, healthy = book(owner, 4)
    give_arr(small, 19_992)
    give_arr(planned, 19_992)
    give_arr(healthy, 24_000)
    plan_for(planned, plan_above_20k=True)
    found = candidates(owner)
    assert found[churned.pk] == [Removal.CHURNED]
    assert found[small.pk] == [Removal.BELOW_20K]
    assert planned.pk not in found
    assert healthy.pk not in found


def test_last_quarters_plan_does_not_count_as_documented():
    owner = tam()
    (account,) = book(owner, 1, arr=12_000)
    plan_for(account, quarter_start=dt.date(2026, 1, 1), plan_above_20k=True)
    assert candidates(owner)[account.pk] == [Removal.BELOW_20K]


def test_yc_plan_accounts_between_twenty_and_fifty_thousand_go_to_the_yc_role():
    owner = tam()
    inside, above = book(owner, 2, plan=Plan.STARTUP)
    give_arr(inside, 49_992)
    give_arr(above, 50_004)
    found = candidates(owner)
    assert found[inside.pk] == [Removal.YC_PLAN]
    assert above.pk not in found


def test_fully_expanded_needs_all_three_core_products_and_a_discount_agreement():
    owner = tam()
    done, no_discount = book(owner, 2)
    Account.objects.filter(pk=done.pk).update(has_discount_agreement=True)
    fully_expanded(done, each=20_000)
    fully_expanded(no_discount, each=20_000)
    found = candidates(owner)
    assert found[done.pk] == [Removal.FULLY_EXPANDED]
    assert no_discount.pk not in found


def test_fully_expanded_is_not_suggested_while_the_plan_documents_a_growth_lever():
    owner = tam()
    with_objective, with_cross_sell, without = book(owner, 3)
    for account in (with_objective, with_cross_sell, without):
        Account.objects.filter(pk=account.pk).update(has_discount_agreement=True)
        fully_expanded(account, each=20_000)
    plan_for(with_objective, objectives="Move their web team onto Web analytics by June.")
    plan_for(with_cross_sell, products_cross_sell="Data warehouse for the finance team.")
    plan_for(without, objectives="  ", overview="Steady; renewal in March.")
    found = candidates(owner)
    assert with_objective.pk not in found
    assert with_cross_sell.pk not in found
    assert found[without.pk] == [Removal.FULLY_EXPANDED]


def test_a_documented_no_viable_levers_makes_a_fully_expanded_account_a_csm_candidate():
    owner = tam()
    (account,) = book(owner, 1)
    Account.objects.filter(pk=account.pk).update(has_discount_agreement=True)
    fully_expanded(account, each=20_000)
    plan_for(
        account,
        objectives="Was: cross-sell surveys.",
        no_viable_levers=True,
        levers_tried="Pitched surveys twice; no budget this year.",
    )
    assert candidates(owner)[account.pk] == [Removal.FULLY_EXPANDED, Removal.NO_LEVERS]


def test_fully_expanded_follows_the_catalogs_core_flag_not_a_count_of_three():
    owner = tam()
    (account,) = book(owner, 1)
    Account.objects.filter(pk=account.pk).update(has_discount_agreement=True)
    fully_expanded(account, each=20_000)
    Product.objects.filter(key="surveys").update(is_core=True)

    assert account.pk not in candidates(owner)

    give_revenue(account, surveys=20_000)
    assert candidates(owner)[account.pk] == [Removal.FULLY_EXPANDED]


def test_no_viable_levers_counts_only_with_what_was_tried():
    owner = tam()
    tried, untried = book(owner, 2, arr=100_000)
    plan_for(tried, no_viable_levers=True, levers_tried="Pitched surveys twice; no budget.")
    plan_for(untried, no_viable_levers=True, levers_tried="")
    found = candidates(owner)
    assert found[tried.pk] == [Removal.NO_LEVERS]
    assert untried.pk not in found


def test_planning_marks_books_over_fifteen():
    big, small = tam(), tam()
    book(big, 16, arr=30_000)
    book(small, 15, arr=30_000)
    plans = {p.owner.pk: p for p in plan_books(User.objects.all(), today=TODAY)}
    assert plans[big.pk].over_max and plans[big.pk].excess == 1
    assert not plans[small.pk].over_max


# --- allocation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "all_core", "expected"),
    [
        (Region.US, True, NewOwnerTrait.US_CSM),
        (Region.US, False, NewOwnerTrait.US_TAM),
        (Region.EU, True, NewOwnerTrait.EU_CSM),
        (Region.EU, False, NewOwnerTrait.EU_TAM),
        ("", True, ""),
    ],
)
def test_new_owner_trait_is_suggested_from_region_and_products(region, all_core, expected):
    assert suggested_trait(region=region, all_core_paid=all_core) == expected


def test_allocation_lists_each_queue_once_with_its_reason():
    unowned = AccountFactory.create(region=Region.EU)
    fully_expanded(unowned, each=1000)  # ARR 36,000
    small_unowned = AccountFactory.create()
    give_arr(small_unowned, 12_000)
    flagged = AccountFactory.create(new_owner_trait=NewOwnerTrait.READY_TO_MOVE)
    csm = user_with_role(Role.CSM)
    (growable,) = book(csm, 1, role=OwnerRole.CSM)
    (expanded,) = book(csm, 1, role=OwnerRole.CSM)
    fully_expanded(expanded)
    crowded = tam()
    book(crowded, 16)
    rows = {a.pk: (reasons, trait) for a, reasons, trait in allocation_queue(today=TODAY)}
    assert rows[unowned.pk] == ([Queue.UNOWNED_20K], NewOwnerTrait.EU_CSM)
    assert small_unowned.pk not in rows
    assert rows[flagged.pk][0] == [Queue.HANDOVER]
    assert rows[growable.pk][0] == [Queue.CSM_EXPANSION]
    assert expanded.pk not in rows
    assert sum(1 for reasons, _ in rows.values() if Queue.TAM_OVER_15 in reasons) == 16


def test_only_a_manager_sets_the_new_owner_trait():
    account = AccountFactory.create()
    with pytest.raises(PermissionDenied):
        set_new_owner_trait(account=account, trait=NewOwnerTrait.US_TAM, by=team_lead())
    set_new_owner_trait(account=account, trait=NewOwnerTrait.US_TAM, by=manager())
    account.refresh_from_db()
    assert account.new_owner_trait == NewOwnerTrait.US_TAM
    assert account.activities.get().summary == "New owner trait set to US TAM"


def test_team_lead_assigns_a_team_member_with_the_traits_role_and_history():
    lead = team_lead()
    member = tam(team_lead=lead)
    account = AccountFactory.create(new_owner_trait=NewOwnerTrait.US_CSM)
    change = assign_account(
        account=account,
        new_owner=member,
        by=lead,
        reason="Region fit",
        today=TODAY,
        is_top_40=False,
    )
    account.refresh_from_db()
    assert (account.owner, account.owner_role, account.new_owner_trait) == (member, "CSM", "")
    assert (change.actor, change.effective_on, change.source) == (lead, TODAY, "allocation")


def test_a_team_lead_cannot_assign_outside_their_team():
    lead = team_lead()
    with pytest.raises(PermissionDenied):
        assign_account(
            account=AccountFactory.create(),
            new_owner=tam(),
            by=lead,
            reason="x",
            today=TODAY,
            is_top_40=False,
        )


def test_moving_an_am_managed_account_takes_effect_at_quarter_end():
    boss = manager()
    account = AccountFactory.create(owner=tam(), owner_role=OwnerRole.TAM, am_managed=True)
    change = assign_account(
        account=account, new_owner=tam(), by=boss, reason="Rebalance", today=TODAY, is_top_40=False
    )
    assert change.effective_on == dt.date(2026, 7, 1)


def test_only_a_manager_changes_the_owner_of_a_top_40_account():
    lead = team_lead()
    member = tam(team_lead=lead)
    account = AccountFactory.create()
    with pytest.raises(PermissionDenied):
        assign_account(
            account=account, new_owner=member, by=lead, reason="x", today=TODAY, is_top_40=True
        )
    assert Account.objects.get(pk=account.pk).owner is None
    assign_account(
        account=account, new_owner=member, by=manager(), reason="x", today=TODAY, is_top_40=True
    )
    assert Account.objects.get(pk=account.pk).owner == member


# --- who sees what -----------------------------------------------------------------------


def test_visibility_by_role():
    lead = team_lead()
    member, stranger = tam(team_lead=lead), tam()
    mine = AccountFactory.create(owner=member, owner_role=OwnerRole.TAM)
    theirs = AccountFactory.create(owner=stranger, owner_role=OwnerRole.TAM)
    overlay = AccountFactory.create(owner=stranger, owner_role=OwnerRole.CSM, tam_overlay=member)
    assert set(visible_accounts(member)) == {mine, overlay}
    assert set(visible_accounts(lead)) == {mine}
    assert set(visible_accounts(manager())) == {mine, theirs, overlay}
    assert set(visible_accounts(revops())) == {mine, theirs, overlay}
    assert can_edit_account(lead, mine) and not can_edit_account(lead, theirs)
    assert can_edit_account(member, overlay) and not can_edit_account(member, theirs)


def test_new_accounts_with_no_previous_owner_get_a_three_month_grace_period():
    from accounts.books import annotate_for_book
    from accounts.ownership import change_account_owner

    owner, previous = tam(), tam()
    fresh, old, handed = AccountFactory.create_batch(3)
    for account, since, before in (
        (fresh, dt.date(2026, 3, 1), None),
        (old, dt.date(2026, 2, 14), None),
        (handed, dt.date(2026, 3, 1), previous),
    ):
        if before is not None:
            change_account_owner(
                account=account,
                new_owner=before,
                new_owner_role="TAM",
                changed_by=None,
                reason="first",
                source="test",
                effective_on=dt.date(2025, 1, 1),
            )
        change_account_owner(
            account=account,
            new_owner=owner,
            new_owner_role="TAM",
            changed_by=None,
            reason="assign",
            source="test",
            effective_on=since,
        )
    rows = annotate_for_book(Account.objects.all(), today=TODAY)
    graced = {a.pk for a in rows if a.in_grace_period}
    assert graced == {fresh.pk}


# --- book rows, their expressions built once a day ------------------------------------


def test_book_rows_are_each_owners_own_with_revenue_read_at_each_call():
    ann, bo = tam(), tam()
    mine = AccountFactory.create(owner=ann, owner_role=OwnerRole.TAM)
    theirs = AccountFactory.create(owner=bo, owner_role=OwnerRole.TAM)
    give_arr(mine, 24_000)
    give_arr(theirs, 36_000)
    assert [(a.pk, a.arr) for a in book_rows(ann, today=TODAY, month=LAST_MONTH)] == [
        (mine.pk, Decimal(24_000))
    ]
    assert [(a.pk, a.arr) for a in book_rows(bo, today=TODAY, month=LAST_MONTH)] == [
        (theirs.pk, Decimal(36_000))
    ]
    # The built expressions are kept; the figures are read again.
    give_arr(AccountFactory.create(owner=ann, owner_role=OwnerRole.TAM), 12_000)
    assert sorted(a.arr for a in book_rows(ann, today=TODAY, month=LAST_MONTH)) == [
        Decimal(12_000),
        Decimal(24_000),
    ]
