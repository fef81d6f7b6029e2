"""The four cases of every handover page and action (see
revopsweb/tests/view_cases.py): full page, htmx partial, wrong method, other user."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from accounts.handovers.models import Handover
from accounts.handovers.tests.handover_factories import (
    csm,
    fill_top_40,
    proposed,
    ready_account,
    tae,
)
from accounts.handovers.workflow import Step
from accounts.models import OwnerRole
from accounts.tests.factories import AccountFactory, manager, tam
from revopsweb.tests.view_cases import HTMX, call, is_full_page, is_partial

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2026, 5, 15, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(NOON, tick=False)
    fill_top_40()


@pytest.fixture
def handover() -> Handover:
    return proposed(ready_account(tam()), csm())


def _url(name: str, handover: Handover) -> str:
    if name == "handovers:list":
        return reverse(name)
    if name == "handovers:step":
        return reverse(name, args=[handover.pk, Step.ACCEPT])
    if name in {
        "handovers:propose",
        "handovers:account_onboarding",
        "handovers:account_tam_overlay",
    }:
        return reverse(name, args=[handover.account_id])
    return reverse(name, args=[handover.pk])


WRONG_METHOD = [
    ("handovers:list", "post"),
    ("handovers:detail", "post"),
    ("handovers:step", "get"),
    ("handovers:checklist", "get"),
    ("handovers:notes", "get"),
    ("handovers:onboarding", "get"),
    ("handovers:propose", "put"),
    ("handovers:account_onboarding", "get"),
    ("handovers:account_tam_overlay", "get"),
]


@pytest.mark.parametrize(("name", "method"), WRONG_METHOD)
def test_a_view_refuses_a_method_it_does_not_take(client, handover, name, method):
    client.force_login(manager())
    assert call(client, method, _url(name, handover)).status_code == 405


# A TAM who is neither party nor anyone's team lead.
OTHER_USER = [
    ("handovers:detail", "get"),
    ("handovers:step", "post"),
    ("handovers:checklist", "post"),
    ("handovers:notes", "post"),
    ("handovers:onboarding", "post"),
    ("handovers:propose", "get"),
    ("handovers:propose", "post"),
    ("handovers:account_onboarding", "post"),
]


@pytest.mark.parametrize(("name", "method"), OTHER_USER)
def test_an_outsider_is_refused(client, handover, name, method):
    client.force_login(tam())
    assert call(client, method, _url(name, handover)).status_code == 403


def test_an_outsider_cannot_add_a_tam_overlay(client):
    account = AccountFactory.create(owner=tae(), owner_role=OwnerRole.TAE)
    client.force_login(tam())
    url = reverse("handovers:account_tam_overlay", args=[account.pk])
    response = client.post(url, {"tam": tam().pk, "expansion_note": "Big plans"})
    assert response.status_code == 403
    account.refresh_from_db()
    assert account.tam_overlay is None


def test_an_outsider_does_not_see_the_handover_in_the_list(client, handover):
    client.force_login(tam())
    response = client.get(reverse("handovers:list"), {"scope": "all"})
    assert response.status_code == 200
    assert handover.account.name not in response.content.decode()


@pytest.mark.parametrize("name", ["handovers:list", "handovers:detail", "handovers:propose"])
def test_a_page_renders_in_full(client, handover, name):
    client.force_login(handover.from_owner)
    response = client.get(_url(name, handover))
    assert response.status_code == 200
    assert is_full_page(response)


# Each action answers htmx with the region of the handover page it changed.
HTMX_ACTIONS = [
    ("handovers:step", {}, 'id="workflow"'),
    ("handovers:checklist", {"key": "agenda:champion", "done": "on"}, 'id="checklists"'),
    ("handovers:notes", {"notes": "Call went well"}, 'id="checklists"'),
    ("handovers:onboarding", {}, 'id="preconditions"'),
]


@pytest.mark.parametrize(("name", "data", "region"), HTMX_ACTIONS)
def test_an_action_by_htmx_answers_with_its_region_only(client, handover, name, data, region):
    client.force_login(handover.to_owner)
    response = call(client, "post", _url(name, handover), data, **HTMX)
    assert is_partial(response)
    assert region in response.content.decode()
