"""Billing terms in (issue 17 part B): each kind's CSV through its one row form, all or
nothing, upsert by natural key, and the account columns projected from the facts."""

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps

from accounts.models import Account, Plan
from accounts.tests.factories import AccountFactory
from billing.models import (
    AnnualContract,
    CreditGrant,
    ForecastMrr,
    OneTimeCredit,
    Trial,
    TrialExtension,
)
from billing.term_imports import (
    AnnualContractImport,
    CreditGrantImport,
    ForecastMrrImport,
    OneTimeCreditImport,
    TrialExtensionImport,
    TrialImport,
)
from billing.terms import refresh_account_terms
from revopsweb.imports import ImportKind

pytestmark = pytest.mark.django_db


def csv(kind: type[ImportKind[Any]], *rows: str) -> str:
    return ",".join(kind.header) + "\n" + "".join(r + "\n" for r in rows)


def test_credit_grant_import_upserts_and_projects_the_latest_grant_onto_the_account():
    account = AccountFactory.create(organization_id="org_1", plan=Plan.STARTUP)
    text = csv(
        CreditGrantImport,
        "org_1,startup,2025-03-01,2026-03-01,50000,12000.50,,",
        "org_1,startup,2026-03-01,2027-03-01,25000,25000,0,",
    )
    result = CreditGrantImport().run_csv(text, dry_run=False)
    assert result.applied and result.created == 2
    account.refresh_from_db()
    assert account.credit_balance == Decimal(25000)
    assert account.credit_expires_on == dt.date(2027, 3, 1)

    again = CreditGrantImport().run_csv(text, dry_run=False)
    assert again.updated == 2 and CreditGrant.objects.count() == 2


def test_a_bad_row_anywhere_applies_nothing_and_names_line_and_column():
    AccountFactory.create(organization_id="org_1")
    text = csv(
        CreditGrantImport,
        "org_1,startup,2026-01-01,2027-01-01,5000,100,,",
        "org_1,startup,2026-02-01,2026-02-01,5000,100,,",
        "org_1,enterprise,2026-03-01,2027-03-01,5000,6000,4000,",
        "org_1,startup,2026-04-01,2027-04-01,5000,100,10,",
        "org_1,gift,2026-05-01,2027-05-01,5000,100,,",
        "org_1,enterprise,2026-06-01,2027-06-01,5000,100,,",
    )
    result = CreditGrantImport().run_csv(text, dry_run=False)
    assert not result.applied and CreditGrant.objects.count() == 0
    assert [(e.line, e.column) for e in result.errors] == [
        (3, "expires_on"),
        (4, "balance"),
        (5, "paid_amount"),
        (6, "kind"),
        (7, "paid_amount"),
    ]


def test_annual_contract_sets_the_discount_fraction_and_refuses_a_free_contract():
    account = AccountFactory.create(organization_id="org_1", plan=Plan.ANNUAL)
    ok = AnnualContractImport().run_csv(
        csv(AnnualContractImport, "org_1,2026-01-01,2026-12-31,120000,20,false"), dry_run=False
    )
    assert ok.applied
    account.refresh_from_db()
    assert account.annual_discount == Decimal("0.200")
    assert AnnualContract.objects.get().run_rate == Decimal(10000)
    bad = AnnualContractImport().run_csv(
        csv(AnnualContractImport, "org_1,2027-01-01,2027-12-31,0,20,false"), dry_run=False
    )
    assert [(e.line, e.column) for e in bad.errors] == [(2, "annual_amount")]


def _trial(deal: str, starts: str, ends: str, reason: str = "", kind: str = "sales_assisted"):
    return TrialImport().run_csv(
        csv(TrialImport, f"org_1,{kind},,{starts},{ends},{deal},{reason},,Dashboards live,"),
        dry_run=True,
    )


@pytest.mark.parametrize(
    ("deal", "ends", "reason", "ok"),
    [
        ("45000", "2026-03-15", "", True),  # 14 days: the 2-week default
        ("45000", "2026-03-16", "", False),  # 15 days
        ("60000", "2026-03-16", "", False),  # $60K is still the 2-week band
        ("60000.01", "2026-03-29", "", True),  # over $60K: 4 weeks (28 days)
        ("60000.01", "2026-03-30", "", False),  # 29 days
        ("30000", "2026-03-29", "complex_environment", True),  # a reason the page gives
    ],
)
def test_trial_length_follows_the_deal_value_band(deal, ends, reason, ok):
    AccountFactory.create(organization_id="org_1")
    result = _trial(deal, "2026-03-01", ends, reason)
    assert result.ok is ok
    if not ok:
        assert [e.column for e in result.errors] == ["ends_on"]


def test_a_sales_trial_below_the_sales_assist_threshold_is_refused_but_free_usage_is_not():
    AccountFactory.create(organization_id="org_1")
    assert [e.column for e in _trial("19999.99", "2026-03-01", "2026-03-10").errors] == ["deal_arr"]
    assert _trial("20000", "2026-03-01", "2026-03-10").ok
    assert _trial("", "2026-03-01", "2026-05-10", kind="free_usage").ok


@pytest.mark.parametrize(("days", "ok"), [(6, False), (7, True), (30, True), (31, False)])
def test_extensions_are_7_to_30_days_and_move_the_trial_end(days, ok):
    account = AccountFactory.create(organization_id="org_1")
    TrialImport().run_csv(
        csv(TrialImport, "org_1,sales_assisted,,2026-03-01,2026-03-15,45000,,,,"), dry_run=False
    )
    result = TrialExtensionImport().run_csv(
        csv(
            TrialExtensionImport,
            f"org_1,sales_assisted,2026-03-01,2026-03-12,{days},CTO on leave,"
            "Intro to the VP Engineering",
        ),
        dry_run=False,
    )
    assert result.applied is ok
    account.refresh_from_db()
    if ok:
        assert account.trial_ends_on == dt.date(2026, 3, 15) + dt.timedelta(days=days)
        assert TrialExtension.objects.get().get == "Intro to the VP Engineering"
    else:
        assert [e.column for e in result.errors] == ["days"]
        assert account.trial_ends_on == dt.date(2026, 3, 15)


def test_an_extension_of_a_trial_that_does_not_exist_is_refused():
    AccountFactory.create(organization_id="org_1")
    result = TrialExtensionImport().run_csv(
        csv(TrialExtensionImport, "org_1,cross_sell,2026-03-01,2026-03-12,7,Why,Get"),
        dry_run=False,
    )
    assert [(e.line, e.column) for e in result.errors] == [(2, "trial_starts_on")]


def test_one_time_credit_reasons_are_the_seven_and_the_natural_key_upserts():
    AccountFactory.create(organization_id="org_1")
    first = OneTimeCreditImport().run_csv(
        csv(OneTimeCreditImport, "org_1,2026-01,incident,500,Outage 12 Jan,"), dry_run=False
    )
    second = OneTimeCreditImport().run_csv(
        csv(OneTimeCreditImport, "org_1,2026-01,incident,750,Outage 12 Jan,"), dry_run=False
    )
    assert first.created == 1 and second.updated == 1
    assert OneTimeCredit.objects.get().amount == Decimal(750)
    bad = OneTimeCreditImport().run_csv(
        csv(OneTimeCreditImport, "org_1,2026-01,goodwill,500,,"), dry_run=False
    )
    assert [e.column for e in bad.errors] == ["reason"]


def test_forecast_mrr_projects_the_latest_period():
    account = AccountFactory.create(organization_id="org_1")
    ForecastMrrImport().run_csv(
        csv(ForecastMrrImport, "org_1,2026-04-30,900", "org_1,2026-05-31,1200"), dry_run=False
    )
    account.refresh_from_db()
    assert account.forecasted_mrr == Decimal(1200)
    assert account.current_period_ends_on == dt.date(2026, 5, 31)
    ForecastMrr.objects.filter(period_ends_on=dt.date(2026, 5, 31)).delete()
    refresh_account_terms(account_ids=[account.pk])
    account.refresh_from_db()
    assert account.forecasted_mrr == Decimal(900)


def test_the_data_migration_keeps_every_account_value():
    migration = importlib.import_module("billing.migrations.0005_billing_terms_from_accounts")
    startup = AccountFactory.create(
        plan=Plan.STARTUP, credit_balance=Decimal(4200), credit_expires_on=dt.date(2026, 9, 1)
    )
    annual = AccountFactory.create(
        plan=Plan.ANNUAL, annual_discount=Decimal("0.150"), renewal_date=dt.date(2026, 7, 1)
    )
    trial = AccountFactory.create(trial_ends_on=dt.date(2026, 5, 20))
    forecast = AccountFactory.create(
        forecasted_mrr=Decimal(8334), current_period_ends_on=dt.date(2026, 5, 31)
    )
    columns = (
        "credit_balance", "credit_expires_on", "annual_discount", "trial_ends_on",
        "forecasted_mrr", "current_period_ends_on",
    )  # fmt: skip
    before = {a["id"]: a for a in Account.objects.values("id", *columns)}

    migration.forwards(apps, None)
    refresh_account_terms(account_ids=before)

    assert {a["id"]: a for a in Account.objects.values("id", *columns)} == before
    grant = CreditGrant.objects.get(account=startup)
    assert (grant.kind, grant.granted_on, grant.balance) == (
        "startup",
        dt.date(2025, 9, 1),
        Decimal(4200),
    )
    contract = AnnualContract.objects.get(account=annual)
    assert (contract.starts_on, contract.ends_on, contract.discount_percent) == (
        dt.date(2025, 7, 1),
        dt.date(2026, 6, 30),
        Decimal(15),
    )
    assert Trial.objects.get(account=trial).kind == "free_usage"
    assert ForecastMrr.objects.get(account=forecast).amount == Decimal(8334)
