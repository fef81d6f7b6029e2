"""A deterministic demo company: staff, customer accounts and their owners.

``python manage.py seed_demo`` runs the steps of this module, then those of
``billing.demo`` (and whatever later apps append). Each step draws from its own
``random.Random`` seeded from the run's seed and the step's name, so the same
seed always builds the same company and adding a step never changes what the
earlier ones produce.

Writes are bulk only: on PostgreSQL rows go through ``COPY``, elsewhere through
``bulk_create`` in batches, so 100,000 accounts with two years of revenue seed
in a few minutes.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection, models, transaction
from django.utils import timezone

from leads.models import Territory
from leads.territories import ensure_territories
from revopsweb.dates import add_months, company_today, month_range, month_start

from .models import Account, Health, OwnerRole, OwnershipChange, Plan, Region, User
from .roles import Role, ensure_role_groups

DEMO_EMAIL_DOMAIN = "demo.revopsweb.test"
DEMO_PASSWORD = "demo"  # noqa: S105 - the published password of the demo logins
# The fixed logins of the quick start, with what each one shows.
DEMO_LOGINS: dict[str, str] = {
    f"tam@{DEMO_EMAIL_DOMAIN}": "TAM (US) with a book of accounts",
    f"csm@{DEMO_EMAIL_DOMAIN}": "CSM (US) with a book of accounts",
    f"tae@{DEMO_EMAIL_DOMAIN}": "TAE (US) with a few new accounts",
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
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            write_row = copy.write_row
            for row in rows:
                write_row((*row, *extra_values) if extra_values else row)
                count += 1
        for name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")
    return count


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
    names = ", ".join(connection.ops.quote_name(str(m._meta.db_table)) for m in tables)
    with connection.cursor() as cursor:
        # Rows inserted earlier in this transaction leave deferred FK checks
        # pending, and TRUNCATE refuses a table with pending trigger events:
        # run those checks now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


# --- Staff -----------------------------------------------------------------

_FIRST_NAMES = (
    "Ada", "Amara", "Anika", "Ben", "Bruno", "Camille", "Carlos", "Chloe", "Dara", "Diego",
    "Elena", "Emeka", "Eva", "Farah", "Finn", "Grace", "Hana", "Hugo", "Imani", "Isak",
    "Jonas", "Julia", "Kai", "Kenji", "Lars", "Leila", "Lucas", "Maya", "Mateo", "Mila",
    "Nadia", "Nils", "Noah", "Olivia", "Omar", "Priya", "Rafael", "Rosa", "Sami", "Sofia",
    "Tariq", "Tess", "Theo", "Uma", "Victor", "Wen", "Yara", "Zoe",
)  # fmt: skip
_LAST_NAMES = (
    "Adeyemi", "Andersen", "Becker", "Bianchi", "Chen", "Costa", "Dubois", "Eriksson", "Fischer",
    "Garcia", "Haddad", "Hansen", "Ito", "Jansen", "Kowalski", "Larsen", "Lopez", "Martin",
    "Mensah", "Moreau", "Murphy", "Nakamura", "Novak", "Okafor", "Patel", "Petrov", "Quinn",
    "Rossi", "Santos", "Schmidt", "Silva", "Singh", "Tanaka", "Van Dijk", "Walsh", "Weber",
    "Wright", "Yilmaz", "Zhang",
)  # fmt: skip


@dataclass(frozen=True)
class _StaffSlot:
    key: str  # names the slot for team_lead references
    role: str
    region: str
    title: str
    lead: str | None = None  # key of the slot this person reports to
    login: str | None = None  # local part of a fixed demo login
    ramping: bool = False  # started in the last three months


def _staff_plan() -> list[list[_StaffSlot]]:
    """The org chart in tiers: a slot's lead is always in an earlier tier."""
    managers = [
        _StaffSlot("sales_head", Role.MANAGER, Region.US, "Head of Sales", login="manager"),
        _StaffSlot("cs_head", Role.MANAGER, Region.EU, "Head of Customer Success"),
    ]
    leads = [
        _StaffSlot(
            "am_us",
            Role.TEAM_LEAD,
            Region.US,
            "Team lead, Account Management (US)",
            "sales_head",
            "lead",
        ),
        _StaffSlot(
            "am_eu", Role.TEAM_LEAD, Region.EU, "Team lead, Account Management (EU)", "sales_head"
        ),
        _StaffSlot("nb", Role.TEAM_LEAD, Region.US, "Team lead, New Business", "sales_head"),
        _StaffSlot("cs", Role.TEAM_LEAD, Region.EU, "Team lead, Customer Success", "cs_head"),
        _StaffSlot("revops", Role.REVOPS, Region.US, "RevOps lead", "sales_head", "revops"),
    ]
    members: list[_StaffSlot] = [
        _StaffSlot("revops2", Role.REVOPS, Region.EU, "RevOps analyst", "revops")
    ]

    def add(
        role: str,
        region: str,
        title: str,
        lead: str,
        count: int,
        *,
        login: str = "",
        ramping: int = -1,
    ) -> None:
        for i in range(count):
            members.append(
                _StaffSlot(
                    f"{role}_{region}_{i}",
                    role,
                    region,
                    title,
                    lead,
                    login=login if i == 0 and login else None,
                    ramping=i == ramping,
                )
            )

    # One TAM and one TAE are new (quota ramp); never the fixed logins.
    add(Role.TAM, Region.US, "Technical Account Manager", "am_us", 7, login="tam", ramping=6)
    add(Role.TAM, Region.EU, "Technical Account Manager", "am_eu", 5)
    add(Role.TAE, Region.US, "Technical Account Executive", "nb", 3, login="tae")
    add(Role.TAE, Region.EU, "Technical Account Executive", "nb", 3, ramping=2)
    add(Role.CSM, Region.US, "Customer Success Manager", "cs", 4, login="csm")
    add(Role.CSM, Region.EU, "Customer Success Manager", "cs", 4)
    add(Role.ONBOARDING, Region.US, "Onboarding Specialist", "cs", 2)
    add(Role.ONBOARDING, Region.EU, "Onboarding Specialist", "cs", 1)
    add(Role.BDR, Region.US, "Business Development Representative", "nb", 2)
    add(Role.BDR, Region.EU, "Business Development Representative", "nb", 2)
    return [managers, leads, members]


def _quarterly_quota(rng: random.Random, role: str) -> Decimal | None:
    if role == Role.TAM:
        return Decimal(rng.randrange(250_000, 450_001, 25_000))
    if role == Role.TAE:
        return Decimal(rng.randrange(150_000, 300_001, 25_000))
    return None


def seed_staff(ctx: DemoContext) -> dict[str, int]:
    """Create about 40 staff across roles and regions, with the fixed demo logins.

    Not idempotent: expects no demo staff (seed_demo resets or refuses first).
    """
    ensure_role_groups()
    rng = ctx.rng("staff")
    # Hashing is deliberately slow, so every demo user shares one hash.
    password = make_password(DEMO_PASSWORD)
    groups = dict(Group.objects.values_list("name", "pk"))
    names = iter(rng.sample([f"{f} {last}" for f in _FIRST_NAMES for last in _LAST_NAMES], k=60))
    by_key: dict[str, User] = {}
    memberships = []
    for tier in _staff_plan():
        users = []
        for slot in tier:
            name = next(names)
            if slot.ramping:
                started_on = ctx.today - dt.timedelta(days=rng.randint(10, 80))
            else:
                started_on = ctx.today - dt.timedelta(days=rng.randint(120, 1_800))
            local = slot.login or name.lower().replace(" ", ".")
            title = slot.title
            if (
                slot.role in {Role.TAM, Role.TAE, Role.CSM}
                and not slot.ramping
                and rng.random() < 0.3
            ):
                title = f"Senior {title}"
            users.append(
                User(
                    email=f"{local}@{DEMO_EMAIL_DOMAIN}",
                    name=name,
                    title=title,
                    region=slot.region,
                    team_lead=by_key[slot.lead] if slot.lead else None,
                    started_on=started_on,
                    quarterly_quota=_quarterly_quota(rng, slot.role),
                    password=password,
                    is_staff=slot.role == Role.REVOPS,
                    date_joined=dt.datetime.combine(started_on, dt.time(9), tzinfo=dt.UTC),
                )
            )
        User.objects.bulk_create(users)
        for slot, user in zip(tier, users, strict=True):
            by_key[slot.key] = user
            ctx.staff_by_role.setdefault(slot.role, []).append(user)
            memberships.append(User.groups.through(user_id=user.pk, group_id=groups[slot.role]))
    User.groups.through.objects.bulk_create(memberships)
    return {"staff": len(by_key), "role memberships": len(memberships)}


def reset_staff() -> None:
    """Delete the demo staff (emails on the demo domain). Idempotent."""
    User.objects.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}").delete()


def demo_staff_exists() -> bool:
    return User.objects.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}").exists()


# --- Customer accounts -------------------------------------------------------

_NAME_STARTS = (
    "Acme", "Alpine", "Amber", "Apex", "Arc", "Atlas", "Aurora", "Beacon", "Birch", "Blue",
    "Bolt", "Bright", "Cedar", "Cinder", "Cloud", "Cobalt", "Comet", "Coral", "Crest", "Delta",
    "Echo", "Ember", "Fern", "Flint", "Forge", "Fox", "Glacier", "Granite", "Harbor", "Helix",
    "Hive", "Indigo", "Iris", "Jade", "Juniper", "Kite", "Lark", "Lumen", "Lunar", "Maple",
    "Meadow", "Mint", "Nimbus", "North", "Nova", "Oak", "Onyx", "Orbit", "Pebble", "Pine",
    "Pixel", "Prism", "Quartz", "Quill", "Rapid", "Raven", "Ridge", "River", "Rocket", "Sage",
    "Signal", "Silver", "Solar", "Spark", "Spruce", "Stellar", "Summit", "Swift", "Tidal",
    "Timber", "Umber", "Vector", "Velvet", "Vertex", "Willow", "Zen", "Zephyr",
)  # fmt: skip
_NAME_ENDS = (
    "Analytics", "Apps", "Bank", "Bio", "Cloud", "Commerce", "Data", "Dynamics", "Energy",
    "Finance", "Foods", "Games", "Health", "HQ", "Insights", "Labs", "Learning", "Logistics",
    "Media", "Mobility", "Networks", "Pay", "Robotics", "Security", "Software", "Studio",
    "Systems", "Technologies", "Travel", "Works",
)  # fmt: skip
_TLDS = (".com", ".com", ".com", ".io", ".io", ".ai", ".co", ".dev", ".app")
_BUSINESS_TYPES = (
    "B2B SaaS", "B2B SaaS", "B2B SaaS", "Developer tools", "E-commerce", "Fintech", "Healthtech",
    "Marketplace", "Media", "Gaming", "AI", "Edtech", "Agency", "Consumer app",
)  # fmt: skip
# (country, weight, territory slugs to pick from). US state is unknown for a
# share of US accounts (Territory 1); a few accounts have no country at all.
_COUNTRIES: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("US", 42, ("us-west", "us-east", "us-west", "us-east", "territory-1")),
    ("CA", 4, ("us-west", "us-east")),
    ("BR", 2, ("us-east",)),
    ("MX", 1, ("us-east",)),
    ("GB", 9, ("europe-africa",)),
    ("DE", 7, ("europe-africa",)),
    ("FR", 5, ("europe-africa",)),
    ("NL", 3, ("europe-africa",)),
    ("SE", 2, ("europe-africa",)),
    ("ES", 2, ("europe-africa",)),
    ("IE", 1, ("europe-africa",)),
    ("PL", 1, ("europe-africa",)),
    ("CH", 1, ("europe-africa",)),
    ("ZA", 1, ("europe-africa",)),
    ("NG", 1, ("europe-africa",)),
    ("IN", 4, ("asia-middle-east",)),
    ("IL", 2, ("asia-middle-east",)),
    ("SG", 2, ("asia-middle-east",)),
    ("AE", 1, ("asia-middle-east",)),
    ("JP", 1, ("asia-middle-east",)),
    ("AU", 3, ("australia-new-zealand",)),
    ("NZ", 1, ("australia-new-zealand",)),
    ("", 1, ("territory-3",)),
)
_US_REGION_COUNTRIES = frozenset({"US", "CA", "BR", "MX", "AU", "NZ", ""})

# Spend is power-law distributed: most accounts pay little, a few pay a lot.
_SPEND_SCALE = 120.0  # dollars a month at the Pareto minimum
_SPEND_ALPHA = 1.0
_SPEND_CAP = 150_000.0
_SHARE_TRIAL = 0.02
_SHARE_STARTUP = 0.08
_SHARE_ANNUAL = 0.05
_SHARE_BEFORE_WINDOW = 0.35  # paying since before the first seeded month
_SHARE_CHURN = 0.12
_SHARE_REACTIVATE = 0.25  # of churned accounts
_ANNUAL_DISCOUNTS = (Decimal("0.100"), Decimal("0.150"), Decimal("0.200"), Decimal("0.250"))
_SHARE_LEFT_FOR_ALLOCATION = 0.15  # of accounts in TAM range, left unowned on purpose
_MAX_OWNED_SHARE = 0.45  # keeps many accounts unowned at small scales too


def _draw_profile(
    rng: random.Random, *, organization_id: str, region: str, month_count: int
) -> AccountProfile:
    roll = rng.random()
    plan = Plan.MONTHLY
    if roll < _SHARE_TRIAL:
        plan = Plan.TRIAL
    elif roll < _SHARE_TRIAL + _SHARE_STARTUP:
        plan = Plan.STARTUP
    elif roll < _SHARE_TRIAL + _SHARE_STARTUP + _SHARE_ANNUAL:
        plan = Plan.ANNUAL
    base = min(_SPEND_SCALE * rng.paretovariate(_SPEND_ALPHA), _SPEND_CAP)
    growth = min(max(rng.gauss(0.02, 0.04), -0.06), 0.12)
    if plan == Plan.TRIAL:
        return AccountProfile(organization_id, region, base, growth, None, plan=plan)
    if plan == Plan.STARTUP:
        start = month_count - rng.randint(1, min(12, month_count))
    elif rng.random() < _SHARE_BEFORE_WINDOW:
        start = 0
    else:
        start = rng.randrange(month_count)
    if plan == Plan.ANNUAL:
        # Annual contracts: committed spend, billed flat each month.
        base, growth = max(base, 1_000.0), 0.0
    profile = AccountProfile(organization_id, region, base, growth, start, plan=plan)
    if plan != Plan.ANNUAL and start + 2 < month_count and rng.random() < _SHARE_CHURN:
        profile.churn = rng.randint(start + 2, month_count - 1)
        if rng.random() < _SHARE_REACTIVATE and profile.churn + 2 < month_count:
            profile.reactivate = rng.randint(
                profile.churn + 2, min(profile.churn + 6, month_count - 1)
            )
    return profile


@dataclass(slots=True)
class _Ownership:
    owner: User
    role: str
    since: dt.date
    am_managed: bool = False
    is_lead: bool = False


def _recent_arr(profile: AccountProfile, month_count: int) -> float:
    """ARR that decides the book: the latest of the last three months with revenue.

    Looking back three months keeps a few just-churned accounts in books, as
    happens in real ones.
    """
    for month in range(month_count - 1, max(month_count - 4, -1), -1):
        mrr = profile.expected_mrr(month)
        if mrr:
            return mrr * 12
    return 0.0


def _assign_owners(
    rng: random.Random,
    ctx: DemoContext,
    profiles: list[AccountProfile],
    first_paid: list[dt.date | None],
) -> dict[int, _Ownership]:
    """Fill TAM books from the largest accounts, then CSM books, then a few TAE deals.

    TAMs get 12-18 accounts each (some past the 15 cap), CSMs 25-30, TAEs 3-6
    young accounts; a share of large accounts is left unowned for allocation.
    """
    month_count = ctx.month_count
    budget = int(len(profiles) * _MAX_OWNED_SHARE)
    slots: dict[tuple[str, str], list[User]] = {}
    for role, low, high in ((Role.TAM, 12, 18), (Role.CSM, 25, 30), (Role.TAE, 3, 6)):
        for user in ctx.staff_by_role.get(role, []):
            slots.setdefault((role, user.region), []).extend([user] * rng.randint(low, high))
    for pool in slots.values():
        rng.shuffle(pool)

    def since(user: User, index: int) -> dt.date:
        earliest = max(first_paid[index] or ctx.today, user.started_on or ctx.today)
        return earliest + dt.timedelta(days=rng.randint(0, max((ctx.today - earliest).days, 0)))

    arr = [_recent_arr(p, month_count) for p in profiles]
    owned: dict[int, _Ownership] = {}
    # TAEs close new business: accounts that started paying in the last four months.
    young = [
        i
        for i, p in enumerate(profiles)
        if p.start is not None and p.start >= month_count - 4 and arr[i]
    ]
    young.sort(key=lambda i: -arr[i])
    for index in young[: len(young) // 3]:
        tae_pool = slots.get((Role.TAE, profiles[index].region))
        if tae_pool and len(owned) < budget:
            user = tae_pool.pop()
            owned[index] = _Ownership(user, OwnerRole.TAE, since(user, index))
    for index in sorted(range(len(profiles)), key=lambda i: -arr[i]):
        if len(owned) >= budget or not arr[index]:
            break
        if index in owned:
            continue
        region = profiles[index].region
        tam_pool = slots.get((Role.TAM, region))
        if tam_pool:
            if rng.random() < _SHARE_LEFT_FOR_ALLOCATION:
                continue
            user = tam_pool.pop()
            managed = rng.random() < 0.85
            owned[index] = _Ownership(
                user, OwnerRole.TAM, since(user, index), am_managed=managed, is_lead=not managed
            )
            continue
        csm_pool = slots.get((Role.CSM, region))
        if csm_pool:
            user = csm_pool.pop()
            owned[index] = _Ownership(user, OwnerRole.CSM, since(user, index))
    return owned


# Account columns written by the seed, in row order.
_ACCOUNT_FIELDS = (
    "name", "domain", "organization_id", "country", "region", "territory_id", "employee_count",
    "business_type", "plan", "credit_balance", "credit_expires_on", "has_discount_agreement",
    "annual_discount", "renewal_date", "health", "active_users_30d", "last_contact_at",
    "first_paid_month", "owner_id", "owner_role", "owner_since", "tam_overlay_id",
    "onboarding_specialist_id", "new_owner_trait", "am_managed", "is_lead", "created_at", "updated_at",
)  # fmt: skip
_OWNERSHIP_FIELDS = (
    "account_id", "previous_owner_id", "new_owner_id", "new_owner_role", "changed_by_id",
    "changed_at", "effective_on", "reason", "source",
)  # fmt: skip


def organization_id_for(index: int) -> str:
    """The demo organization id of the ``index``-th account (0-based)."""
    return f"org_{index + 1:06d}"


def seed_accounts(ctx: DemoContext) -> dict[str, int]:
    """Create ``ctx.account_count`` customer accounts with owners and their profiles.

    Leaves the profiles (with account ids) in ``ctx.profiles`` for the revenue
    step. Not idempotent: expects no accounts (seed_demo resets or refuses first).
    """
    ensure_territories()
    rng = ctx.rng("accounts")
    months = ctx.months
    territories = {t.slug: t for t in Territory.objects.all()}
    codes = [code for code, _, _ in _COUNTRIES]
    cum_weights = list(itertools.accumulate(weight for _, weight, _ in _COUNTRIES))
    slugs = {code: options for code, _, options in _COUNTRIES}

    countries = rng.choices(codes, cum_weights=cum_weights, k=ctx.account_count)
    placed: list[tuple[str, Territory | None, str]] = []
    profiles: list[AccountProfile] = []
    first_paid: list[dt.date | None] = []
    for index, country in enumerate(countries):
        territory = territories.get(rng.choice(slugs[country]))
        region = (territory.ownership_region if territory else "") or (
            Region.US if country in _US_REGION_COUNTRIES else Region.EU
        )
        placed.append((country, territory, region))
        profile = _draw_profile(
            rng,
            organization_id=organization_id_for(index),
            region=region,
            month_count=ctx.month_count,
        )
        profiles.append(profile)
        if profile.start is None:
            first_paid.append(None)
        elif profile.start == 0:
            first_paid.append(add_months(months[0], -rng.randint(0, 36)))
        else:
            first_paid.append(months[profile.start])
    owned = _assign_owners(rng, ctx, profiles, first_paid)

    rows = _account_rows(
        rng, ctx, profiles=profiles, placed=placed, first_paid=first_paid, owned=owned
    )
    count = insert_rows(model=Account, fields=_ACCOUNT_FIELDS, rows=rows)
    ids = dict(Account.objects.values_list("organization_id", "pk"))
    for profile in profiles:
        profile.account_id = ids[profile.organization_id]
    ctx.profiles = profiles

    changes = (
        (
            profiles[index].account_id,
            None,
            ownership.owner.pk,
            ownership.role,
            None,
            min(
                dt.datetime.combine(
                    ownership.since, dt.time(hour=rng.randint(8, 18)), tzinfo=dt.UTC
                ),
                ctx.now,
            ),
            ownership.since,
            "Initial book of the demo company.",
            DEMO_SOURCE,
        )
        for index, ownership in sorted(owned.items())
    )
    change_count = insert_rows(model=OwnershipChange, fields=_OWNERSHIP_FIELDS, rows=changes)
    return {"accounts": count, "owned accounts": len(owned), "ownership changes": change_count}


def _account_rows(
    rng: random.Random,
    ctx: DemoContext,
    *,
    profiles: list[AccountProfile],
    placed: list[tuple[str, Territory | None, str]],
    first_paid: list[dt.date | None],
    owned: dict[int, _Ownership],
) -> Iterator[tuple[Any, ...]]:
    """One Account row per profile, in ``_ACCOUNT_FIELDS`` order (a generator: 100k rows stream)."""
    now, today, last = ctx.now, ctx.today, ctx.month_count - 1
    tams_by_region: dict[str, list[User]] = {}
    onboarders_by_region: dict[str, list[User]] = {}
    for user in ctx.staff_by_role.get(Role.TAM, []):
        tams_by_region.setdefault(user.region, []).append(user)
    for user in ctx.staff_by_role.get(Role.ONBOARDING, []):
        onboarders_by_region.setdefault(user.region, []).append(user)
    domains: dict[str, int] = {}
    for index, profile in enumerate(profiles):
        country, territory, region = placed[index]
        start, end = rng.choice(_NAME_STARTS), rng.choice(_NAME_ENDS)
        stem = f"{start}{end}".lower()
        seen = domains.get(stem, 0)
        domains[stem] = seen + 1
        domain = f"{stem}{seen + 1 if seen else ''}{rng.choice(_TLDS)}"

        arr = profile.expected_mrr(last) * 12
        paying = profile.is_paying(last)
        employees = min(max(int(math.exp(rng.gauss(math.log(8 + arr / 800), 0.7))), 1), 250_000)
        if profile.plan == Plan.TRIAL:
            health = ""
        elif not paying:
            health = Health.POOR
        elif profile.growth < -0.01:
            health = Health.FAIR if rng.random() < 0.6 else Health.POOR
        else:
            health = rng.choices(
                (Health.GOOD, Health.FAIR, Health.POOR), cum_weights=(75, 95, 100)
            )[0]
        engagement = {Health.GOOD: 0.5, Health.FAIR: 0.25, Health.POOR: 0.08, "": 0.3}[health]
        active_users = (
            int(employees * engagement * rng.uniform(0.2, 1.0))
            if paying or not health
            else rng.randint(0, 3)
        )

        ownership = owned.get(index)
        if ownership is not None:
            stale = rng.random() < 0.15
            last_contact: dt.datetime | None = now - dt.timedelta(
                days=rng.uniform(45, 200) if stale else rng.uniform(0, 45)
            )
        elif rng.random() < 0.25:
            last_contact = now - dt.timedelta(days=rng.uniform(30, 500))
        else:
            last_contact = None

        overlay = None
        if ownership is not None and ownership.role == OwnerRole.CSM and rng.random() < 0.1:
            overlay = _pick(rng, tams_by_region, region)
        onboarder = None
        if (
            profile.start is not None
            and profile.start >= ctx.month_count - 3
            and (ownership or arr >= 12_000)
        ):
            onboarder = _pick(rng, onboarders_by_region, region)

        credit_balance, credit_expires_on = Decimal(0), None
        if profile.plan == Plan.STARTUP:
            credit_balance = Decimal(rng.randrange(1_000, 50_001, 500))
            credit_expires_on = today + dt.timedelta(days=rng.randint(30, 365))
        annual_discount, renewal_date = None, None
        if profile.plan == Plan.ANNUAL:
            annual_discount = rng.choice(_ANNUAL_DISCOUNTS)
            renewal_date = today + dt.timedelta(days=rng.randint(10, 365))

        yield (
            f"{start} {end}",
            domain,
            profile.organization_id,
            country,
            region,
            territory.pk if territory else None,
            employees,
            rng.choice(_BUSINESS_TYPES),
            profile.plan,
            credit_balance,
            credit_expires_on,
            arr >= 100_000 and rng.random() < 0.3,
            annual_discount,
            renewal_date,
            health,
            active_users,
            last_contact,
            first_paid[index],
            ownership.owner.pk if ownership else None,
            ownership.role if ownership else "",
            ownership.since if ownership else None,
            overlay.pk if overlay else None,
            onboarder.pk if onboarder else None,
            "",
            ownership.am_managed if ownership else False,
            ownership.is_lead if ownership else False,
            now,
            now,
        )


def _pick(rng: random.Random, by_region: dict[str, list[User]], region: str) -> User | None:
    pool = by_region.get(region) or [user for users in by_region.values() for user in users]
    return rng.choice(pool) if pool else None


def reset_accounts() -> None:
    """Delete every account and its ownership history (and what cascades). Idempotent."""
    truncate(OwnershipChange, Account)
