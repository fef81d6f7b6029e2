"""A handover reason that states a fact is checked against the data (sales/account-
allocation, "Quarterly book planning"): "Book over 15 accounts at quarter start" and
"YC plan $20k–$50k" are refused when the books or the account say otherwise, on the
propose page and in the admin alike (``reason_fact_check``)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse

from accounts.handovers.models import Handover, HandoverReason
from accounts.handovers.tests.handover_factories import csm, fill_top_40, proposed, ready_account
from accounts.models import OwnerRole, Plan
from accounts.ownership import change_account_owner
from accounts.tests.books_factories import LAST_MONTH, give_revenue
from accounts.tests.factories import AccountFactory, revops, tam

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2026, 5, 15, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(NOON, tick=False)
    fill_top_40()


def book_of(owner, count: int, **kwargs) -> list:
    """``count`` more accounts owned by ``owner`` (besides the ready one)."""
    return [AccountFactory.create(owner=owner, owner_role="TAM", **kwargs) for _ in range(count)]


def move(account, new_owner, *, effective_on: dt.date) -> None:
    change_account_owner(
        account=account,
        new_owner=new_owner,
        new_owner_role=OwnerRole.TAM,
        changed_by=None,
        reason="rebalancing",
        source="test",
        effective_on=effective_on,
    )


def test_book_over_15_is_refused_for_a_13_account_book():
    owner = tam(name="Thirteen Tam")
    account = ready_account(owner)
    book_of(owner, 12)
    with pytest.raises(ValidationError) as error:
        proposed(account, csm(), reason=HandoverReason.BOOK_OVER_CAP)
    assert error.value.message_dict["reason"] == [
        "“Book over 15 accounts at quarter start” does not hold: Thirteen Tam's book held "
        "13 accounts on 01 Apr 2026, not over 15."
    ]
    assert not Handover.objects.exists()


def test_book_over_15_is_accepted_for_a_16_account_book():
    owner = tam()
    account = ready_account(owner)
    book_of(owner, 15)
    assert proposed(account, csm(), reason=HandoverReason.BOOK_OVER_CAP).pk


def test_leads_do_not_count_in_the_book_at_quarter_start():
    owner = tam()
    account = ready_account(owner)
    book_of(owner, 12)
    book_of(owner, 5, is_lead=True)
    with pytest.raises(ValidationError, match="held 13 accounts"):
        proposed(account, csm(), reason=HandoverReason.BOOK_OVER_CAP)


def test_the_book_is_counted_as_it_stood_at_quarter_start_not_today():
    """16 at quarter start, three moved away since (effective this quarter): still
    over; 13 at quarter start and four received since: not over."""
    full, filling = tam(), tam()
    account = ready_account(full)
    for given in book_of(full, 15)[:3]:
        move(given, filling, effective_on=dt.date(2026, 5, 1))
    assert proposed(account, csm(), reason=HandoverReason.BOOK_OVER_CAP).pk

    other = ready_account(filling)
    book_of(filling, 9)  # 10 + the 3 received in May: 13 today, 10 at quarter start
    for received in book_of(tam(), 4):
        move(received, filling, effective_on=dt.date(2026, 4, 20))
    with pytest.raises(ValidationError, match="held 10 accounts on 01 Apr 2026"):
        proposed(other, csm(), reason=HandoverReason.BOOK_OVER_CAP)


@pytest.mark.parametrize(
    ("plan", "ok"),
    [(Plan.STARTUP, True), (Plan.MONTHLY, False), (Plan.ANNUAL, False)],
)
def test_the_yc_plan_reason_needs_the_startup_plan(plan, ok):
    account = ready_account(tam(), plan=plan)  # $36,000 ARR
    if ok:
        assert proposed(account, csm(), reason=HandoverReason.YC_PLAN).pk
    else:
        with pytest.raises(ValidationError, match="the YC role takes"):
            proposed(account, csm(), reason=HandoverReason.YC_PLAN)


def test_the_yc_plan_reason_is_refused_above_50k_arr():
    account = ready_account(tam(), plan=Plan.STARTUP)
    give_revenue(account, month=LAST_MONTH, product_analytics=3000)  # $72,000 ARR
    with pytest.raises(ValidationError, match=r"plan at \$72,000 ARR"):
        proposed(account, csm(), reason=HandoverReason.YC_PLAN)


def test_the_propose_page_refuses_a_false_reason_on_the_reason_field(client):
    owner = tam()
    account = ready_account(owner)
    client.force_login(owner)
    response = client.post(
        reverse("handovers:propose", args=[account.pk]),
        {
            "to_role": OwnerRole.CSM,
            "to_owner": csm().pk,
            "reason": HandoverReason.BOOK_OVER_CAP,
        },
    )
    assert response.status_code == 422
    assert response.context["form"].errors["reason"] == [
        f"“Book over 15 accounts at quarter start” does not hold: {owner}'s book held "
        "1 account on 01 Apr 2026, not over 15."
    ]
    assert not Handover.objects.exists()


def _admin_form(handover: Handover, reason: str):
    request = RequestFactory().post("/")
    request.user = revops(is_superuser=True)
    model_admin = admin.site._registry[Handover]
    form_class = model_admin.get_form(request, handover, change=True)
    data = {"reason": reason, "checklist": "{}", "call_at_0": "", "call_at_1": ""}
    return form_class(data=data, instance=handover)


def test_the_admin_refuses_changing_the_reason_to_a_false_one():
    owner = tam()
    handover = proposed(ready_account(owner), csm())
    form = _admin_form(handover, HandoverReason.BOOK_OVER_CAP)
    assert not form.is_valid()
    assert "held 1 account on 01 Apr 2026, not over 15" in form.errors["reason"][0]


def test_the_admin_accepts_changing_the_reason_to_a_true_one():
    owner = tam()
    handover = proposed(ready_account(owner), csm())
    book_of(owner, 15)
    form = _admin_form(handover, HandoverReason.BOOK_OVER_CAP)
    assert form.is_valid(), form.errors
