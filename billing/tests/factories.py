from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from accounts.tests.factories import AccountFactory
from billing.models import MonthlyRevenue, Product


def product(key: str) -> Product:
    """A catalog product by key (the catalog is filled at migrate)."""
    return Product.objects.get(key=key)


class MonthlyRevenueFactory(factory.django.DjangoModelFactory[MonthlyRevenue]):
    class Meta:
        model = MonthlyRevenue

    account = factory.SubFactory(AccountFactory)
    product = factory.LazyFunction(lambda: product("product_analytics"))
    month = dt.date(2026, 1, 1)
    amount = Decimal("1000.00")
