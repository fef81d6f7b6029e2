"""The demo seeds billing terms as facts, and the account columns agree with them."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Account, Plan
from billing.models import AnnualContract, CreditGrant, Trial, TrialExtension, TrialKind
from billing.terms import refresh_account_terms

COLUMNS = (
    "credit_balance",
    "credit_expires_on",
    "annual_discount",
    "trial_ends_on",
    "forecasted_mrr",
)


@pytest.mark.django_db
def test_demo_terms_are_facts_the_account_columns_are_projected_from():
    call_command("seed_demo", accounts=400, months=13, stdout=StringIO())
    assert CreditGrant.objects.filter(account__plan=Plan.STARTUP, kind="startup").exists()
    assert AnnualContract.objects.exists()
    assert Trial.objects.filter(kind=TrialKind.SALES_ASSISTED, sdk_live_on__isnull=True).exists()
    assert Trial.objects.filter(kind=TrialKind.CROSS_SELL).exists()
    assert TrialExtension.objects.exists()
    assert not Account.objects.filter(credit_balance__gt=0, credit_grants__isnull=True).exists()
    before = sorted(Account.objects.values_list("pk", *COLUMNS))
    refresh_account_terms(account_ids=Account.objects.values_list("pk", flat=True))
    assert sorted(Account.objects.values_list("pk", *COLUMNS)) == before
