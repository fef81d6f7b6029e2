"""The four cases of every churn page and action (see revopsweb/tests/view_cases.py):
full page, htmx partial, wrong method, other user. The htmx cards of the status and
escalation posts are in test_churn_review.py."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from accounts.churn.flags import close_flag, flag_account
from accounts.churn.models import ChurnRiskFlag, FlagStatus
from accounts.churn.tests.churn_helpers import NOW, owned_account
from accounts.tests.factories import manager, tam
from revopsweb.tests.view_cases import HTMX, call, is_full_page, is_partial

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def flag() -> ChurnRiskFlag:
    account = owned_account()
    return flag_account(account=account, by=account.owner, triggers="usage down", now=NOW)


def _url(name: str, flag: ChurnRiskFlag) -> str:
    if name in {"churn:review", "churn:review_csv", "churn:backtest", "churn:backtest_csv"}:
        return reverse(name)
    if name == "churn:flag":
        return reverse(name, args=[flag.account_id])
    return reverse(name, args=[flag.pk])


WRONG_METHOD = [
    ("churn:review", "post"),
    ("churn:review_csv", "post"),
    ("churn:backtest", "post"),
    ("churn:backtest_csv", "post"),
    ("churn:flag", "put"),
    ("churn:status", "get"),
    ("churn:escalate", "get"),
    ("churn:close", "get"),
    ("churn:retro", "delete"),
]


@pytest.mark.parametrize(("name", "method"), WRONG_METHOD)
def test_a_view_refuses_a_method_it_does_not_take(client, flag, name, method):
    client.force_login(manager())
    assert call(client, method, _url(name, flag)).status_code == 405


# Another TAM: the account and its flag are outside what they see.
OTHER_USER = [
    ("churn:flag", "get"),
    ("churn:flag", "post"),
    ("churn:status", "post"),
    ("churn:escalate", "post"),
    ("churn:close", "post"),
    ("churn:retro", "get"),
    ("churn:retro", "post"),
]


@pytest.mark.parametrize(("name", "method"), OTHER_USER)
def test_another_tam_is_refused(client, flag, name, method):
    client.force_login(tam())
    assert call(client, method, _url(name, flag)).status_code == 404


@pytest.mark.parametrize("name", ["churn:review", "churn:review_csv"])
def test_another_tam_does_not_see_the_flag_in_the_review(client, flag, name):
    client.force_login(tam())
    response = client.get(_url(name, flag))
    assert response.status_code == 200
    assert flag.account.name not in response.content.decode()


def test_the_review_renders_in_full(client, flag):
    client.force_login(flag.account.owner)
    response = client.get(reverse("churn:review"))
    assert is_full_page(response)
    assert flag.account.name in response.content.decode()


def test_the_flag_form_renders_in_full(client):
    account = owned_account()
    client.force_login(account.owner)
    response = client.get(reverse("churn:flag", args=[account.pk]))
    assert response.status_code == 200
    assert is_full_page(response)


def test_the_retro_form_renders_in_full(client, flag):
    close_flag(flag=flag, by=flag.account.owner, status=FlagStatus.CHURNED)
    client.force_login(flag.account.owner)
    response = client.get(reverse("churn:retro", args=[flag.pk]))
    assert response.status_code == 200
    assert is_full_page(response)


def test_a_refused_close_by_htmx_answers_with_the_card_only(client, flag):
    client.force_login(flag.account.owner)
    response = call(client, "post", _url("churn:close", flag), {"status": "nonsense"}, **HTMX)
    assert is_partial(response)
    assert f'id="flag-{flag.pk}"' in response.content.decode()
