from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

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
