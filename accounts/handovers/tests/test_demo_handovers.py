from __future__ import annotations

import datetime as dt
import random

import pytest
from django.core.management import call_command

from accounts.demo import DEMO_EMAIL_DOMAIN
from accounts.handovers.checks import plan_and_invoices, preconditions, top_40, transition_for
from accounts.handovers.demo import seed_handovers
from accounts.handovers.models import Handover, HandoverReason, HandoverState
from accounts.handovers.tests.handover_factories import csm
from accounts.models import Account, OwnerRole, OwnershipChange, User
from accounts.tests.factories import AccountFactory, tam
from revopsweb.dates import company_today

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


@pytest.mark.django_db
def test_the_demo_tam_has_an_account_to_hand_to_a_csm_without_override_and_one_that_needs_it():
    call_command("seed_demo", accounts=300, months=6, seed=42, verbosity=0)
    demo_tam = User.objects.get(email=f"tam@{DEMO_EMAIL_DOMAIN}")
    today = company_today()
    outcomes = []
    for account in Account.objects.filter(owner=demo_tam, owner_role=OwnerRole.TAM):
        facts = plan_and_invoices(account, today=today)
        transition = transition_for(
            account, from_role=OwnerRole.TAM, to_role=OwnerRole.CSM, today=today, facts=facts
        )
        pre = preconditions(
            account,
            reason=HandoverReason.FULLY_EXPANDED,
            today=today,
            facts=facts,
            transition=(OwnerRole.TAM, OwnerRole.CSM),
        )
        walkable = all(c.ok for c in [*transition.checks, *pre])
        outcomes.append(walkable and not top_40(account, today=today))
    assert True in outcomes, "no TAM → CSM handover the demo TAM can walk without an override"
    assert False in outcomes, "no demo TAM account left that needs an override"
