"""Wrong-method, other-user and full-page cases of the lead-rule pages (see
revopsweb/tests/view_cases.py); the preview's htmx partial is in test_views.py."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.tests.factories import manager, tam
from leads.generation import catalog as c
from revopsweb.tests.view_cases import call, is_full_page

pytestmark = pytest.mark.django_db

RULE = {"key": c.PL_MRR_BAND}

WRONG_METHOD = [
    ("leadgen:rules", False, "post"),
    ("leadgen:rule", True, "put"),
    ("leadgen:rule_preview", True, "get"),
]


@pytest.mark.parametrize(("name", "with_key", "method"), WRONG_METHOD)
def test_a_view_refuses_a_method_it_does_not_take(client, name, with_key, method):
    client.force_login(manager())
    url = reverse(name, kwargs=RULE if with_key else {})
    assert call(client, method, url).status_code == 405


@pytest.mark.parametrize(
    ("name", "method"), [("leadgen:rule", "get"), ("leadgen:rule_preview", "post")]
)
def test_a_tam_is_refused_a_rule(client, name, method):
    client.force_login(tam())
    assert call(client, method, reverse(name, kwargs=RULE)).status_code == 403


@pytest.mark.parametrize(("name", "with_key"), [("leadgen:rules", False), ("leadgen:rule", True)])
def test_a_page_renders_in_full(client, name, with_key):
    client.force_login(manager())
    response = client.get(reverse(name, kwargs=RULE if with_key else {}))
    assert response.status_code == 200
    assert is_full_page(response)
