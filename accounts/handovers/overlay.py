"""High potential customers (sales/account-allocation "High potential customers"):
a TAE-led customer landing at $100k+ a year may get a TAM overlay early, while
the TAE keeps ownership and the commission.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, Activity, ActivityKind, OwnerRole, User
from accounts.permissions import is_owner_lead_or_manager
from accounts.roles import Role

from .checks import Check, _revenue

HIGH_POTENTIAL_ARR = Decimal(100_000)


def high_potential(account: Account, *, today: dt.date) -> Check:
    """A TAE-led customer landing at $100k+ a year (ARR or forecasted MRR × 12)."""
    figures = _revenue(account, today=today)
    arr: Decimal = figures.arr
    forecast = (account.forecasted_mrr or Decimal(0)) * 12
    landing = max(arr, forecast)
    return Check(
        "high_potential",
        "Landing at $100k+ a year",
        landing >= HIGH_POTENTIAL_ARR,
        f"Landing at ${landing:,.0f} a year.",
    )


@transaction.atomic
def add_tam_overlay(
    *, account: Account, tam: User, by: User, expansion_note: str, today: dt.date
) -> Activity:
    """Introduce a TAM early on a high-potential TAE-led account: sets the TAM
    overlay, not the owner (the TAE keeps the deal and the commission). Needs a
    $100k+ landing or a written note on the high expansion potential. Only the
    TAE owner, their team lead or a manager. Idempotent for the same TAM."""
    if account.owner_role != OwnerRole.TAE:
        raise ValidationError("An early TAM overlay is for TAE-led accounts.")
    if not tam.has_role(Role.TAM):
        raise ValidationError(f"{tam} is not a TAM.")
    if not is_owner_lead_or_manager(by, account):
        raise PermissionDenied("Only the TAE owner, their team lead or a manager adds an overlay.")
    if not high_potential(account, today=today).ok and not expansion_note.strip():
        raise ValidationError(
            "Below a $100k landing: describe the high expansion potential to add a TAM early."
        )
    Account.objects.filter(pk=account.pk).update(tam_overlay=tam)
    account.tam_overlay = tam
    return Activity.objects.create(
        account=account,
        kind=ActivityKind.NOTE,
        author=by,
        occurred_at=timezone.now(),
        summary=f"{tam} introduced early as TAM overlay (ownership stays with the TAE)",
        body=expansion_note,
    )
