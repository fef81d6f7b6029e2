from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from accounts.models import Account
from billing.models import MonthlyRevenue
from billing.tests.factories import product
from revopsweb.dates import add_months

JAN = dt.date(2026, 1, 1)


def month(n: int) -> dt.date:
    """Month ``n`` counted from January 2026 (0 = January)."""
    return add_months(JAN, n)


def series(
    account: Account,
    amounts: Sequence[str | int | None],
    *,
    key: str = "product_analytics",
    start: int = 0,
) -> None:
    """Revenue for consecutive months from ``month(start)``; None leaves the month out."""
    item = product(key)
    MonthlyRevenue.objects.bulk_create(
        MonthlyRevenue(
            account=account, product=item, month=month(start + i), amount=Decimal(str(a))
        )
        for i, a in enumerate(amounts)
        if a is not None
    )
