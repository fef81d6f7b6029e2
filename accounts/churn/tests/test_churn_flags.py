from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from accounts.churn.flags import (
    ChurnError,
    close_flag,
    escalate_flag,
    flag_account,
    post_weekly_status,
    unflag,
    write_retro,
)
from accounts.churn.models import ChurnRiskFlag, ChurnSignal, FlagStatus, RootCause
from accounts.churn.review import churn_risk_account_ids, overdue_retro_flags, suggested_account_ids
from accounts.churn.tests.churn_helpers import NOW, THIS_MONDAY, TODAY, owned_account
from accounts.models import Account
from accounts.tests.factories import manager, tam, team_lead
from billing.tests.factories import MonthlyRevenueFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


def _flag(account, by=None, **kwargs):
    return flag_account(account=account, by=by or account.owner, triggers="usage down", **kwargs)


def test_owner_flags_an_account_into_the_churn_risk_segment_with_arr_and_signals():
    account = owned_account()
    MonthlyRevenueFactory.create(account=account, month=dt.date(2026, 10, 1), amount=Decimal(4000))
    MonthlyRevenueFactory.create(account=account, month=dt.date(2026, 9, 1), amount=Decimal(9000))
    ChurnSignal.objects.create(account=account, kind="few_active_users", detected_on=TODAY)
    flag = _flag(account, known="CTO left", help_needed="exec call", owner_actions="QBR")
    assert flag.arr_at_flag == Decimal(48000)
    assert flag.signal_kinds == ["few_active_users"]
    assert flag.raised_by == account.owner and flag.raised_at == NOW
    assert churn_risk_account_ids(Account.objects.all()) == {account.pk}


def test_suggested_accounts_have_an_open_signal_and_no_flag():
    signalled, flagged, cleared, quiet = (owned_account() for _ in range(4))
    for account in (signalled, flagged):
        ChurnSignal.objects.create(account=account, kind="data_export", detected_on=TODAY)
    ChurnSignal.objects.create(
        account=cleared, kind="data_export", detected_on=TODAY, cleared_on=TODAY
    )
    _flag(flagged)
    assert suggested_account_ids(Account.objects.all()) == {signalled.pk}
    assert churn_risk_account_ids(Account.objects.all()) == {flagged.pk}
    assert quiet.pk not in suggested_account_ids(Account.objects.all())


def test_the_owners_team_lead_and_a_manager_may_flag():
    lead = team_lead()
    account = owned_account(owner=tam(team_lead=lead))
    _flag(account, by=lead)
    other = owned_account()
    _flag(other, by=manager())
    assert churn_risk_account_ids(Account.objects.all()) == {account.pk, other.pk}


@pytest.mark.parametrize("who", ["another_tam", "another_team_lead"])
def test_others_may_not_flag(who):
    account = owned_account(owner=tam(team_lead=team_lead()))
    by = tam() if who == "another_tam" else team_lead()
    with pytest.raises(PermissionDenied):
        _flag(account, by=by)
    assert not ChurnRiskFlag.objects.exists()


def test_an_account_has_one_open_flag_and_keeps_its_history():
    account = owned_account()
    first = _flag(account)
    with pytest.raises(ChurnError):
        _flag(account)
    close_flag(flag=first, by=account.owner, status=FlagStatus.RESOLVED, note="usage back")
    second = _flag(account)
    assert list(ChurnRiskFlag.objects.filter(account=account).order_by("id")) == [first, second]
    first.refresh_from_db()
    assert (first.status, first.closed_by, first.closed_at, first.close_note) == (
        FlagStatus.RESOLVED,
        account.owner,
        NOW,
        "usage back",
    )


def test_unflag_takes_the_account_out_of_the_segment_but_keeps_the_row():
    account = owned_account()
    flag = _flag(account)
    unflag(flag=flag, by=account.owner, note="flagged the wrong account")
    flag.refresh_from_db()
    assert flag.status == FlagStatus.REMOVED and flag.closed_at == NOW
    assert churn_risk_account_ids(Account.objects.all()) == set()


def test_closing_twice_is_refused():
    account = owned_account()
    flag = _flag(account)
    close_flag(flag=flag, by=account.owner, status=FlagStatus.CHURNED)
    with pytest.raises(ChurnError):
        close_flag(flag=flag, by=account.owner, status=FlagStatus.RESOLVED)


def test_weekly_status_is_one_per_week_and_a_repost_replaces_it():
    account = owned_account()
    flag = _flag(account)
    post_weekly_status(flag=flag, by=account.owner, tried="call", trend="no_change")
    update = post_weekly_status(flag=flag, by=account.owner, tried="call + demo", trend="improving")
    assert flag.status_updates.count() == 1
    assert (update.week, update.tried, update.trend) == (THIS_MONDAY, "call + demo", "improving")


def test_escalation_records_who_was_pulled_in_without_changing_owner():
    account = owned_account()
    owner = account.owner
    flag = _flag(account)
    escalation = escalate_flag(
        flag=flag, by=owner, team="engineering", person="Ingestion team", note="dropped events"
    )
    account.refresh_from_db()
    assert account.owner == owner
    assert (escalation.team, escalation.person, escalation.escalated_by) == (
        "engineering",
        "Ingestion team",
        owner,
    )


def test_a_churned_flag_without_a_retro_is_overdue_after_one_week():
    account = owned_account()
    flag = _flag(account)
    close_flag(flag=flag, by=account.owner, status=FlagStatus.CHURNED)
    flags = ChurnRiskFlag.objects.all()
    assert not overdue_retro_flags(flags, now=NOW + dt.timedelta(days=7)).exists()
    assert list(overdue_retro_flags(flags, now=NOW + dt.timedelta(days=7, seconds=1))) == [flag]
    write_retro(
        flag=flag,
        by=account.owner,
        what_happened="moved to a competitor",
        root_cause=RootCause.PRICE,
        learnings="talk price earlier",
    )
    assert not overdue_retro_flags(flags, now=NOW + dt.timedelta(days=30)).exists()


def test_only_churned_flags_get_a_retro():
    account = owned_account()
    flag = _flag(account)
    with pytest.raises(ChurnError):
        write_retro(
            flag=flag, by=account.owner, what_happened="x", root_cause="price", learnings="y"
        )


@pytest.mark.parametrize(
    ("months", "arr"),
    [
        ({dt.date(2026, 11, 1): 9000, dt.date(2026, 8, 1): 1000}, Decimal(12000)),
        ({dt.date(2026, 7, 1): 1000}, Decimal(0)),
    ],
)
def test_arr_at_flag_is_twelve_times_the_latest_complete_month(months, arr):
    account = owned_account()
    for month, amount in months.items():
        MonthlyRevenueFactory.create(account=account, month=month, amount=Decimal(amount))
    assert _flag(account).arr_at_flag == arr
