"""The account page's lists and forms built once per process (issue 20) still show
each account its own rows, and each person's input their own errors."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from accounts.account_views import NoteForm, RecommendationForm
from accounts.models import (
    AccountPlan,
    AccountSnapshot,
    Activity,
    ActivityKind,
    OwnerRole,
    OwnershipChange,
)
from accounts.tests.books_factories import LAST_MONTH
from accounts.tests.factories import AccountFactory, tam
from leads.models import TaskKind
from leads.tests.factories import TaskFactory

pytestmark = pytest.mark.django_db


def test_each_account_page_lists_its_own_notes_plans_history_and_tasks(client):
    me = tam()
    pages = {}
    links = {}
    for name in ("Alpha", "Beta"):
        account = AccountFactory.create(owner=me, owner_role=OwnerRole.TAM, name=f"{name} Co")
        Activity.objects.create(
            account=account,
            kind=ActivityKind.NOTE,
            author=me,
            occurred_at=dt.datetime.now(dt.UTC),
            summary=f"{name} note",
        )
        OwnershipChange.objects.create(
            account=account,
            new_owner=me,
            new_owner_role="TAM",
            actor=me,
            at=dt.datetime.now(dt.UTC),
            effective_on=LAST_MONTH,
            reason=f"{name} move",
            source="test",
        )
        plan = AccountPlan.objects.create(account=account, quarter_start=dt.date(2026, 10, 1))
        task = TaskFactory.create(account=account, kind=TaskKind.LEAD, assignee=me)
        links[name] = (
            reverse("accounts:plan", args=[plan.pk]),
            reverse("leads:task", args=[task.pk]),
        )
        pages[name] = account
    client.force_login(me)
    for name, other in (("Alpha", "Beta"), ("Beta", "Alpha")):
        content = client.get(reverse("accounts:account", args=[pages[name].pk])).content.decode()
        assert f"{name} note" in content and f"{name} move" in content
        assert f"{other} note" not in content and f"{other} move" not in content
        assert all(f'href="{link}"' in content for link in links[name])
        assert not any(f'href="{link}"' in content for link in links[other])


def test_an_empty_form_is_rendered_with_its_own_initial_values():
    first = RecommendationForm(initial={"due_on": dt.date(2026, 12, 14)}).as_div()
    second = RecommendationForm(initial={"due_on": dt.date(2026, 12, 15)}).as_div()
    assert 'value="2026-12-14"' in first and 'value="2026-12-15"' in second
    assert NoteForm().as_div() == NoteForm().as_div()


def test_a_form_with_the_persons_input_shows_their_errors_not_the_empty_form():
    empty = NoteForm().as_div()
    bound = NoteForm({"summary": "", "body": "typed"})
    assert not bound.is_valid()
    html = bound.as_div()
    assert html != empty
    assert "This field is required." in html and "typed" in html


def test_each_weeks_health_badge_names_the_week_and_the_health_in_words(client):
    # The badge's colour alone says the health; its title says it for everyone.
    me = tam()
    account = AccountFactory.create(owner=me, owner_role=OwnerRole.TAM)
    AccountSnapshot.objects.create(account=account, week=dt.date(2026, 11, 23), health="poor")
    AccountSnapshot.objects.create(account=account, week=dt.date(2026, 11, 30))
    client.force_login(me)

    content = client.get(reverse("accounts:account", args=[account.pk])).content.decode()

    assert 'title="Week of 2026-11-23: Poor">2026-11-23</span>' in content
    assert 'title="Week of 2026-11-30: no health">2026-11-30</span>' in content
