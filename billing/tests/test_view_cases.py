"""Wrong-method and full-page cases of the revenue pages (see
revopsweb/tests/view_cases.py); their other-user and htmx cases are in test_views.py."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.tests.factories import revops
from revopsweb.tests.view_cases import call, is_full_page

pytestmark = pytest.mark.django_db

WRONG_METHOD = [
    ("billing:revenue", "post"),
    ("billing:revenue_csv", "post"),
    ("billing:quota", "post"),
    ("billing:import_mrr", "put"),
]


@pytest.mark.parametrize(("name", "method"), WRONG_METHOD)
def test_a_view_refuses_a_method_it_does_not_take(client, name, method):
    client.force_login(revops())
    assert call(client, method, reverse(name)).status_code == 405


@pytest.mark.parametrize("name", ["billing:revenue", "billing:quota", "billing:import_mrr"])
def test_a_page_renders_in_full(client, name):
    client.force_login(revops())
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert is_full_page(response)
