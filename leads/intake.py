"""Inbound interest becomes a task: find or create the account and contact,
score the lead, pick the territory, create the task and assign it.

The contact form, the "new task" form and ``POST /api/intake/tasks`` all call
``intake_task``; the benchmark calls it too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import Account, Contact, Region, User

from .assignment import Decision, assign_task
from .models import LeadType, Task, TaskEvent, TaskEventKind, TaskSource, Territory
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
    def email_domain(self) -> str:
        return (self.domain or self.email.rsplit("@", 1)[-1]).strip().lower()


@dataclass(frozen=True)
class IntakeResult:
    task: Task
    created: bool
    decision: Decision | None


def _account_for(lead: Lead) -> Account:
    if lead.organization_id:
        account = Account.objects.filter(organization_id=lead.organization_id).first()
    else:
        # Lower(domain) matches the account_domain_lower index; iexact would not.
        account = (
            Account.objects.alias(domain_lower=Lower("domain"))
            .filter(domain_lower=lead.email_domain.lower())
            .order_by("pk")
            .first()
            if lead.email_domain
            else None
        )
    if account is not None:
        return account
    country = lead.country.strip().upper()
    territory = Territory.objects.filter(
        slug=territory_slug_for(country=country, state=lead.state)
    ).first()
    # get_or_create on the unique organization id: two intakes for the same new
    # company arriving together create one account (the loser re-reads it).
    account, _ = Account.objects.get_or_create(
        organization_id=lead.organization_id or f"domain:{lead.email_domain}",
        defaults={
            "name": lead.company or lead.email_domain,
            "domain": lead.email_domain,
            "country": country,
            "region": region_for(country) if country else "",
            "territory": territory,
            "employee_count": lead.employees,
        },
    )
    return account


def _contact_for(account: Account, lead: Lead) -> Contact:
    contact = Contact.objects.filter(account=account, email__iexact=lead.email).first()
    if contact is not None:
        return contact
    try:
        with transaction.atomic():
            return Contact.objects.create(
                account=account, name=lead.name, email=lead.email.lower(), title=lead.role
            )
    except IntegrityError:
        return Contact.objects.get(account=account, email__iexact=lead.email)


def intake_task(
    *,
    lead: Lead,
    source: str,
    lead_type: str = "",
    created_by: User | None = None,
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
) -> IntakeResult:
    """Create the task for an inbound lead and assign it; return the task and decision.

    Idempotent on ``idempotency_key``: a repeated key returns the first task
    (``created=False``) and writes nothing, also when both requests race (the
    unique key makes the loser roll back and read the winner's task).
    """
    now = now or timezone.now()
    if idempotency_key:
        existing = Task.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return IntakeResult(task=existing, created=False, decision=None)
    try:
        with transaction.atomic():
            account = _account_for(lead)
            contact = _contact_for(account, lead)
            territory_id = account.territory_id
            if territory_id is None:
                slug = territory_slug_for(country=lead.country or account.country, state=lead.state)
                territory_id = (
                    Territory.objects.filter(slug=slug).values_list("pk", flat=True).first()
                )
            score = score_lead(
                employees=lead.employees if lead.employees is not None else account.employee_count,
                estimated_revenue=lead.estimated_revenue,
                role=lead.role,
                sub_role=lead.sub_role,
                country=lead.country or account.country,
            )
            task = Task.objects.create(
                account=account,
                contact=contact,
                source=source,
                lead_type=lead_type or DEFAULT_LEAD_TYPE.get(source, LeadType.NEW_BUSINESS),
                territory_id=territory_id,
                message=_message(lead),
                score=score.total,
                score_breakdown=score.breakdown,
                idempotency_key=idempotency_key or None,
                created_by=created_by,
                created_at=now,
            )
            TaskEvent.objects.create(
                task=task,
                kind=TaskEventKind.CREATED,
                actor=created_by,
                summary=f"Created from {task.get_source_display()} by {lead.name} <{lead.email}>",
                occurred_at=now,
            )
            decision = assign_task(task=task, author=created_by, now=now)
    except IntegrityError:
        if idempotency_key:
            existing = Task.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return IntakeResult(task=existing, created=False, decision=None)
        raise
    return IntakeResult(task=task, created=True, decision=decision)


def _message(lead: Lead) -> str:
    extra = (
        f"\n\nMonthly active users / events: {lead.monthly_active_users:,}"
        if (lead.monthly_active_users is not None)
        else ""
    )
    return f"{lead.message}{extra}".strip()
