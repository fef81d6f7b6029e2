from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.backends import StaffBackend
from accounts.roles import Role, ensure_role_groups
from accounts.tests.factories import manager, tam, team_lead

pytestmark = pytest.mark.django_db


def test_every_role_is_a_group():
    assert set(Group.objects.values_list("name", flat=True)) >= {r.value for r in Role}


def test_only_revops_may_delete_accounts():
    deleters = Group.objects.filter(permissions__codename="delete_account").values_list(
        "name", flat=True
    )
    assert list(deleters) == [Role.REVOPS]


def test_syncing_roles_twice_changes_nothing():
    before = sorted(Group.objects.values_list("name", "permissions__codename"))
    ensure_role_groups()
    assert sorted(Group.objects.values_list("name", "permissions__codename")) == before


def test_team_leads_and_managers_may_move_books_but_tams_may_not():
    assert team_lead().is_team_lead_or_manager
    assert manager().is_team_lead_or_manager
    assert not tam().is_team_lead_or_manager


def test_roles_are_read_once_per_user_object(django_assert_num_queries):
    user = tam()
    user = type(user).objects.get(pk=user.pk)
    with django_assert_num_queries(1):
        assert user.has_role(Role.TAM)
        assert not user.is_manager
        assert not user.is_team_lead_or_manager


def test_the_signed_in_user_comes_with_their_roles_in_one_query(django_assert_num_queries):
    user = team_lead()
    user.groups.add(Group.objects.get(name=Role.TAM))
    with django_assert_num_queries(1):
        signed_in = StaffBackend().get_user(str(user.pk))
        assert signed_in is not None
        assert signed_in.role_names == {Role.TEAM_LEAD, Role.TAM}
        assert signed_in.is_team_lead_or_manager


def test_a_role_taken_away_applies_at_the_next_request():
    user = manager()
    before = StaffBackend().get_user(user.pk)
    assert before is not None and before.is_manager
    user.groups.clear()
    signed_in = StaffBackend().get_user(user.pk)
    assert signed_in is not None
    assert signed_in.role_names == frozenset()
    assert not signed_in.is_manager


def test_a_deactivated_or_deleted_user_is_signed_out():
    user = tam()
    user.is_active = False
    user.save()
    assert StaffBackend().get_user(user.pk) is None
    assert StaffBackend().get_user(user.pk + 1000) is None


def test_a_page_reads_the_user_and_their_roles_in_one_query(client, django_assert_num_queries):
    client.force_login(manager())
    # session, then the user with their roles: the navigation asks for the roles
    with django_assert_num_queries(2):
        assert client.get(reverse("password_change_done")).status_code == 200
