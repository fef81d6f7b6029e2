from __future__ import annotations

from django.contrib.staticfiles import finders


def test_favicon_ico_answers_with_the_apps_icon_for_anyone(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"].endswith(".svg")
    assert finders.find("img/favicon.svg") is not None


def test_every_page_names_the_icon(client):
    body = client.get("/login/").content.decode()

    assert 'rel="icon"' in body
    assert "favicon" in body
