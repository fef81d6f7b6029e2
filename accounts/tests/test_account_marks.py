"""Account marks (accounts.extensions): yes/no figures an app above the core registers,
read by the core's pages as columns of their own statements."""

from __future__ import annotations

import pytest
from django.db.models import Q

from accounts import extensions
from accounts.extensions import account_set, has_mark, mark_annotations, register_account_mark
from accounts.models import Account
from accounts.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def _own_registry(monkeypatch):
    # A test's registrations end with it: the apps' own marks stay as they were.
    monkeypatch.setattr(extensions, "_ACCOUNT_MARKS", dict(extensions._ACCOUNT_MARKS))


@pytest.mark.usefixtures("_own_registry")
def test_a_registered_mark_is_a_column_of_each_row():
    register_account_mark("named_x", lambda: Q(name="X"))
    x, y = AccountFactory.create(name="X"), AccountFactory.create(name="Y")
    rows = {a.pk: a for a in Account.objects.annotate(**mark_annotations("named_x"))}
    assert has_mark(rows[x.pk], "named_x")
    assert not has_mark(rows[y.pk], "named_x")
    assert account_set("named_x", Account.objects.all()) == {x.pk}


def test_a_mark_nobody_registered_marks_no_account(django_assert_num_queries):
    account = AccountFactory.create()
    [row] = Account.objects.annotate(**mark_annotations("nobody_registered"))
    assert not has_mark(row, "nobody_registered")
    with django_assert_num_queries(0):
        assert account_set("nobody_registered", Account.objects.filter(pk=account.pk)) == set()
