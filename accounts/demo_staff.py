"""Demo staff: managers, team leads, TAMs, TAEs, CSMs, onboarding specialists,
BDRs and RevOps, with the fixed quick-start logins (see ``accounts.demo``)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from .demo import DEMO_EMAIL_DOMAIN, DEMO_PASSWORD, DemoContext
from .models import Region, User
from .roles import Role, ensure_role_groups

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


# Titles of the people hired at scale (``hire_staff``), by role.
_HIRE_TITLES: dict[str, str] = {
    Role.TAM: "Technical Account Manager",
    Role.CSM: "Customer Success Manager",
    Role.TAE: "Technical Account Executive",
}


def hire_staff(ctx: DemoContext, *, role: str, region: str, rng: random.Random) -> User:
    """One unsaved person for a company too large for the fixed org chart: a TAM,
    CSM or TAE in ``region``, reporting to the team lead of the chart's people of
    that role and region, added to ``ctx.staff_by_role``. ``rng`` is the caller's
    one generator for all its hires (a fresh one per hire would draw the same
    person every time).

    The caller saves them with ``save_hired_staff`` once it knows how many it needs
    (accounts.demo_accounts hires while it fills books, so every $20k+ account has an
    owner). Emails are unique on the demo domain (``first.last.N``).
    """
    leads = {
        (chart_role, str(user.region)): user.team_lead
        for chart_role, users in ctx.staff_by_role.items()
        for user in reversed(users)
    }
    n = sum(len(users) for users in ctx.staff_by_role.values())
    first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
    started_on = ctx.today - dt.timedelta(days=rng.randint(120, 1_800))
    title = _HIRE_TITLES[role]
    user = User(
        email=f"{first.lower()}.{last.lower().replace(' ', '')}.{n}@{DEMO_EMAIL_DOMAIN}",
        name=f"{first} {last}",
        title=f"Senior {title}" if rng.random() < 0.3 else title,
        region=region,
        team_lead=leads.get((role, region)) or leads.get((role, Region.US)),
        started_on=started_on,
        quarterly_quota=_quarterly_quota(rng, role),
        is_staff=False,
        date_joined=dt.datetime.combine(started_on, dt.time(9), tzinfo=dt.UTC),
    )
    user.demo_role = role  # type: ignore[attr-defined]
    ctx.staff_by_role.setdefault(role, []).append(user)
    return user


def save_hired_staff(users: list[User]) -> int:
    """Insert the staff ``hire_staff`` made (sharing the demo password's hash) with
    their role groups; returns how many."""
    if not users:
        return 0
    # Hashing is deliberately slow: the hires share the demo staff's hash.
    shared = User.objects.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}").values_list(
        "password", flat=True
    ).first() or make_password(DEMO_PASSWORD)
    for user in users:
        user.password = shared
    User.objects.bulk_create(users, batch_size=2000)
    groups = dict(Group.objects.values_list("name", "pk"))
    User.groups.through.objects.bulk_create(
        (
            User.groups.through(user_id=user.pk, group_id=groups[user.demo_role])  # type: ignore[attr-defined]
            for user in users
        ),
        batch_size=2000,
    )
    return len(users)


def reset_staff() -> None:
    """Delete the demo staff (emails on the demo domain). Idempotent."""
    User.objects.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}").delete()


def demo_staff_exists() -> bool:
    return User.objects.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}").exists()
