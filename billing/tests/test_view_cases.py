"""Wrong-method and full-page cases of the revenue pages (see
revopsweb/tests/view_cases.py); their other-user and htmx cases are in test_views.py."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.tests.factories import AccountFactory, UserFactory, revops
from revopsweb.tests.view_cases import call, is_full_page

pytestmark = pytest.mark.django_db

WRONG_METHOD = [
    ("billing:revenue", "post"),
    ("billing:revenue_csv", "post"),
    ("billing:quota", "post"),
    ("billing:import_mrr", "put"),
    ("billing:trials", "post"),
    ("billing:fact_imports", "post"),
    ("billing:fact_import", "put"),
]


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("billing:request_exclusion", [1]),
        ("billing:decide_exclusion", [1]),
        ("billing:trial_update", [1]),
        ("billing:trial_extend", [1]),
    ],
)
def test_exclusion_actions_refuse_get(client, name, args):
    client.force_login(revops())
    assert client.get(reverse(name, args=args)).status_code == 405


def test_a_person_without_a_quota_view_cannot_request_an_exclusion(client):
    account = AccountFactory.create()
    client.force_login(UserFactory.create())  # no role
    url = reverse("billing:request_exclusion", args=[account.pk])
    response = client.post(url, {"quarter": "2026Q2", "amount": "1", "evidence": "x"})
    assert response.status_code == 403
    assert not account.optimisation_exclusions.exists()


@pytest.mark.parametrize(("name", "method"), WRONG_METHOD)
def test_a_view_refuses_a_method_it_does_not_take(client, name, method):
    client.force_login(revops())
    assert call(client, method, reverse(name, kwargs=KWARGS.get(name))).status_code == 405


KWARGS = {"billing:fact_import": {"name": "invoices"}}


@pytest.mark.parametrize(
    "name",
    [
        "billing:revenue",
        "billing:quota",
        "billing:import_mrr",
        "billing:trials",
        "billing:fact_imports",
        "billing:fact_import",
    ],
)
def test_a_page_renders_in_full(client, name):
    client.force_login(revops())
    response = client.get(reverse(name, kwargs=KWARGS.get(name)))
    assert response.status_code == 200
    assert is_full_page(response)
