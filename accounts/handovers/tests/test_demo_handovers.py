from __future__ import annotations

import datetime as dt
import random

import pytest

from accounts.handovers.demo import seed_handovers
from accounts.handovers.models import Handover, HandoverState
from accounts.handovers.tests.handover_factories import csm
from accounts.models import OwnerRole, OwnershipChange
from accounts.tests.factories import AccountFactory, tam

pytestmark = pytest.mark.django_db


def test_seed_handovers_creates_handovers_in_several_states_with_timelines():
    owners = [tam() for _ in range(3)]
    for i in range(10):
        AccountFactory.create(owner=owners[i % 3], owner_role=OwnerRole.TAM)
    for _ in range(2):
        csm()
    created = seed_handovers(rng=random.Random(7), today=dt.date(2026, 5, 15))
    states = set(Handover.objects.values_list("state", flat=True))
    assert created == Handover.objects.count() == 8
    assert {HandoverState.PROPOSED, HandoverState.COMPLETED, HandoverState.PUSHED_BACK} <= states
    completed = Handover.objects.get(state=HandoverState.COMPLETED)
    assert OwnershipChange.objects.get(account=completed.account).source == "handover"
    assert completed.events.count() == 5
