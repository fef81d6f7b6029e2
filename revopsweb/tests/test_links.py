from __future__ import annotations

from django.urls import reverse

from revopsweb.links import path_for_pk


def test_a_row_link_is_what_reverse_gives_for_that_pk():
    for name in ("accounts:account", "churn:flag"):
        path = path_for_pk(name)
        for pk in (1, 7, 10, 987, 9_876_543_210_124):
            assert path(pk) == reverse(name, args=[pk])
