from __future__ import annotations

import datetime as dt
import random

import pytest

from accounts.tests.factories import AccountFactory
from billing.demo_adjustments import seed_adjustments
from billing.models import Consolidation, OneTimeCredit
from billing.tests.helpers import series

pytestmark = pytest.mark.django_db


def test_seed_adjustments_adds_credits_and_an_eu_to_us_consolidation():
    for region in ("EU", "US", "US"):
        series(AccountFactory.create(region=region), [1000] * 12)
    created = seed_adjustments(rng=random.Random(1), today=dt.date(2026, 12, 15))
    consolidation = Consolidation.objects.get()
    assert created == OneTimeCredit.objects.count() + 1
    assert consolidation.account.region == "EU" and consolidation.customer.region == "US"
