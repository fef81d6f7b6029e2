"""The handbook's handover checklists and the product onboarding checklist.

Data from sales/account-allocation ("Account handover checklist": preparation
and call agenda) and the onboarding checklist per paid product, plus the rules
that tick them: a handover's preparation/agenda items (on the handover's
timeline) and an account's onboarding items (one ``OnboardingCheck`` row per
ticked item).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, User
from billing.models import PAID_PRODUCT_MIN, MonthlyRevenue
from billing.revenue_data import revenue_month

from .models import Handover, HandoverEvent, OnboardingCheck
from .permissions import can_act

ONBOARDING_CHECKLIST: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "general": (
        "General principles",
        (
            ("support", "They know how to get support via Slack and in-app, and when in-app fits."),
            ("admins", "The correct owners and admins are set up in their PostHog organization."),
            ("finance", "We have the correct finance contact details in Stripe."),
        ),
    ),
    "product_analytics": (
        "Product analytics",
        (
            ("tracking", "Tracking set up, posthog.identify() and posthog.group() used correctly."),
            ("anon", "They know the difference between anonymous and identified events."),
            ("capture", "Event capture tuned; unwanted automatic events turned off."),
            ("training", "Core users trained on Actions, Cohorts and other concepts."),
            ("insights", "Insights and dashboards set up for their use case."),
        ),
    ),
    "session_replay": (
        "Session replay",
        (
            ("tracking", "Tracking set up with posthog-js."),
            ("controls", "They know the recording controls and how to use them."),
            ("privacy", "Privacy controls implemented where necessary."),
            ("training", "Core users trained to find recordings and navigate from other products."),
        ),
    ),
    "feature_flags": (
        "Feature flags",
        (
            ("workflow", "They understand how to integrate feature flags into their workflow."),
            ("calls", "Flag calls implemented so they don't inflate the bill."),
            ("targeting", "They understand the available targeting mechanisms."),
            ("training", "Training done on setting up Feature Flags and Experiments."),
        ),
    ),
    "data_warehouse": (
        "Data warehouse",
        (
            ("sources", "The sources they need are connected."),
            ("sync", "They know incremental vs full sync and the impact on billing."),
            ("training", "Training done on SQL, views and joining person data."),
        ),
    ),
    "error_tracking": (
        "Error tracking",
        (("tracking", "Tracking set up with posthog-js."),),
    ),
}

PREP_CHECKLIST: tuple[tuple[str, str], ...] = (
    (
        "overview",
        "Account overview – MRR, ARR, health score, segments, paid products, usage traits",
    ),
    (
        "billing",
        "Billing & contract details – plan dates, credit balances, discounts, renewal, limits",
    ),
    ("adoption", "Product adoption – which products are they paying for? What's underutilized?"),
    ("usage", "Usage metrics – active users, projects, flag requests, replay volume, dashboards"),
    ("support", "Support history – recent tickets, tags, severity, resolution status"),
    ("notes", "Conversations & notes – all notes, meeting summaries, conversation history"),
    ("customer_slack", "Customer Slack channel – who is active, issues, open threads"),
    ("internal_slack", "Internal Slack discussions – engineering, pricing, escalations"),
    ("opportunity", "CRM opportunity – deal value, stage, next steps, close date"),
    ("users", "Admin emails & user list – who's active, who has admin, which domains"),
    ("product", "The customer's product – what they do and how they make money"),
)

AGENDA_CHECKLIST: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Relationships & people",
        (
            ("champion", "Who is the champion? Role, communication style, motivation"),
            ("decision_maker", "Who is the economic decision-maker for renewals and expansion?"),
            ("power_users", "Who are the power users?"),
            ("org", "Org structure – parent/subsidiary, teams, reporting lines"),
            ("people_changes", "Recent people changes – champions left, new hires, reorgs"),
            ("vibe", "General vibe – easy, high-maintenance, responsive?"),
            ("comms", "Preferred communication style – Slack, email, calls or async?"),
            (
                "told",
                "Has the customer been told about the handover? How to introduce the new owner",
            ),
        ),
    ),
    (
        "Commercial context",
        (
            ("proposals", "Open proposals or negotiations needing follow-up"),
            ("renewal", "Renewal strategy and risks"),
            ("discounts", "Discount/credit context – why given, what was promised"),
            ("budget", "Budget & procurement – budget cycle, process, finance contacts"),
            ("expansion", "Expansion potential – realistic growth ceiling"),
        ),
    ),
    (
        "Technical & product state",
        (
            ("maturity", "Implementation maturity – basic or advanced setup"),
            ("issues", "Known technical issues – bugs, workarounds, frustrations"),
            ("integrations", "Integration landscape – other tools, competitors in play"),
            ("gaps", "Product gaps – blocking requests, committed delivery timelines"),
            ("onboarding", "Onboarding completeness per the onboarding checklist"),
        ),
    ),
    (
        "Risks & opportunities",
        (
            ("risks", "Top risks – champion, competitor, budget"),
            ("opportunities", "Top opportunities – lowest-hanging fruit"),
            ("unfinished", "Unfinished business"),
            ("avoid", "Anything to avoid – sensitive topics, past friction, politics"),
        ),
    ),
)


def checklist_labels() -> dict[str, str]:
    """Each key a handover's checklist may hold ("prep:…" and "agenda:…") with its label."""
    labels = {f"prep:{key}": label for key, label in PREP_CHECKLIST}
    for _, items in AGENDA_CHECKLIST:
        labels.update({f"agenda:{key}": label for key, label in items})
    return labels


# --- onboarding ------------------------------------------------------------------


def paid_product_keys(account: Account, *, today: dt.date) -> list[str]:
    """Keys of every product the account paid more than $200 for in the revenue
    month (``billing.revenue_data.revenue_month``: the latest imported complete
    month, so a month not in yet does not empty the onboarding checklist). Two queries."""
    return list(
        MonthlyRevenue.objects.filter(
            account=account, month=revenue_month(today=today), amount__gt=PAID_PRODUCT_MIN
        )
        .order_by("product__sort_order")
        .values_list("product__key", flat=True)
    )


def onboarding_sections(account: Account, *, today: dt.date) -> list[str]:
    """Sections of the onboarding checklist that apply: general principles plus
    each paid product that has a checklist."""
    paid = paid_product_keys(account, today=today)
    return ["general", *[key for key in paid if key in ONBOARDING_CHECKLIST]]


def onboarding_status(account: Account, *, today: dt.date) -> list[dict[str, object]]:
    """The applicable onboarding sections with each item and whether it is ticked."""
    ticked = set(OnboardingCheck.objects.filter(account=account).values_list("section", "item"))
    result: list[dict[str, object]] = []
    for section in onboarding_sections(account, today=today):
        title, items = ONBOARDING_CHECKLIST[section]
        rows = [
            {"key": key, "label": label, "done": (section, key) in ticked} for key, label in items
        ]
        result.append(
            {
                "section": section,
                "title": title,
                "items": rows,
                "done": all(r["done"] for r in rows),
            }
        )
    return result


# --- ticking -----------------------------------------------------------------------


@transaction.atomic
def tick_checklist_item(
    *, handover: Handover, key: str, done: bool, note: str, by: User
) -> Handover:
    """Tick or untick one preparation/agenda item and save its note.

    A change goes on the handover's timeline (who ticked what, when); saving
    the same tick and note again changes nothing and records nothing.
    """
    labels = checklist_labels()
    if key not in labels:
        raise ValidationError(f"Unknown checklist item {key!r}.")
    locked = (
        Handover.objects.select_for_update()
        .select_related("from_owner", "to_owner")
        .get(pk=handover.pk)
    )
    if not can_act(by, locked):
        raise PermissionDenied(
            "Only the parties, their team leads and managers edit the checklist."
        )
    entry = {"done": done, "note": note.strip()[:1000]}
    previous = locked.checklist.get(key, {"done": False, "note": ""})
    if previous == entry:
        return locked
    locked.checklist = {**locked.checklist, key: entry}
    locked.save(update_fields=["checklist"])
    what = "Ticked" if done else "Unticked"
    if previous.get("done") == done:
        what = "Note on"
    HandoverEvent.objects.create(
        handover=locked,
        action="checklist",
        actor=by,
        at=timezone.now(),
        reason=f"{what} “{labels[key]}”" + (f": {entry['note']}" if entry["note"] else ""),
    )
    return locked


@transaction.atomic
def set_onboarding_item(*, account: Account, section: str, item: str, done: bool, by: User) -> None:
    """Tick or untick one onboarding item of ``account`` for ``section`` (general
    or a product key). Idempotent."""
    if section not in ONBOARDING_CHECKLIST or item not in dict(ONBOARDING_CHECKLIST[section][1]):
        raise ValidationError(f"Unknown onboarding item {section}:{item}.")
    if done:
        OnboardingCheck.objects.get_or_create(
            account=account,
            section=section,
            item=item,
            defaults={"checked_by": by, "checked_at": timezone.now()},
        )
    else:
        OnboardingCheck.objects.filter(account=account, section=section, item=item).delete()
