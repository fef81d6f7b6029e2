"""The assignment benchmark's ceilings: the replay of one real intake's SQL, and the
minimal SQL function, each write a whole assignment against today's schema."""

from __future__ import annotations

import functools
import importlib

import pytest
from django.db import connection

from accounts.models import Account, OwnershipChange
from leads.intake import Lead, intake_task
from leads.models import RoundRobinEvent, Task, TaskEvent, TaskSource
from leads.tests.factories import member

pytestmark = pytest.mark.django_db

DOMAIN = "replay.example.com"


@pytest.fixture(autouse=True)
def _restore_sequences():
    # Sequences ignore the test's rollback; put back what capture() moved so
    # later tests keep ordinary ids.
    tables = importlib.import_module("bench._replay").REFERENCED_TABLES
    with connection.cursor() as cursor:
        saved = []
        for table in tables:
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            sequence = cursor.fetchone()[0]
            cursor.execute(f"SELECT last_value, is_called FROM {sequence}")
            saved.append((sequence, *cursor.fetchone()))
    yield
    with connection.cursor() as cursor:
        for sequence, value, called in saved:
            cursor.execute("SELECT setval(%s, %s, %s)", [sequence, value, called])


def _captured() -> list[str]:
    replay = importlib.import_module("bench._replay")
    lead = Lead(name="Ada", email=f"ada@{DOMAIN}", company="Replay", country="DE")
    intake = functools.partial(intake_task, lead=lead, source=TaskSource.CONTACT_FORM)
    return replay.capture(intake, domain=DOMAIN)


def _run(script: str, n: int) -> None:
    # What pgbench does with the script: set :n, send each SQL line.
    with connection.cursor() as cursor:
        for line in script.replace(":n.", f"{n}.").splitlines():
            if line.startswith("\\") or line in {"BEGIN;", "COMMIT;"}:
                continue
            cursor.execute(line.replace("%", "%%"))


def test_each_replay_writes_a_whole_new_assignment():
    member()
    replay = importlib.import_module("bench._replay")
    statements = _captured()

    _run(replay.statements_script(statements), 1)

    task = Task.objects.get(account__domain=f"replay-r1.{DOMAIN.split('.', 1)[1]}")
    assert task.assignee is not None
    assert task.account.owner == task.assignee
    assert task.contact is not None
    assert task.contact.account == task.account
    assert TaskEvent.objects.filter(task=task).count() == 2
    assert RoundRobinEvent.objects.filter(task=task).count() == 1
    assert OwnershipChange.objects.get(account=task.account).reason.startswith(
        f"Round robin with task {task.pk}:"
    )


def test_the_one_call_shape_writes_the_same_rows():
    member()
    replay = importlib.import_module("bench._replay")
    statements = _captured()
    before = (Account.objects.count(), Task.objects.count(), TaskEvent.objects.count())

    script = replay.one_call_script(statements)
    with connection.cursor() as cursor:
        body = script.split("\n", 1)[1].replace(":n.", "2.")
        cursor.execute(body.replace("%", "%%"))

    after = (Account.objects.count(), Task.objects.count(), TaskEvent.objects.count())
    assert [b - a for a, b in zip(before, after, strict=True)] == [1, 1, 2]


def test_the_minimal_function_writes_one_whole_assignment():
    picked = member()
    sql = importlib.import_module("bench.assignment").MINIMAL_INTAKE_SQL.read_text()
    with connection.cursor() as cursor:
        cursor.execute(sql)
        cursor.execute("SELECT bench_minimal_intake(%s, %s)", [42, picked.territories.get().pk])
        (task_id,) = cursor.fetchone()

    task = Task.objects.get(pk=task_id)
    picked.refresh_from_db()
    assert task.assignee == picked.user == task.account.owner
    assert picked.leads_this_month == 1
    assert TaskEvent.objects.filter(task=task).count() == 2
    assert RoundRobinEvent.objects.filter(task=task, member=picked).count() == 1
    assert OwnershipChange.objects.filter(account=task.account).count() == 1


def test_the_pinned_script_gives_each_pgbench_client_one_territorys_script():
    replay = importlib.import_module("bench._replay")
    scripts = [replay.statements_script([f"SELECT {index}"]) for index in range(3)]

    pinned = replay.pinned_script(scripts)

    sent = {client: _branch_for(pinned, client_id=client) for client in range(8)}
    assert sent == {client: ["BEGIN;", f"SELECT {client % 3};", "COMMIT;"] for client in range(8)}


def _branch_for(script: str, *, client_id: int) -> list[str]:
    """The SQL lines pgbench sends for ``client_id``: ``\\set t`` and ``\\if`` evaluated."""
    variables: dict[str, int] = {"client_id": client_id}
    sent: list[str] = []
    taking, taken = True, False
    for line in script.splitlines():
        if line.startswith("\\set t "):
            _, name, expression = line.split(" ", 2)
            left, right = expression.split(" % ")
            variables[name] = variables[left.lstrip(":")] % int(right)
        elif line.startswith(("\\if ", "\\elif ")):
            value = int(line.rsplit("= ", 1)[1])
            taking = not taken and variables["t"] == value
            taken = taken or taking
        elif line == "\\endif":
            taking = True
        elif not line.startswith("\\") and taking:
            sent.append(line)
    return sent
