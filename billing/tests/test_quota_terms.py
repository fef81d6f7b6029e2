"""Quota details that read billing terms (sales/how-we-work, quota section): the annual
run rate, no double dipping, optimisation exclusions and the first two paid invoices."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Account
from accounts.tests.factories import AccountFactory, manager, tam, team_lead
from billing.exclusions import ExclusionError, decide_exclusion, request_exclusion
from billing.models import AnnualContract, ExclusionStatus, Invoice
from billing.quota import tam_quotas
from billing.tests.helpers import month, series

pytestmark = pytest.mark.django_db
Q1, Q2 = month(0), month(3)


def _annual(owner, amounts, *, annual="120000", converted=False, starts=Q1) -> Account:
    account = AccountFactory.create(owner=owner, owner_role="TAM", am_managed=True)
    AnnualContract.objects.create(
        account=account,
        starts_on=starts,
        ends_on=starts + dt.timedelta(days=364),
        annual_amount=Decimal(annual),
        converted_from_monthly=converted,
    )
    series(account, amounts)  # one product: multiplier 0.7
    return account


def _paid(account: Account, n: int = 2) -> None:
    for i in range(n):
        Invoice.objects.create(
            account=account, number=f"INV-{account.pk}-{i}", period=Q1, issued_on=Q1, due_on=Q1,
            amount=Decimal(100), status=Invoice.Status.PAID,
        )  # fmt: skip


def test_only_usage_beyond_the_annual_run_rate_counts():
    owner = tam()
    # $120k contract ($10k a month): $20k invoiced counts $10k (the handbook's example),
    # $9,999 counts nothing but is still invoiced (no churn).
    _annual(owner, [9999, 9999, 9999, 20000, 20000, 20000])
    [row] = tam_quotas(quarter=Q2, tams=[owner], through=month(5))
    [a] = row.accounts
    assert [i.counted for i in a.end_invoices] == [Decimal(10000)] * 3
    assert [i.counted for i in a.start_invoices] == [Decimal(0)] * 3
    assert a.start_arr == Decimal("0.00")
    assert a.end_arr == Decimal("84000.00")  # 4 × 3 × $10,000 × 0.7
    assert "annual run rate $10,000/month not counted" in a.notes


def test_a_month_one_dollar_over_the_line_counts_one_dollar():
    owner = tam()
    _annual(owner, [10000, 10000, 10000, 10001, 10000, 10000])
    [row] = tam_quotas(quarter=Q2, tams=[owner], through=month(5))
    assert [i.counted for i in row.accounts[0].end_invoices] == [Decimal(1), 0, 0]


def test_no_double_dipping_in_the_first_year_of_a_converted_contract():
    owner = tam()
    _annual(owner, [20000] * 6, converted=True)
    [row] = tam_quotas(quarter=Q2, tams=[owner], through=month(5))
    [a] = row.accounts
    assert a.end_arr == Decimal("0.00") and a.contribution == Decimal("0.00")
    assert any("no double dipping" in n for n in a.notes)


def test_commission_waits_for_the_first_two_paid_invoices():
    owner = tam()
    account = AccountFactory.create(owner=owner, owner_role="TAM", am_managed=True)
    series(account, [1000, 1000, 1000, 2000, 2000, 2000])
    _paid(account, 1)
    [row] = tam_quotas(quarter=Q2, tams=[owner], through=month(5))
    assert row.attainment == Decimal("8400.00")  # 4 × 3 × $1,000 × 0.7
    assert row.recognised_attainment == Decimal("0.00")
    assert "commission waits for the first 2 paid invoices (1 paid)" in row.accounts[0].notes
    Invoice.objects.create(
        account=account, number="INV-second", period=Q1, issued_on=Q1, due_on=Q1, amount=Decimal(100),
        status=Invoice.Status.PAID,
    )  # fmt: skip
    [row] = tam_quotas(quarter=Q2, tams=[owner], through=month(5))
    assert row.recognised_attainment == Decimal("8400.00")


def _dropping_account(owner) -> Account:
    account = AccountFactory.create(owner=owner, owner_role="TAM", am_managed=True)
    series(account, [3000, 3000, 3000, 1000, 1000, 1000])  # drop: 4 × 3 × 2000 × 0.7 = 16,800
    _paid(account)
    return account


def test_an_exclusion_counts_only_after_the_team_lead_and_then_a_manager_approve():
    lead = team_lead()
    owner = tam(team_lead=lead)
    boss = manager()
    account = _dropping_account(owner)
    exclusion = request_exclusion(
        account=account, quarter=Q2, amount=Decimal(20000), evidence="Cut bot traffic", by=owner
    )
    assert tam_quotas(quarter=Q2, tams=[owner], through=month(5))[0].attainment == Decimal(
        "-16800.00"
    )
    with pytest.raises(ExclusionError):
        decide_exclusion(exclusion_id=exclusion.pk, by=boss, approve=True)  # lead first
    decide_exclusion(exclusion_id=exclusion.pk, by=lead, approve=True)
    assert tam_quotas(quarter=Q2, tams=[owner], through=month(5))[0].attainment == Decimal(
        "-16800.00"
    )
    done = decide_exclusion(exclusion_id=exclusion.pk, by=boss, approve=True)
    assert done.status == ExclusionStatus.APPROVED
    [row] = tam_quotas(quarter=Q2, tams=[owner], through=month(5))
    # $20,000 asked, but an exclusion only removes the drop: never growth.
    assert row.attainment == Decimal("0.00")
    assert any("16,800 of the drop excluded" in n for n in row.accounts[0].notes)


def test_a_smaller_exclusion_removes_part_of_the_drop_and_needs_evidence():
    lead = team_lead()
    owner = tam(team_lead=lead)
    account = _dropping_account(owner)
    with pytest.raises(ExclusionError):
        request_exclusion(account=account, quarter=Q2, amount=Decimal(5000), evidence=" ", by=owner)
    e = request_exclusion(
        account=account, quarter=Q2, amount=Decimal(5000), evidence="Sampling", by=owner
    )
    decide_exclusion(exclusion_id=e.pk, by=lead, approve=True)
    decide_exclusion(exclusion_id=e.pk, by=manager(), approve=True)
    [row] = tam_quotas(quarter=Q2, tams=[owner], through=month(5))
    assert row.attainment == Decimal("-11800.00")


def test_a_declined_exclusion_needs_a_reason_and_changes_nothing():
    lead = team_lead()
    owner = tam(team_lead=lead)
    account = _dropping_account(owner)
    e = request_exclusion(account=account, quarter=Q2, amount=Decimal(1), evidence="x", by=owner)
    with pytest.raises(ExclusionError):
        decide_exclusion(exclusion_id=e.pk, by=lead, approve=False, reason="")
    decide_exclusion(exclusion_id=e.pk, by=lead, approve=False, reason="Churn, not optimisation")
    with pytest.raises(ExclusionError):
        decide_exclusion(exclusion_id=e.pk, by=manager(), approve=True)
    assert tam_quotas(quarter=Q2, tams=[owner], through=month(5))[0].attainment == Decimal(
        "-16800.00"
    )


def test_quota_page_shows_what_counted_what_was_excluded_and_why(client):
    lead = team_lead()
    owner = tam(team_lead=lead, quarterly_quota=Decimal(100000))
    _annual(owner, [9999, 9999, 9999, 20000, 20000, 20000])
    client.force_login(lead)
    html = client.get(reverse("billing:quota"), {"quarter": "2026Q2", "tam": owner.pk})
    html = html.content.decode()
    assert "$10,000 of $20,000" in html
    assert "annual run rate $10,000/month not counted" in html
    assert "commission pending" in html


def test_exclusion_request_and_approvals_through_the_page(client):
    lead = team_lead()
    owner = tam(team_lead=lead, quarterly_quota=Decimal(100000))
    account = _dropping_account(owner)
    client.force_login(owner)
    url = reverse("billing:request_exclusion", args=[account.pk])
    form = {"quarter": "2026Q2", "tam": owner.pk, "amount": "16800", "evidence": "Sampling"}
    response = client.post(url, form)
    # Back to where the form was: the owner's group of accounts, open.
    assert (
        response.url == f"{reverse('billing:quota')}?quarter=2026Q2&tam={owner.pk}#tam-{owner.pk}"
    )
    exclusion = account.optimisation_exclusions.get()
    decide = reverse("billing:decide_exclusion", args=[exclusion.pk])
    client.post(decide, {"quarter": "2026Q2", "approve": "true"})  # the TAM cannot decide
    exclusion.refresh_from_db()
    assert exclusion.status == ExclusionStatus.REQUESTED
    client.force_login(lead)
    client.post(decide, {"quarter": "2026Q2", "approve": "true"})
    client.force_login(manager())
    client.post(decide, {"quarter": "2026Q2", "approve": "true"})
    exclusion.refresh_from_db()
    assert exclusion.status == ExclusionStatus.APPROVED
    html = client.get(reverse("billing:quota"), {"quarter": "2026Q2", "tam": owner.pk})
    html = html.content.decode()
    assert "Optimisation exclusions" in html and "16,800 of the drop excluded" in html


def test_the_quota_page_lists_only_the_exclusions_of_the_books_shown(client):
    lead = team_lead()
    mine, theirs = tam(team_lead=lead), tam(team_lead=lead)
    for owner, evidence in ((mine, "Mine: sampling"), (theirs, "Theirs: sampling")):
        request_exclusion(
            account=_dropping_account(owner), quarter=Q2, amount=Decimal(1000),
            evidence=evidence, by=owner,
        )  # fmt: skip
    client.force_login(mine)
    html = client.get(reverse("billing:quota"), {"quarter": "2026Q2"}).content.decode()
    assert "Mine: sampling" in html and "Theirs: sampling" not in html
    client.force_login(lead)
    html = client.get(reverse("billing:quota"), {"quarter": "2026Q2"}).content.decode()
    assert "Mine: sampling" in html and "Theirs: sampling" in html


def test_hostile_posts_to_the_exclusion_actions_are_answered_without_a_500(client):
    lead = team_lead()
    owner = tam(team_lead=lead)
    account = _dropping_account(owner)
    client.force_login(owner)
    url = reverse("billing:request_exclusion", args=[account.pk])
    for data in (
        {"quarter": "2026Q2\r\nX: y", "amount": "1e9", "evidence": "a\x00b"},
        {"quarter": "9999Q9", "amount": "10", "evidence": "x"},
        {"quarter": "2026Q2", "amount": "99999999999999", "evidence": "x"},
    ):
        assert client.post(url, data).status_code in (302, 400)  # 400: NUL refused up front
    assert not account.optimisation_exclusions.exists()
    decide = reverse("billing:decide_exclusion", args=[999999])
    assert client.post(decide, {"approve": "true"}).status_code == 404
