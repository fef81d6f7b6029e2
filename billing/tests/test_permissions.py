"""Role × action matrix of billing.permissions, the expected answers written out."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from accounts.models import User
from accounts.tests.factories import MATRIX_ROLES, actor
from billing import permissions

pytestmark = pytest.mark.django_db

ACTIONS: dict[str, Callable[[User], bool]] = {
    "see revenue": permissions.can_see_revenue,
    "open the quota page": permissions.can_see_quota,
    "see every TAM's quota": permissions.can_see_every_quota,
    "import monthly revenue": permissions.can_import_revenue,
}

Y, N = True, False
# Columns: TAM, CSM, TAE, team lead, manager, RevOps, superuser.
EXPECTED: dict[str, tuple[bool, ...]] = {
    "see revenue": (Y, N, N, Y, Y, Y, Y),
    "open the quota page": (Y, N, N, Y, Y, Y, Y),
    "see every TAM's quota": (N, N, N, Y, Y, Y, Y),
    "import monthly revenue": (N, N, N, N, N, Y, Y),
}

CASES = [
    pytest.param(kind, action, EXPECTED[action][i], id=f"{kind}-{action}")
    for action in ACTIONS
    for i, kind in enumerate(MATRIX_ROLES)
]


def test_the_matrix_covers_every_action():
    assert set(EXPECTED) == set(ACTIONS)


@pytest.mark.parametrize(("kind", "action", "allowed"), CASES)
def test_role_may_or_may_not(kind, action, allowed):
    assert ACTIONS[action](actor(kind)) is allowed
