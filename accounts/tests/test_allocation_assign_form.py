"""The allocation row's assign form, loaded on demand (issue 20): the page carries a link per
row, not a list of every person per row; the form groups people by region, role and team,
the ones the trait asks for first, each with their book against its limit."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import NewOwnerTrait, OwnerRole, Region
from accounts.roles import Role
from accounts.tests.books_factories import freeze_today, give_arr
from accounts.tests.factories import AccountFactory, manager, tam, team_lead, user_with_role
from revopsweb.tests.view_cases import HTMX, is_full_page, is_partial

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _today(time_machine):
    freeze_today(time_machine)


def _form_url(account) -> str:
    return reverse("accounts:allocation_assign", args=[account.pk])


def _book(owner, n: int) -> None:
    AccountFactory.create_batch(n, owner=owner, owner_role=OwnerRole.TAM)


def _groups(content: str) -> list[str]:
    return [part.split('"', 1)[0] for part in content.split('<optgroup label="')[1:]]


def test_the_page_links_each_row_to_its_assign_form_instead_of_listing_people(client):
    account = AccountFactory.create(new_owner_trait=NewOwnerTrait.READY_TO_MOVE)
    tam(name="Anna First")
    client.force_login(manager())
    content = client.get(reverse("accounts:allocation")).content.decode()
    assert f'href="{_form_url(account)}" hx-get="{_form_url(account)}"' in content
    assert "Anna First" not in content and 'name="owner"' not in content


def test_htmx_gets_the_rows_assign_form_only(client):
    account = AccountFactory.create(name="Acme", new_owner_trait=NewOwnerTrait.READY_TO_MOVE)
    person = tam(name="Anna First")
    client.force_login(manager())
    response = client.get(_form_url(account), **HTMX)
    assert is_partial(response)
    content = response.content.decode()
    assert content.lstrip().startswith(f'<div id="assign-{account.pk}"')
    assert f'<option value="{person.pk}">Anna First' in content
    assert f'action="{_form_url(account)}"' in content


def test_without_javascript_the_link_opens_the_same_form_as_a_page(client):
    account = AccountFactory.create(name="Acme", new_owner_trait=NewOwnerTrait.READY_TO_MOVE)
    person = tam(name="Anna First")
    client.force_login(manager())
    response = client.get(_form_url(account))
    assert response.status_code == 200 and is_full_page(response)
    content = response.content.decode()
    assert "<h1>Assign" in content and "Acme" in content
    assert f'<option value="{person.pk}">Anna First' in content


def test_people_of_the_traits_region_and_role_come_first(client):
    account = AccountFactory.create(new_owner_trait=NewOwnerTrait.US_CSM)
    us_lead, eu_lead = team_lead(name="Uma Lead"), team_lead(name="Eli Lead", region=Region.EU)
    tam(name="Tom Us", team_lead=us_lead)
    user_with_role(Role.CSM, name="Cora Us", team_lead=us_lead)
    user_with_role(Role.CSM, name="Cleo Us", team_lead=eu_lead)
    tam(name="Tina Eu", region=Region.EU, team_lead=eu_lead)
    client.force_login(manager())
    content = client.get(_form_url(account), **HTMX).content.decode()
    assert _groups(content) == [
        "US CSM · Eli Lead&#x27;s team",
        "US CSM · Uma Lead&#x27;s team",
        "EU TAM · Eli Lead&#x27;s team",
        "US TAM · Uma Lead&#x27;s team",
    ]
    assert "US CSM people first (new owner trait)." in content


def test_without_a_trait_the_suggested_people_come_first(client):
    account = AccountFactory.create(region=Region.EU)
    give_arr(account, 30_000)  # core products not all paid: a TAM is suggested
    user_with_role(Role.CSM, name="Cora Eu", region=Region.EU)
    tam(name="Tom Us")
    tam(name="Tina Eu", region=Region.EU)
    client.force_login(manager())
    content = client.get(_form_url(account), **HTMX).content.decode()
    assert _groups(content)[0] == "EU TAM · no team lead"
    assert "EU TAM people first (suggested trait)." in content


def test_each_person_shows_their_book_against_its_limit(client):
    account = AccountFactory.create(new_owner_trait=NewOwnerTrait.READY_TO_MOVE)
    full = tam(name="Full Tam")
    _book(full, 16)
    AccountFactory.create(owner=full, owner_role=OwnerRole.TAM, is_lead=True)  # a lead: not counted
    user_with_role(Role.CSM, name="Cora Csm")
    client.force_login(manager())
    content = client.get(_form_url(account), **HTMX).content.decode()
    assert "Full Tam · 16 accounts, over the max of 15</option>" in content
    assert "Cora Csm · 0 of about 30 accounts</option>" in content


def test_a_team_lead_is_offered_their_own_team_only(client):
    lead = team_lead()
    tam(name="On Team", team_lead=lead)
    tam(name="Other Team", team_lead=team_lead())
    account = AccountFactory.create(new_owner_trait=NewOwnerTrait.READY_TO_MOVE)
    client.force_login(lead)
    content = client.get(_form_url(account), **HTMX).content.decode()
    assert "On Team" in content and "Other Team" not in content


def test_a_team_lead_gets_no_form_for_a_top_40_account(client):
    lead = team_lead()
    tam(name="On Team", team_lead=lead)
    account = AccountFactory.create()
    give_arr(account, 240_000)
    client.force_login(lead)
    content = client.get(_form_url(account), **HTMX).content.decode()
    assert "manager decides" in content and 'name="owner"' not in content


def test_the_form_reads_the_same_queries_whatever_the_number_of_people(
    client, django_assert_num_queries
):
    account = AccountFactory.create(new_owner_trait=NewOwnerTrait.READY_TO_MOVE)
    client.force_login(manager())
    _book(tam(), 3)
    # session, user with their roles, revenue month, the Top 40 stored if the month
    # is unranked (one statement), the account, the people with their books
    with django_assert_num_queries(6):
        small = client.get(_form_url(account), **HTMX)
    for _ in range(5):
        _book(user_with_role(Role.CSM, team_lead=team_lead()), 2)
    with django_assert_num_queries(6):
        large = client.get(_form_url(account), **HTMX)
    assert small.content.decode().count("<option") + 5 == large.content.decode().count("<option")


def test_the_form_is_refused_to_a_tam(client):
    client.force_login(tam())
    account = AccountFactory.create(new_owner_trait=NewOwnerTrait.READY_TO_MOVE)
    assert client.get(_form_url(account), **HTMX).status_code == 403
