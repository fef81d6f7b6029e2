"""RefuseNulMiddleware: a NUL in the query string or a header is a 400 naming the field, JSON on
API paths."""

from __future__ import annotations


def test_an_api_path_answers_the_json_error_shape(client):
    response = client.get("/api/intake/tasks?territory=a%00b")

    assert response.status_code == 400
    assert response.json() == {"errors": {"territory": ["A NUL character is not allowed here."]}}


def test_a_page_answers_plain_text_naming_the_field(client):
    response = client.get("/tracker/?territory=%00")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == "territory: A NUL character is not allowed here."


def test_a_header_is_refused_by_its_name(client):
    response = client.get("/login/", HTTP_X_REQUESTED_WITH="a\x00b")

    assert response.status_code == 400
    assert response.content.decode() == "X-Requested-With: A NUL character is not allowed here."
