"""People are listed in one order even when names repeat (owner selects, team lists)."""

from __future__ import annotations

import pytest

from accounts.models import User
from accounts.tests.factories import tam


@pytest.mark.django_db
def test_namesakes_are_listed_by_id_whatever_their_order_on_disk():
    first = tam(name="Alex Kim")
    second = tam(name="Alex Kim")
    # An update writes the first one's row again after the second's on disk.
    first.title = "Senior TAM"
    first.save()

    assert list(User.objects.filter(name="Alex Kim")) == [first, second]
