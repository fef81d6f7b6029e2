"""Who may see and act on a handover (sales/account-allocation, "Handing over customers").

The parties (outgoing owner, incoming owner, proposer), their team leads and
managers; accepting and pushing back belong to the incoming side, resubmitting
and cancelling to the outgoing side.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import User

from .models import Handover


def _leads_of(handover: Handover) -> set[int]:
    return {
        pk
        for pk in (handover.from_owner.team_lead_id, handover.to_owner.team_lead_id)
        if pk is not None
    }


def can_act(user: User, handover: Handover) -> bool:
    """Only the parties, their team leads and managers act on a handover."""
    return (
        user.is_manager
        or user.pk in (handover.from_owner_id, handover.to_owner_id, handover.proposed_by_id)
        or user.pk in _leads_of(handover)
    )


def visible_handovers(user: User) -> QuerySet[Handover]:
    """Handovers the user may open: managers all; others those they are a party
    to or lead a party of."""
    qs = Handover.objects.all()
    if user.is_manager:
        return qs
    return qs.filter(
        Q(from_owner=user)
        | Q(to_owner=user)
        | Q(proposed_by=user)
        | Q(from_owner__team_lead=user)
        | Q(to_owner__team_lead=user)
    )


def _incoming_side(user: User, handover: Handover) -> bool:
    return (
        user.is_manager
        or user.pk == handover.to_owner_id
        or user.pk == handover.to_owner.team_lead_id
    )


def _outgoing_side(user: User, handover: Handover) -> bool:
    return (
        user.is_manager
        or user.pk in (handover.from_owner_id, handover.proposed_by_id)
        or user.pk == handover.from_owner.team_lead_id
    )
