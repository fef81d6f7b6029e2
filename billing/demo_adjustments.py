"""Demo data for adjusted revenue: one-time credits and account consolidations.

Called by ``seed_demo`` after accounts and monthly revenue exist.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from accounts.models import Account, Region
from revopsweb.dates import add_months, month_start

from .models import Consolidation, CreditReason, MonthlyRevenue, OneTimeCredit

CREDIT_SHARE = 0.01  # of accounts with revenue
CONSOLIDATION_SHARE = 0.002
CREDIT_MONTHS = 12


@transaction.atomic
def seed_adjustments(*, rng: random.Random, today: dt.date) -> int:
    """Bulk-create credits (about 1% of paying accounts) and EU → US consolidations.

    Deterministic for a given ``rng`` seed; returns the rows created. Not
    idempotent on its own: ``seed_demo --reset`` empties the tables first
    (credits and consolidations cascade with their accounts).
    """
    current = month_start(today)
    paying = list(
        MonthlyRevenue.objects.filter(month__gte=add_months(current, -CREDIT_MONTHS))
        .values_list("account_id", flat=True)
        .distinct()
        .order_by("account_id")
    )
    if not paying:
        return 0
    chosen = rng.sample(paying, max(1, int(len(paying) * CREDIT_SHARE)))
    months = {
        account_id: add_months(current, -rng.randint(2, CREDIT_MONTHS - 1)) for account_id in chosen
    }
    totals = {
        (row["account_id"], row["month"]): row["total"]
        for row in MonthlyRevenue.objects.filter(account_id__in=chosen)
        .values("account_id", "month")
        .annotate(total=Sum("amount"))
        .order_by()
    }
    reasons = list(CreditReason)
    credits = []
    for account_id in chosen:
        month = months[account_id]
        prior = totals.get((account_id, add_months(month, -1)), Decimal(0))
        share = Decimal(rng.choice(["0.3", "0.6", "1.0"]))
        amount = max((prior * share).quantize(Decimal("0.01")), Decimal("50.00"))
        credits.append(
            OneTimeCredit(
                account_id=account_id,
                month=month,
                amount=amount,
                reason=rng.choice(reasons),
                notes="Demo credit.",
            )
        )
    OneTimeCredit.objects.bulk_create(credits)

    eu = list(Account.objects.filter(region=Region.EU, pk__in=paying).values_list("pk", flat=True))
    us = list(Account.objects.filter(region=Region.US, pk__in=paying).values_list("pk", flat=True))
    pairs = min(len(eu), len(us), max(1, int(len(paying) * CONSOLIDATION_SHARE)))
    consolidations = [
        Consolidation(account_id=a, customer_id=c, reason="Moved from EU to US cloud (demo).")
        for a, c in zip(rng.sample(eu, pairs), rng.sample(us, pairs), strict=True)
    ]
    Consolidation.objects.bulk_create(consolidations)
    return len(credits) + len(consolidations)
