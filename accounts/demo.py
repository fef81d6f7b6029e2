"""A deterministic demo company: staff, customer accounts and their owners.

``python manage.py seed_demo`` runs the demo steps of every installed app: each
app's ``demo`` module offers ``demo_steps()`` (this one: staff, accounts and
books, seeded by ``accounts.demo_staff``, ``accounts.demo_accounts`` and
``accounts.demo_books``), and the command finds them through the app registry
(``installed_demo_steps``), so the core never imports the apps built on it. Each step draws from its own
``random.Random`` seeded from the run's seed and the step's name, so the same
seed always builds the same company and adding a step never changes what the
earlier ones produce.

Writes are bulk only: on PostgreSQL rows go through ``COPY``, elsewhere through
``bulk_create`` in batches, so 100,000 accounts with two years of revenue seed
in a few minutes.
"""

from __future__ import annotations

import datetime as dt
import importlib
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pghistory.models
from django.apps import apps
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.module_loading import module_has_submodule

from revopsweb.dates import add_months, company_today, month_range, month_start

from .models import Plan, User

DEMO_EMAIL_DOMAIN = "demo.revopsweb.test"
# The names django-pgtrigger gives pghistory's event triggers (pghistory's default trackers).
HISTORY_TRIGGER_NAMES = r"^pgtrigger_(insert_insert|update_update|delete_delete)_"
DEMO_PASSWORD = "demo"  # noqa: S105 - the published password of the demo logins
# The fixed logins of the quick start, with what each one shows.
DEMO_LOGINS: dict[str, str] = {
    f"tam@{DEMO_EMAIL_DOMAIN}": "TAM (US) with a book of accounts",
    f"csm@{DEMO_EMAIL_DOMAIN}": "CSM (US) with a book of accounts",
    f"tae@{DEMO_EMAIL_DOMAIN}": "TAE (US) with new-business leads and the accounts they brought in",
    f"lead@{DEMO_EMAIL_DOMAIN}": "Team lead of the US TAMs",
    f"manager@{DEMO_EMAIL_DOMAIN}": "Manager (head of sales)",
    f"revops@{DEMO_EMAIL_DOMAIN}": "RevOps, with admin access",
}
DEFAULT_SEED = 42
DEFAULT_ACCOUNTS = 2_000
DEFAULT_MONTHS = 24
DEMO_SOURCE = "demo seed"
REACTIVATED_LEVEL = 0.7  # accounts that come back after churning spend less


# --- The run and its steps -------------------------------------------------


@dataclass(slots=True)
class AccountProfile:
    """The revenue story of one demo account, shared with ``billing.demo``.

    Month indexes count from the first month of the seeded window (0) to the
    current month (``month_count - 1``).
    """

    organization_id: str
    region: str
    base_mrr: float  # dollars in the first paid month of the window
    growth: float  # monthly growth rate
    start: int | None  # first paid month in the window; None for trials that never paid
    churn: int | None = None  # first month without revenue
    reactivate: int | None = None  # first month revenue comes back after churn
    plan: str = Plan.MONTHLY
    account_id: int = 0  # set once the account row exists
    # How many of the three core products the account pays for from its first paid
    # month (None: drawn like any other product). Set on the demo logins' handover
    # candidates so each handover can be walked without an override.
    core_products: int | None = None

    def is_paying(self, month: int) -> bool:
        if self.start is None or month < self.start:
            return False
        if self.churn is None or month < self.churn:
            return True
        return self.reactivate is not None and month >= self.reactivate

    def expected_mrr(self, month: int) -> float:
        """Revenue the story expects in ``month``, before billing's noise and spikes."""
        if self.start is None or not self.is_paying(month):
            return 0.0
        mrr = self.base_mrr * (1 + self.growth) ** (month - self.start)
        if self.reactivate is not None and month >= self.reactivate:
            mrr *= REACTIVATED_LEVEL
        return mrr


@dataclass
class DemoContext:
    """One seeding run: its options, and what earlier steps made for later ones."""

    seed: int
    account_count: int
    month_count: int
    today: dt.date
    now: dt.datetime
    staff_by_role: dict[str, list[User]] = field(default_factory=dict)
    profiles: list[AccountProfile] = field(default_factory=list)

    @property
    def months(self) -> list[dt.date]:
        """First days of the seeded months, oldest first, ending with the current month."""
        current = month_start(self.today)
        return month_range(add_months(current, 1 - self.month_count), current)

    def rng(self, step: str) -> random.Random:
        """A generator of its own per step, so steps never shift each other's draws."""
        return random.Random(f"{self.seed}:{step}")


@dataclass(frozen=True)
class DemoStep:
    """One entry of the seed_demo step list.

    ``run`` seeds and returns the rows it wrote by label; ``reset`` removes what
    the step seeds (steps are reset in reverse order before a ``--reset`` run).
    """

    name: str
    run: Callable[[DemoContext], dict[str, int]]
    reset: Callable[[], None] | None = None
    # Steps run in ascending order (ties: app order); a step may rely on the
    # rows of every step before it.
    order: int = 100


# --- Bulk writes -------------------------------------------------------------


def demo_login_lines() -> list[str]:
    """The demo logins, as seed_demo and the quick start print them (one format)."""
    return [
        f"Demo logins (password {DEMO_PASSWORD!r}):",
        *(f"  {email:<32} {what}" for email, what in DEMO_LOGINS.items()),
    ]


def insert_rows(
    *, model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Insert ``rows`` (values in the order of the ``fields`` attnames); return the count.

    Concrete fields left out of ``fields`` get their model default, so a field a
    later migration adds does not break the seed. The rows stream through one
    COPY (psycopg 3), and the table stays locked (ACCESS EXCLUSIVE) until the
    transaction ends.
    """
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    missing = [
        f
        for f in model._meta.concrete_fields
        if f.attname not in fields
        and not f.primary_key
        and (f.has_default() or f.null or _is_auto_time(f))
    ]
    extra_values = tuple(_default_value(f) for f in missing)
    all_fields = [*fields, *(f.attname for f in missing)]
    count = 0
    quote = connection.ops.quote_name
    table_name = str(model._meta.db_table)
    table = quote(table_name)
    columns = ", ".join(quote(str(by_attname[name].column)) for name in all_fields)
    # Atomic: the foreign keys are dropped for the COPY and must come back
    # even when called outside seed_demo's transaction.
    with transaction.atomic(), connection.cursor() as cursor:
        # Django's foreign keys are deferred: each copied row would queue one
        # trigger per key, checked one by one at commit (about as long as the
        # COPY itself at millions of rows). Re-adding the constraint checks
        # every row in one join instead ("Populating a Database" in the
        # PostgreSQL manual).
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
            [table_name],
        )
        foreign_keys = cursor.fetchall()
        if foreign_keys:
            # A table with pending trigger events cannot be altered: run the
            # checks queued by earlier steps now.
            connection.check_constraints()
        for name, _ in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
        # Seeded rows are not changes anyone made: django-pghistory's row
        # triggers stay out of the COPY, which they would double; other
        # triggers (the MRR rollup's) run as always.
        with history_off(table_name), cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            write_row = copy.write_row
            for row in rows:
                write_row((*row, *extra_values) if extra_values else row)
                count += 1
        for name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")
    return count


@contextmanager
def history_off(*tables: type[models.Model] | str) -> Iterator[None]:
    """Bulk-write ``tables`` (model classes or table names) without
    django-pghistory's row triggers: seeded or synthetic rows are not changes
    anyone made (the demo seed, ``insert_rows`` and the benchmarks' loads), and
    the history trigger cost about 300 µs a row (3/4 of an INSERT ... SELECT
    into billing_monthlyrevenue at load 12).

    The switch runs in a savepoint (a transaction outside one), so a failure
    leaves the triggers on; other triggers (the MRR rollup's) run as always.
    A table with pending deferred foreign key checks cannot be altered, so
    those run first (``SET CONSTRAINTS ALL IMMEDIATE``, then back to deferred)
    before the triggers go off and again before they come back on.
    """
    quote = connection.ops.quote_name
    names = [t if isinstance(t, str) else str(t._meta.db_table) for t in tables]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT tgrelid::regclass::text, tgname FROM pg_trigger"
                " WHERE tgrelid = ANY(%s::regclass[]) AND tgname ~ %s",
                [names, HISTORY_TRIGGER_NAMES],
            )
            triggers = [(quote(table), quote(name)) for table, name in cursor.fetchall()]
            if triggers:
                connection.check_constraints()
            for table, name in triggers:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {name}")
        yield
        if triggers:
            connection.check_constraints()
        with connection.cursor() as cursor:
            for table, name in triggers:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {name}")


def _is_auto_time(f: models.Field[Any, Any]) -> bool:
    return isinstance(f, models.DateField) and bool(f.auto_now or f.auto_now_add)


def _default_value(f: models.Field[Any, Any]) -> Any:
    if _is_auto_time(f):
        return timezone.now() if isinstance(f, models.DateTimeField) else company_today()
    return f.get_default()


def truncate(*tables: type[models.Model]) -> None:
    """Empty the tables of ``tables`` and everything that references them.

    One TRUNCATE ... CASCADE, identities restarted so a reseed gets the same ids.
    """
    # The recorded history of a replaced demo describes rows that are gone (and ids
    # that the new demo reuses): it goes with them.
    history = [
        m
        for m in apps.get_models()
        if issubclass(m, pghistory.models.Event) and m._meta.managed and not m._meta.proxy
    ]
    names = ", ".join(connection.ops.quote_name(str(m._meta.db_table)) for m in (*tables, *history))
    with connection.cursor() as cursor:
        # Rows inserted earlier in this transaction leave deferred FK checks
        # pending, and TRUNCATE refuses a table with pending trigger events:
        # run those checks now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


# --- The steps of this app and their discovery ---------------------------------


def demo_steps() -> list[DemoStep]:
    """The accounts app's steps: staff, customer accounts with owners, books."""
    from .demo_accounts import reset_accounts, seed_accounts
    from .demo_books import seed_books
    from .demo_staff import reset_staff, seed_staff

    return [
        DemoStep("staff", seed_staff, reset_staff, order=10),
        DemoStep("accounts", seed_accounts, reset_accounts, order=20),
        # Books fill the weekly history after churn wrote its warning patterns
        # (both skip weeks that already exist).
        DemoStep(
            "books",
            lambda ctx: {
                "plans, notes, snapshots": seed_books(rng=ctx.rng("books"), today=ctx.today)
            },
            order=60,
        ),
    ]


def installed_demo_steps() -> list[DemoStep]:
    """Every installed app's demo steps (``<app>.demo.demo_steps()``), by ``order``.

    Found through the app registry, not imported by name: apps built on the
    accounts core add their demo data without the core importing them.
    """
    steps: list[DemoStep] = []
    for config in apps.get_app_configs():
        if module_has_submodule(config.module, "demo"):
            module = importlib.import_module(f"{config.name}.demo")
            if hasattr(module, "demo_steps"):
                steps.extend(module.demo_steps())
    return sorted(steps, key=lambda step: step.order)
