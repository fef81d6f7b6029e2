"""The books a person may open, as My book's owner select lists them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import permissions
from accounts.models import OwnerRole
from accounts.tests.factories import (
    AccountFactory,
    UserFactory,
    manager,
    revops,
    tam,
    team_lead,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("person", [team_lead, manager, revops])
def test_the_picker_lists_the_viewable_owners_who_hold_a_book_and_the_shown_one(person):
    me = person()
    mate = tam(team_lead=me)
    AccountFactory.create(owner=tam(), owner_role=OwnerRole.TAM)
    viewable = list(permissions.viewable_book_owners(me))

    picker = permissions.book_picker_owners(me, shown=mate)

    assert picker == [p for p in viewable if p != me]
    assert permissions.book_picker_owners(me, shown=me) == viewable


def test_a_team_lead_is_not_offered_a_teammate_who_holds_no_book():
    lead = team_lead()
    bdr = UserFactory.create(team_lead=lead)  # no book role, no account
    mate = tam(team_lead=lead)

    assert set(permissions.book_picker_owners(lead, shown=lead)) == {lead, mate}
    assert bdr in permissions.viewable_book_owners(lead)


def test_a_tam_lists_the_one_book_they_may_open_without_a_query(django_assert_num_queries):
    me = tam()
    assert me.role_names  # read with the user at sign-in (accounts.backends)
    with django_assert_num_queries(0):
        assert permissions.book_picker_owners(me, shown=me) == [me]


def _picker(body: str) -> str:
    return body.split('data-testid="owner-filter">', 1)[1].split("</select>", 1)[0]


def test_a_manager_who_owns_no_accounts_is_not_in_their_book_picker(client):
    boss = manager(name="Maria Manager")
    AccountFactory.create(owner=tam(name="Emeka Zhang"), owner_role=OwnerRole.TAM)
    client.force_login(boss)

    picker = _picker(client.get(reverse("accounts:my_book")).content.decode())

    assert "Emeka Zhang" in picker
    assert f'value="{boss.pk}"' not in picker


def test_a_manager_opening_their_own_book_by_url_finds_it_selected(client):
    boss = manager(name="Maria Manager")
    AccountFactory.create(owner=tam(name="Emeka Zhang"), owner_role=OwnerRole.TAM)
    client.force_login(boss)

    body = client.get(reverse("accounts:my_book"), {"owner": boss.pk}).content.decode()

    assert f'<option value="{boss.pk}"\n          selected>Maria Manager</option>' in _picker(body)
