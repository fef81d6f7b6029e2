"""Demo customer accounts: names, countries and territories, revenue profiles
(left in the DemoContext for ``billing.demo``), owners and their history."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from leads.models import Territory
from leads.territories import ensure_territories
from revopsweb.dates import add_months

from .demo import DEMO_EMAIL_DOMAIN, DEMO_SOURCE, AccountProfile, DemoContext, insert_rows, truncate
from .demo_staff import hire_staff, save_hired_staff
from .models import Account, Health, OwnerRole, OwnershipChange, Plan, Region, User
from .roles import Role
from .segments import ARR_20K, ARR_60K

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
# A name drawn again is told apart as real companies with a common name are: by
# a place, one of the account's country's cities first, then any city, then a
# city with a company form (77 x 30 names at 100,000 accounts: about 43 each).
_PLACES: dict[str, tuple[str, ...]] = {
    "US": ("Austin", "Boston", "Chicago", "Denver", "Seattle", "Portland", "Atlanta", "Miami",
           "Dallas", "Phoenix", "Raleigh", "Nashville", "Pittsburgh", "Brooklyn", "Oakland"),
    "CA": ("Toronto", "Vancouver", "Montreal", "Ottawa"),
    "BR": ("Sao Paulo", "Rio", "Curitiba"),
    "MX": ("Monterrey", "Guadalajara"),
    "GB": ("London", "Manchester", "Bristol", "Edinburgh", "Leeds", "Cambridge"),
    "DE": ("Berlin", "Munich", "Hamburg", "Cologne", "Leipzig"),
    "FR": ("Paris", "Lyon", "Nantes", "Toulouse"),
    "NL": ("Amsterdam", "Rotterdam", "Utrecht"),
    "SE": ("Stockholm", "Gothenburg", "Malmo"),
    "ES": ("Madrid", "Barcelona", "Valencia"),
    "IE": ("Dublin", "Cork"),
    "PL": ("Warsaw", "Krakow"),
    "CH": ("Zurich", "Geneva"),
    "ZA": ("Cape Town", "Johannesburg"),
    "NG": ("Lagos", "Abuja"),
    "IN": ("Bangalore", "Pune", "Hyderabad", "Chennai"),
    "IL": ("Tel Aviv", "Haifa"),
    "SG": ("Singapore",),
    "AE": ("Dubai", "Abu Dhabi"),
    "JP": ("Tokyo", "Osaka"),
    "AU": ("Sydney", "Melbourne", "Brisbane", "Perth"),
    "NZ": ("Auckland", "Wellington"),
}  # fmt: skip
_COMPANY_FORMS = ("Group", "Holdings", "Partners", "International")
_ANY_PLACE = tuple(dict.fromkeys(place for places in _PLACES.values() for place in places))
_QUALIFIERS = _ANY_PLACE + tuple(
    f"{place} {form}" for form in _COMPANY_FORMS for place in _ANY_PLACE
)
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
_MAX_OWNED_SHARE = 0.45  # keeps many accounts unowned at small scales too
# The segments' thresholds, as floats: the story's ARR figures are floats.
_OWNED_ARR = float(ARR_20K)  # every account from here has an owner (sales/account-allocation)
_TAM_ARR = float(ARR_60K)  # the segment that always goes to a TAM
# Accounts per book: the fixed org chart's people (some TAMs past the cap of 15,
# as in real books), and the people a larger company hires (near their caps).
_CHART_BOOKS: dict[str, tuple[int, int]] = {
    Role.TAM: (12, 18),
    Role.CSM: (25, 30),
    Role.TAE: (3, 6),
}
_HIRED_BOOKS: dict[str, tuple[int, int]] = {
    Role.TAM: (13, 15),
    Role.CSM: (26, 30),
    Role.TAE: (4, 6),
}


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
) -> tuple[dict[int, _Ownership], list[User]]:
    """Owners by the handbook's allocation (sales/account-allocation): every
    account at $20k+ ARR has one, bar the quarter's allocation queue.

    - TAEs own the young deals they closed (first paid in the last four months):
      every young $20k+ account and, book space allowing, a third of the rest.
    - $20k+ accounts past that: the largest fill TAM books (12-18 accounts
      each, some past the cap of 15), the rest CSM books (25-30); $60k+ always
      goes to a TAM. The fixed org chart covers the quick-start demo; a larger
      company hires TAMs, CSMs and TAEs (books of 13-15, 26-30 and 4-6, near
      their caps) until every such account is owned.
    - The allocation queue: accounts that crossed $20k in the last three months
      wait for the quarter's allocation, unowned.
    - Book space left after that takes smaller accounts, largest first.

    Returns the ownerships by profile index and the staff hired (unsaved).
    """
    month_count = ctx.month_count
    budget = int(len(profiles) * _MAX_OWNED_SHARE)
    slots: dict[tuple[str, str], list[User]] = {}
    for role, (low, high) in _CHART_BOOKS.items():
        for user in ctx.staff_by_role.get(role, []):
            slots.setdefault((role, user.region), []).extend([user] * rng.randint(low, high))
    for pool in slots.values():
        rng.shuffle(pool)
    hired: list[User] = []
    hire_rng = ctx.rng("hires")

    def take(role: str, region: str, *, hire: bool) -> User | None:
        pool = slots.setdefault((role, region), [])
        if not pool and hire:
            user = hire_staff(ctx, role=role, region=region, rng=hire_rng)
            hired.append(user)
            low, high = _HIRED_BOOKS[role]
            pool.extend([user] * rng.randint(low, high))
        return pool.pop() if pool else None

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
    for rank, index in enumerate(young):
        must = arr[index] >= _OWNED_ARR
        if not must and (rank >= len(young) // 3 or len(owned) >= budget):
            continue
        tae = take(Role.TAE, profiles[index].region, hire=must)
        if tae is not None:
            owned[index] = _Ownership(tae, OwnerRole.TAE, since(tae, index))
    for index in sorted(range(len(profiles)), key=lambda i: -arr[i]):
        must = arr[index] >= _OWNED_ARR
        if not arr[index] or (not must and len(owned) >= budget):
            break
        if index in owned:
            continue
        profile = profiles[index]
        if must and month_count > 3 and profile.expected_mrr(month_count - 4) * 12 < _OWNED_ARR:
            continue  # crossed $20k this quarter: the allocation queue
        region = profile.region
        # The largest to TAMs while the chart has room (always from $60k);
        # then CSMs, hiring either only for $20k+ accounts.
        tam_pool = slots.get((Role.TAM, region))
        if arr[index] >= _TAM_ARR or tam_pool:
            tam = take(Role.TAM, region, hire=must)
            if tam is not None:
                managed = rng.random() < 0.85
                owned[index] = _Ownership(
                    tam, OwnerRole.TAM, since(tam, index), am_managed=managed, is_lead=not managed
                )
                continue
        csm = take(Role.CSM, region, hire=must)
        if csm is not None:
            owned[index] = _Ownership(csm, OwnerRole.CSM, since(csm, index))
    return owned, hired


# Handover candidates of the demo logins (issue 19): accounts each handover can be
# walked on without a manager's override. Their revenue is drawn with the core
# products a transition needs (billing.demo); accounts.handovers.demo then writes
# their plans, onboarding and discount agreement. Every other account of the
# same books is left as drawn, so most still need an override.
# (login, owner role): [core products of each candidate]
HANDOVER_CANDIDATES: dict[tuple[str, str], tuple[int, ...]] = {
    ("tam", OwnerRole.TAM): (3, 3, 3),  # TAM → CSM: all three core products
    ("csm", OwnerRole.CSM): (1, 2, 1),  # CSM → TAM: not fully expanded
    ("tae", OwnerRole.TAE): (1, 3, 2),  # TAE → TAM (1–2 products), TAE → CSM (all three)
}
# Candidates rank below the Top 40 by ARR, with a margin for the month's noise.
_CANDIDATES_BELOW_RANK = 50
# TAE → TAM/CSM waits 3 months from the first purchase (sales/account-allocation).
TAE_CANDIDATE_MONTHS = 3


def _mark_handover_candidates(
    ctx: DemoContext,
    *,
    profiles: list[AccountProfile],
    owned: dict[int, _Ownership],
    first_paid: list[dt.date | None],
) -> None:
    """Set ``core_products`` on the demo logins' handover candidates: accounts that
    pay now and never churn. A TAE's candidate first paid at least three months
    ago (its first paid month moved back when it is younger: TAEs own young deals)."""
    last = ctx.month_count - 1
    taken: dict[tuple[str, str], int] = {}
    # Largest first, past the Top 40 (only a manager hands those over): the core
    # products of a small account fall under the paid-product minimum.
    arr = {i: _recent_arr(profiles[i], ctx.month_count) for i in owned}
    ranked = sorted(range(len(profiles)), key=lambda i: -_recent_arr(profiles[i], ctx.month_count))
    top = set(ranked[:_CANDIDATES_BELOW_RANK])
    by_size = sorted(
        ((i, o) for i, o in owned.items() if i not in top),
        key=lambda item: (-arr[item[0]], item[0]),
    )
    for index, ownership in by_size:
        local, _, domain = ownership.owner.email.partition("@")
        key = (local, ownership.role)
        profile = profiles[index]
        if domain != DEMO_EMAIL_DOMAIN or key not in HANDOVER_CANDIDATES:
            continue
        if profile.start is None or profile.churn is not None:
            continue
        wanted = HANDOVER_CANDIDATES[key]
        if taken.get(key, 0) >= len(wanted):
            continue
        if ownership.role == OwnerRole.TAE and last - profile.start < TAE_CANDIDATE_MONTHS:
            if last < TAE_CANDIDATE_MONTHS:
                continue
            profile.start = last - TAE_CANDIDATE_MONTHS
            first_paid[index] = ctx.months[profile.start]
        profile.core_products = wanted[taken.get(key, 0)]
        taken[key] = taken.get(key, 0) + 1


# Account columns written by the seed, in row order.
_ACCOUNT_FIELDS = (
    "name", "domain", "organization_id", "country", "region", "territory_id", "employee_count",
    "business_type", "plan", "credit_balance", "credit_expires_on", "has_discount_agreement",
    "annual_discount", "renewal_date", "health", "active_users_30d", "last_contact_at",
    "first_paid_month", "owner_id", "owner_role", "owner_since", "tam_overlay_id",
    "onboarding_specialist_id", "new_owner_trait", "am_managed", "is_lead", "created_at", "updated_at",
)  # fmt: skip
_OWNERSHIP_FIELDS = (
    "account_id", "previous_owner_id", "new_owner_id", "new_owner_role", "actor_id",
    "at", "effective_on", "reason", "source",
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
    owned, hired = _assign_owners(rng, ctx, profiles, first_paid)
    # Before the rows: the accounts' owner ids are the hires' ids.
    save_hired_staff(hired)
    _mark_handover_candidates(ctx, profiles=profiles, owned=owned, first_paid=first_paid)

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
    return {
        "accounts": count,
        "owned accounts": len(owned),
        "ownership changes": change_count,
        "staff hired for the books": len(hired),
    }


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
    names = _CompanyNames()
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
            names.unique(base=f"{start} {end}", country=country),
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


class _CompanyNames:
    """Hands out company names, each once: a name already given gets a place.

    Deterministic (no randomness: the order of the calls decides) and cheap at
    100,000 accounts: a set per name and a resume position in ``_QUALIFIERS``,
    so a name drawn n times costs O(n) in all, not O(n²).
    """

    def __init__(self) -> None:
        self._taken: dict[str, set[str]] = {}
        self._resume: dict[str, int] = {}

    def unique(self, *, base: str, country: str) -> str:
        """``base`` the first time; then ``base`` with the first free place of
        ``country``, else of any country, else a place and a company form, else
        a number (past 100,000 accounts' worth of repeats)."""
        taken = self._taken.setdefault(base, set())
        qualifier = next(
            (place for place in ("", *_PLACES.get(country, ())) if place not in taken), None
        )
        if qualifier is None:
            position = self._resume.get(base, 0)
            while position < len(_QUALIFIERS) and _QUALIFIERS[position] in taken:
                position += 1
            self._resume[base] = position
            qualifier = (
                _QUALIFIERS[position]
                if position < len(_QUALIFIERS)
                else str(len(taken) - len(_QUALIFIERS) + 1)
            )
        taken.add(qualifier)
        return f"{base} {qualifier}" if qualifier else base


def _pick(rng: random.Random, by_region: dict[str, list[User]], region: str) -> User | None:
    pool = by_region.get(region) or [user for users in by_region.values() for user in users]
    return rng.choice(pool) if pool else None


def reset_accounts() -> None:
    """Delete every account and its ownership history (and what cascades). Idempotent."""
    truncate(OwnershipChange, Account)
