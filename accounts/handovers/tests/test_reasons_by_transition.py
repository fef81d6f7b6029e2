"""The reason list, and the incoming owners offered, follow the transition (issue 19;
sales/account-allocation)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.handovers.checks import reasons_for
from accounts.handovers.models import Handover
from accounts.handovers.tests.handover_factories import (
    csm,
    fill_top_40,
    proposed,
    ready_account,
    tae,
)
from accounts.models import OwnerRole
from accounts.tests.factories import tam

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2026, 5, 15, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(NOON, tick=False)
    fill_top_40()


def offered(page: str, field: str = "reason") -> list[str]:
    """The non-empty option values of the ``field`` select in ``page``'s HTML."""
    start = page.index(f'name="{field}"')
    select = page[start : page.index("</select>", start)]
    return [part.split('"', 1)[0] for part in select.split('<option value="')[1:] if part[0] != '"']


# The handbook's words, not the code's table: "Fully expanded and committed … they
# should go to a CSM"; "No viable expansion levers"; "TAM books exceeding 15";
# "On YC Plan … will go to the YC role on the CS team".
def test_a_tam_hands_to_a_csm_for_expansion_done_no_levers_a_full_book_or_the_yc_plan():
    reasons = set(reasons_for(from_role=OwnerRole.TAM, to_role=OwnerRole.CSM))
    assert {"fully_expanded", "no_levers", "book_over_cap", "yc_plan"} <= reasons
    assert not reasons & {"onboarded", "expansion"}


def test_a_csm_hands_to_a_tam_when_an_expansion_opportunity_is_identified():
    reasons = set(reasons_for(from_role=OwnerRole.CSM, to_role=OwnerRole.TAM))
    assert "expansion" in reasons
    assert not reasons & {"fully_expanded", "no_levers", "onboarded"}


@pytest.mark.parametrize("to_role", [OwnerRole.TAM, OwnerRole.CSM])
def test_a_tae_hands_over_once_the_customer_is_onboarded(to_role):
    reasons = set(reasons_for(from_role=OwnerRole.TAE, to_role=to_role))
    assert "onboarded" in reasons
    assert not reasons & {"fully_expanded", "expansion", "book_over_cap"}


def test_the_handbooks_invalid_reasons_fit_no_transition():
    invalid = {"unresponsive", "champion_left", "low_engagement", "dislike"}
    for frm in OwnerRole.values:
        for to in OwnerRole.values:
            assert not set(reasons_for(from_role=frm, to_role=to)) & invalid


def test_proposing_with_a_reason_of_another_transition_is_refused():
    account = ready_account(tam())
    with pytest.raises(ValidationError, match="not a reason for TAM → CSM"):
        proposed(account, csm(), reason="expansion")
    assert not account.handovers.exists()


def test_the_propose_page_offers_only_the_first_transitions_reasons(client):
    account = ready_account(tam())
    client.force_login(account.owner)
    page = client.get(reverse("handovers:propose", args=[account.pk])).content.decode()
    assert offered(page) == [
        "fully_expanded",
        "no_levers",
        "book_over_cap",
        "yc_plan",
        "owner_change",
    ]


def test_the_propose_page_for_a_takeover_offers_the_takeovers_reasons(client):
    account = ready_account(tam())
    client.force_login(account.owner)
    url = reverse("handovers:propose", args=[account.pk])
    page = client.get(url, {"to_role": "TAM"}).content.decode()
    assert offered(page) == ["owner_change", "book_over_cap"]


def test_an_htmx_role_change_answers_the_form_with_the_new_roles_reasons(client):
    account = ready_account(tam())
    client.force_login(account.owner)
    url = reverse("handovers:propose", args=[account.pk])
    answer = client.get(url, {"to_role": "TAM", "reason": "book_over_cap"}, HTTP_HX_REQUEST="true")
    page = answer.content.decode()
    assert page.lstrip().startswith('<form id="propose-form"')
    assert offered(page) == ["owner_change", "book_over_cap"]
    assert '<option value="book_over_cap" selected>' in page


def test_an_htmx_role_change_drops_a_reason_the_new_role_does_not_have(client):
    account = ready_account(tam())
    client.force_login(account.owner)
    url = reverse("handovers:propose", args=[account.pk])
    page = client.get(
        url, {"to_role": "TAM", "reason": "fully_expanded"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    select = page.split('name="reason"')[1].split("</select>")[0]
    assert '<option value="" selected>' in select
    assert "fully_expanded" not in select


def test_a_plain_post_with_a_reason_of_another_transition_is_refused_on_the_reason(client):
    account = ready_account(tam())
    client.force_login(account.owner)
    response = client.post(
        reverse("handovers:propose", args=[account.pk]),
        {"to_owner": csm().pk, "to_role": "CSM", "reason": "expansion"},
    )
    assert response.status_code == 422
    assert (
        response.context["form"]
        .errors["reason"][0]
        .startswith("“Expansion opportunity identified” is not a reason for TAM → CSM.")
    )
    assert not Handover.objects.exists()


def test_an_htmx_post_with_a_reason_of_another_transition_answers_the_form_with_the_error(
    client,
):
    account = ready_account(tam())
    client.force_login(account.owner)
    response = client.post(
        reverse("handovers:propose", args=[account.pk]),
        {"to_owner": csm().pk, "to_role": "CSM", "reason": "onboarded"},
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert response.status_code == 422
    assert page.lstrip().startswith('<form id="propose-form"')
    assert "is not a reason for TAM → CSM" in page
    assert not Handover.objects.exists()


def test_an_htmx_post_with_a_fitting_reason_redirects_to_the_handover(client):
    account = ready_account(tam())
    client.force_login(account.owner)
    response = client.post(
        reverse("handovers:propose", args=[account.pk]),
        {"to_owner": csm().pk, "to_role": "CSM", "reason": "no_levers"},
        HTTP_HX_REQUEST="true",
    )
    handover = Handover.objects.get(account=account)
    assert response["HX-Redirect"] == reverse("handovers:detail", args=[handover.pk])


def test_the_propose_page_offers_as_incoming_owners_only_the_people_of_the_incoming_role(client):
    account = ready_account(tam())
    a_csm, a_tam, a_tae = csm(), tam(), tae()
    client.force_login(account.owner)
    url = reverse("handovers:propose", args=[account.pk])
    # The first transition of a TAM's account is TAM → CSM.
    assert offered(client.get(url).content.decode(), "to_owner") == [str(a_csm.pk)]
    page = client.get(url, {"to_role": "TAM"}).content.decode()
    assert offered(page, "to_owner") == [str(a_tam.pk)]
    assert str(a_tae.pk) not in offered(page, "to_owner")


def test_an_htmx_role_change_answers_the_form_with_the_new_roles_people(client):
    account = ready_account(tam())
    a_csm, a_tam = csm(), tam()
    client.force_login(account.owner)
    url = reverse("handovers:propose", args=[account.pk])
    page = client.get(
        url, {"to_role": "TAM", "to_owner": a_csm.pk}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert page.lstrip().startswith('<form id="propose-form"')
    assert offered(page, "to_owner") == [str(a_tam.pk)]
    # The role comes before the person it narrows.
    assert page.index('name="to_role"') < page.index('name="to_owner"')


def test_a_plain_post_of_someone_outside_the_incoming_role_is_refused_on_the_owner(client):
    account = ready_account(tam())
    a_tam = tam(name="Tom Tam")
    client.force_login(account.owner)
    response = client.post(
        reverse("handovers:propose", args=[account.pk]),
        {"to_owner": a_tam.pk, "to_role": "CSM", "reason": "no_levers"},
    )
    assert response.status_code == 422
    assert response.context["form"].errors["to_owner"] == ["Tom Tam does not work as a CSM."]
    assert not Handover.objects.exists()
