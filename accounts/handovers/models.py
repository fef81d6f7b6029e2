"""Tables of the handover workflow (sales/account-allocation, "Handing over customers").

The tables keep their names from when they lived in the accounts app
(``accounts_handover`` …): the move to this app changed no data. Rows are written
by accounts/handovers/workflow.py and accounts/handovers/checklists.py.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models

from revopsweb.models import LedgerEntry


class HandoverState(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACCEPTED = "accepted", "Accepted"
    PUSHED_BACK = "pushed_back", "Pushed back"
    CALL_SCHEDULED = "call_scheduled", "Call scheduled"
    CALL_HELD = "call_held", "Call held"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


OPEN_STATES = (
    HandoverState.PROPOSED,
    HandoverState.ACCEPTED,
    HandoverState.PUSHED_BACK,
    HandoverState.CALL_SCHEDULED,
    HandoverState.CALL_HELD,
)


class HandoverReason(models.TextChoices):
    """Why the outgoing owner hands the account off. The last four are the
    handbook's invalid reasons: they are listed so they can be refused with
    the handbook's explanation."""

    ONBOARDED = "onboarded", "Onboarded: the TAE's deal is done and the customer is onboarded"
    FULLY_EXPANDED = "fully_expanded", "Fully expanded and committed (steady state)"
    NO_LEVERS = "no_levers", "No viable expansion levers (documented in the plan)"
    EXPANSION = "expansion", "Expansion opportunity identified"
    BOOK_OVER_CAP = "book_over_cap", "Book over 15 accounts at quarter start"
    YC_PLAN = "yc_plan", "YC plan $20k–$50k goes to the YC role"
    OWNER_CHANGE = "owner_change", "Owner leaving or changing role"
    UNRESPONSIVE = "unresponsive", "Account doesn't respond to outreach"
    CHAMPION_LEFT = "champion_left", "Champion left"
    LOW_ENGAGEMENT = "low_engagement", "Low user activity or poor health score"
    DISLIKE = "dislike", "Difficult to work with / we don't get on"


class Handover(models.Model):
    """One account moving from its owner to a new owner, step by step.

    Ownership changes only when the handover completes (through
    accounts.ownership.change_account_owner). ``checklist`` holds the incoming
    owner's preparation and call-agenda items: {item_key: {"done": bool, "note": str}}.
    """

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="handovers"
    )
    from_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="outgoing_handovers"
    )
    from_role = models.CharField(max_length=3)
    to_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="incoming_handovers"
    )
    to_role = models.CharField(max_length=3)
    reason = models.CharField(max_length=20, choices=HandoverReason.choices)
    reason_detail = models.TextField(blank=True)
    state = models.CharField(
        max_length=14, choices=HandoverState.choices, default=HandoverState.PROPOSED
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField()
    state_changed_at = models.DateTimeField()
    pushback_reasons = models.TextField(blank=True)
    call_at = models.DateTimeField(null=True, blank=True)
    intro_sent_at = models.DateTimeField(null=True, blank=True)
    intro_note = models.CharField(max_length=300, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    attribution_moves_on = models.DateField(
        null=True,
        blank=True,
        help_text="Day quota attribution moves to the new owner (quarter end + 1 for TAM book removals).",
    )
    quarter_end = models.DateField(
        null=True, blank=True, help_text="Quarter end the removal waits for (TAM managed books)."
    )
    ownership_change = models.OneToOneField(
        "accounts.OwnershipChange",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="handover",
    )
    checklist = models.JSONField(default=dict, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        db_table = "accounts_handover"  # moved from accounts; table kept
        ordering = ("-proposed_at", "-id")
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["state", "-proposed_at"]),
        ]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(
                    state__in=["proposed", "accepted", "pushed_back", "call_scheduled", "call_held"]
                ),
                name="handover_one_open_per_account",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account}: {self.from_owner} → {self.to_owner} ({self.get_state_display()})"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def transition_label(self) -> str:
        return f"{self.from_role} → {self.to_role}"

    def item(self, key: str) -> dict[str, Any]:
        value = self.checklist.get(key) or {}
        return {"done": bool(value.get("done")), "note": str(value.get("note", ""))}


class HandoverEvent(LedgerEntry):
    """Append-only timeline of a handover: who did which step, when, and why."""

    handover = models.ForeignKey(Handover, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20)
    from_state = models.CharField(max_length=14, blank=True)
    to_state = models.CharField(max_length=14, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()
    reason = models.TextField(
        blank=True,
        db_column="note",
        verbose_name="note",
        help_text="The note given with the step: the proposal's reason, what a push-back "
        "needs fixed; for a checklist tick, the item and its note.",
    )
    override_reason = models.TextField(
        blank=True, help_text="A manager's written reason for doing a blocked step."
    )

    class Meta:
        db_table = "accounts_handoverevent"  # moved from accounts; table kept
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"{self.handover_id} {self.action} by {self.actor} at {self.at:%Y-%m-%d %H:%M}"

    @property
    def what(self) -> str:
        move = f" {self.from_state or '—'} → {self.to_state}" if self.to_state else ""
        return f"Handover {self.handover_id}: {self.action}{move}"


class OnboardingCheck(models.Model):
    """One ticked item of the product onboarding checklist, per account and product.

    ``section`` is a key of accounts.handovers.checklists.ONBOARDING_CHECKLIST ("general"
    or a product key); a row exists only while the item is ticked.
    """

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="onboarding_checks"
    )
    section = models.CharField(max_length=40)
    item = models.CharField(max_length=40)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_at = models.DateTimeField()

    class Meta:
        db_table = "accounts_onboardingcheck"  # moved from accounts; table kept
        ordering = ("account", "section", "item")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["account", "section", "item"], name="onboarding_check_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.section}:{self.item}"
