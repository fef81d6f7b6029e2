"""The four cases of every page and action of the accounts core (see
revopsweb/tests/view_cases.py): full page, htmx partial, wrong method, other user."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Account, AccountPlan, User
from accounts.tests.books_factories import plan_for
from accounts.tests.factories import AccountFactory, manager, tam
from revopsweb.tests.view_cases import HTMX, call, is_full_page, is_partial

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner() -> User:
    return tam()


@pytest.fixture
def account(owner: User) -> Account:
    return AccountFactory.create(owner=owner, owner_role="TAM")


@pytest.fixture
def plan(account: Account) -> AccountPlan:
    return plan_for(account)


# (url name, needs the account's pk, method): a method the view does not take.
WRONG_METHOD = [
    ("accounts:my_book", False, "post"),
    ("accounts:book_export", False, "post"),
    ("accounts:planning", False, "post"),
    ("accounts:allocation", False, "post"),
    ("accounts:allocation_trait", True, "get"),
    ("accounts:allocation_assign", True, "put"),
    ("accounts:import", False, "put"),
    ("accounts:account", True, "post"),
    ("accounts:account_note", True, "get"),
    ("accounts:account_recommend", True, "get"),
    ("accounts:account_book_state", True, "get"),
    ("accounts:account_plan_start", True, "get"),
    ("accounts:account_ready_to_move", True, "get"),
    ("accounts:plan", True, "delete"),
]


@pytest.mark.parametrize(("name", "with_pk", "method"), WRONG_METHOD)
def test_a_view_refuses_a_method_it_does_not_take(client, account, name, with_pk, method):
    client.force_login(manager())
    url = reverse(name, args=[account.pk] if with_pk else [])
    assert call(client, method, url).status_code == 405


# Another TAM, not the owner: (url name, method, expected status). 404 where the
# account is outside what they may see, 403 where the page is not for their role.
OTHER_USER = [
    ("accounts:account", "get", 404),
    ("accounts:account_note", "post", 404),
    ("accounts:account_recommend", "post", 404),
    ("accounts:account_book_state", "post", 404),
    ("accounts:account_plan_start", "post", 404),
    ("accounts:account_ready_to_move", "post", 404),
    ("accounts:allocation_trait", "post", 403),
    ("accounts:allocation_assign", "get", 403),
    ("accounts:allocation_assign", "post", 403),
]


@pytest.mark.parametrize(("name", "method", "status"), OTHER_USER)
def test_another_tam_is_refused_an_account_view(client, account, name, method, status):
    client.force_login(tam())
    assert call(client, method, reverse(name, args=[account.pk])).status_code == status


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_tam_is_refused_a_plan(client, plan, method):
    client.force_login(tam())
    response = call(client, method, reverse("accounts:plan", args=[plan.pk]), {"overview": "x"})
    assert response.status_code == 404


@pytest.mark.parametrize("name", ["accounts:my_book", "accounts:book_export"])
def test_another_tam_is_refused_a_book(client, owner, name):
    client.force_login(tam())
    assert client.get(reverse(name), {"owner": owner.pk}).status_code == 404


@pytest.mark.parametrize("name", ["accounts:allocation", "accounts:import"])
def test_a_tam_is_refused_a_page_for_leads(client, name):
    client.force_login(tam())
    assert client.get(reverse(name)).status_code == 403


# Full pages, as their owner (or a manager for the pages for leads).
@pytest.mark.parametrize(
    ("name", "with_pk", "who"),
    [
        ("accounts:my_book", False, "owner"),
        ("accounts:planning", False, "owner"),
        ("accounts:allocation", False, "manager"),
        ("accounts:allocation_assign", True, "manager"),
        ("accounts:import", False, "manager"),
        ("accounts:account", True, "owner"),
    ],
)
def test_a_page_renders_in_full(client, owner, account, name, with_pk, who):
    client.force_login(owner if who == "owner" else manager())
    response = client.get(reverse(name, args=[account.pk] if with_pk else []))
    assert response.status_code == 200
    assert is_full_page(response)


def test_the_plan_page_renders_in_full(client, owner, plan):
    client.force_login(owner)
    response = client.get(reverse("accounts:plan", args=[plan.pk]))
    assert response.status_code == 200
    assert is_full_page(response)


def test_my_book_answers_htmx_with_the_table_only(client, owner, account):
    client.force_login(owner)
    response = client.get(reverse("accounts:my_book"), {"sort": "name"}, **HTMX)
    assert is_partial(response)
    assert account.name in response.content.decode()


def test_the_assign_form_answers_htmx_with_the_form_only(client, account):
    client.force_login(manager())
    response = client.get(reverse("accounts:allocation_assign", args=[account.pk]), **HTMX)
    assert is_partial(response)
    assert 'name="owner"' in response.content.decode()


def test_a_note_by_htmx_answers_with_the_notes_only(client, owner, account):
    client.force_login(owner)
    url = reverse("accounts:account_note", args=[account.pk])
    response = call(client, "post", url, {"summary": "Called Priya"}, **HTMX)
    assert is_partial(response)
    assert "Called Priya" in response.content.decode()


@pytest.fixture
def recommendation(account: Account, owner: User):
    from leads.recommendations import give_recommendation

    return give_recommendation(account=account, by=owner, text="Try cohorts")


def test_actioning_a_recommendation_takes_only_a_post(client, recommendation):
    client.force_login(manager())
    url = reverse("accounts:recommendation_actioned", args=[recommendation.pk])
    assert call(client, "get", url).status_code == 405


def test_another_tam_cannot_action_a_recommendation(client, recommendation):
    client.force_login(tam())
    url = reverse("accounts:recommendation_actioned", args=[recommendation.pk])
    assert call(client, "post", url).status_code == 404
    recommendation.refresh_from_db()
    assert recommendation.status == "recommended"


def test_recording_a_recommendation_answers_the_partial_or_the_page(client, account, owner):
    client.force_login(owner)
    url = reverse("accounts:account_recommend", args=[account.pk])
    assert is_partial(call(client, "post", url, {"text": "x"}, **HTMX))
    assert call(client, "post", url, {"text": "y"}).status_code == 302
    assert is_full_page(call(client, "post", url, {"text": ""}))
