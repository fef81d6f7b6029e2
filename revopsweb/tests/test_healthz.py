from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from revopsweb.tests.processes import free_port


def test_every_part_is_named_when_all_answer(client, db):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "broker": "ok"}


def test_a_down_redis_is_named_with_a_503(client, db, settings):
    closed = f"redis://127.0.0.1:{free_port()}/0"
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": closed}}
    settings.CELERY_BROKER_URL = closed
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["down"]) == ("down", ["cache", "broker"])
    assert body["checks"]["database"] == "ok"
    assert "Connection refused" in body["checks"]["cache"]


@pytest.mark.django_db(transaction=True)
def test_a_down_database_is_named_with_a_503(client):
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = str(free_port())
    try:
        response = client.get(reverse("healthz"))
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port
    assert response.status_code == 503
    assert response.json()["down"] == ["database"]
    assert response.json()["checks"]["cache"] == "ok"
