"""Handovers and churn moved out of the accounts app without moving data.

Migrates a database holding handover and churn rows back to the last state
where those models were accounts.* (and writes one more row there, as the old
code would), then forward again: every row is still there, and the content
types (with their permissions and the role groups holding them) now carry the
new app labels, under the same ids.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from accounts.churn.flags import flag_account
from accounts.churn.models import ChurnRiskFlag
from accounts.churn.tests.churn_helpers import owned_account
from accounts.handovers.models import Handover, HandoverEvent
from accounts.handovers.tests.handover_factories import csm, proposed, ready_account
from accounts.roles import Role
from accounts.tests.factories import manager, tam

LAST_OLD_STATE = ("accounts", "0007_ownershipchange_task")
BEFORE_THE_MOVE: list[tuple[str, str | None]] = [
    LAST_OLD_STATE,
    ("handovers", None),
    ("churn", None),
]


def _migrate(targets: list[tuple[str, str | None]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    ContentType.objects.clear_cache()
    return executor


def _labels(ids: list[int]) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT app_label FROM django_content_type WHERE id = ANY(%s)", [ids])
        return {row[0] for row in cursor.fetchall()}


# Two full migration plans (state rendering of every app) take a while on a busy machine.
@pytest.mark.timeout(600)
@pytest.mark.django_db(transaction=True)
def test_rows_permissions_and_groups_survive_the_move_to_the_new_apps():
    owner = tam()
    handover = proposed(ready_account(owner), csm(), by=manager())
    flag = flag_account(account=owned_account(owner), by=manager(), triggers="Usage dropped")
    handover_type = ContentType.objects.get(app_label="handovers", model="handover")
    flag_type = ContentType.objects.get(app_label="churn", model="churnriskflag")
    view_handover = Permission.objects.get(content_type=handover_type, codename="view_handover")
    assert Group.objects.filter(name=Role.TAM, permissions=view_handover).exists()
    type_ids = [handover_type.pk, flag_type.pk]

    executor = _migrate(BEFORE_THE_MOVE)
    assert _labels(type_ids) == {"accounts"}
    old_apps = executor.loader.project_state(LAST_OLD_STATE).apps
    old_event = old_apps.get_model("accounts", "HandoverEvent").objects.create(
        handover_id=handover.pk, action="note", actor_id=owner.pk, at=timezone.now(), note="old"
    )

    executor = _migrate(executor.loader.graph.leaf_nodes())
    assert _labels(type_ids) == {"handovers", "churn"}
    assert Handover.objects.get(pk=handover.pk).account_id == handover.account_id
    assert HandoverEvent.objects.get(pk=old_event.pk).reason == "old"
    assert ChurnRiskFlag.objects.get(pk=flag.pk).triggers == "Usage dropped"
    view_handover.refresh_from_db()
    assert view_handover.content_type_id == handover_type.pk
    assert Group.objects.filter(name=Role.TAM, permissions=view_handover).exists()
    assert not ContentType.objects.filter(app_label="accounts", model="handover").exists()
