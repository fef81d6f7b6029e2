"""The books a person may open, as My book's owner select lists them."""

from __future__ import annotations

import pytest

from accounts import permissions
from accounts.models import OwnerRole
from accounts.tests.factories import AccountFactory, manager, revops, tam, team_lead

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("person", [tam, team_lead, manager, revops])
def test_the_list_of_viewable_book_owners_is_the_queryset_evaluated(person):
    me = person()
    tam(team_lead=me)
    AccountFactory.create(owner=tam(), owner_role=OwnerRole.TAM)
    assert permissions.viewable_book_owner_list(me) == list(permissions.viewable_book_owners(me))


def test_a_tam_lists_the_one_book_they_may_open_without_a_query(django_assert_num_queries):
    me = tam()
    assert me.role_names  # read with the user at sign-in (accounts.backends)
    with django_assert_num_queries(0):
        assert permissions.viewable_book_owner_list(me) == [me]
