"""Who may do what with accounts and books: every permission rule of the accounts app.

Roles are groups (``accounts.roles``); ``User.is_manager`` covers managers and
RevOps, ``User.is_team_lead_or_manager`` adds team leads, and a superuser holds
every role. Row-level rules (sales/team-leads, sales/account-allocation):

- a TAM, CSM or TAE sees and edits their own book (owner or TAM overlay);
- everyone reads the accounts of their own open tasks (a task reassigned to
  them on someone else's account), without editing them;
- a team lead acts on their own team: accounts owned by the people who report
  to them (``User.team_lead``) or by themselves, and, for an account a manager
  tagged with a new-owner trait, only when the trait is for the team lead's
  region;
- managers and RevOps act on every account.

Functions here read only the rows they are given (``account.owner`` loaded
with ``select_related`` where noted) and never write. Views and domain
functions call them and raise ``PermissionDenied`` with the message returned.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import BooleanField, Exists, F, Func, OuterRef, Q, QuerySet

from .models import ASSIGNABLE_TRAITS, Account, NewOwnerTrait, User
from .roles import BOOK_ROLES, Role


def _on_team_of(lead: User, person: User | None) -> bool:
    """``person`` reports to ``lead``, or is ``lead``."""
    return person is not None and (person.pk == lead.pk or person.team_lead_id == lead.pk)


# --- people and access ----------------------------------------------------------


def can_change_access(user: User) -> bool:
    """Roles (groups), staff and superuser status: superusers only."""
    return user.is_superuser


def may_edit_person(user: User, person: User) -> bool:
    """A superuser's record is changed only by a superuser (RevOps edit everyone else's
    details through the admin, without the access fields)."""
    return user.is_superuser or not person.is_superuser


def can_set_password_of(user: User, person: User) -> bool:
    """Staff set their own password (the "Change password" page); only a superuser
    sets someone else's."""
    return user.is_superuser or user.pk == person.pk


# --- reading ----------------------------------------------------------------------


def any_staff(user: User) -> bool:
    """Pages every signed-in person opens, each showing only their rows (their book,
    their tasks, the tracker read-only, their handovers, their churn flags)."""
    return user.is_active


def can_see_books_of_others(user: User) -> bool:
    """Team leads (their team), managers and RevOps (everyone) pick whose book they see."""
    return user.is_team_lead_or_manager


# leads.models.OPEN_STATUSES (new, in progress, nurturing), named here so that the
# permission rules, which leads imports, do not import leads; leads' tests hold
# the two equal.
OPEN_TASK_STATUSES = ("new", "in_progress", "nurturing")


class _PkAmong(Func):
    """``pk = ANY(ARRAY(ids))``, ``ids`` a one-column queryset of primary keys.

    Beside the owner conditions of ``visible_accounts`` PostgreSQL reads it from
    the primary key's index (one bitmap OR of the indexes); ``pk IN (ids)`` there
    is checked against every account instead (a TAM's visible accounts among
    100,000 counted in about 3 ms against 60 ms).
    """

    template = "%(expressions)s)"
    arg_joiner = " = ANY("

    def __init__(self, ids: QuerySet[Any, Any]) -> None:
        super().__init__(F("pk"), ArraySubquery(ids), output_field=BooleanField())


def visible_accounts(user: User) -> QuerySet[Account]:
    """Accounts the user may open: managers and RevOps all, team leads their
    team's and their own, everyone else the accounts they own, overlay or onboard;
    everyone also the accounts of their own open tasks (to read: editing stays
    ``can_edit_account``'s)."""
    return visible_accounts_in(visible_accounts_scope(user), user_pk=user.pk)


def visible_accounts_scope(user: User) -> str:
    """Which rule of ``visible_accounts`` is ``user``'s: ``"all"`` (managers and RevOps),
    ``"team"`` (team leads) or ``"own"`` (everyone else). For statements compiled once
    per scope and run with the person's id (the account page's)."""
    if user.is_manager:
        return "all"
    if user.has_role(Role.TEAM_LEAD):
        return "team"
    return "own"


def visible_accounts_in(scope: str, *, user_pk: int) -> QuerySet[Account]:
    """``visible_accounts`` of the user ``user_pk`` whose ``visible_accounts_scope`` is
    ``scope``."""
    accounts = Account.objects.all()
    if scope == "all":
        return accounts
    # Through the tasks' reverse relation (the accounts of the person's open tasks).
    tasked = Account.objects.filter(
        tasks__assignee=user_pk, tasks__status__in=OPEN_TASK_STATUSES
    ).values("pk")
    mine = (
        Q(owner=user_pk)
        | Q(tam_overlay=user_pk)
        | Q(onboarding_specialist=user_pk)
        | Q(_PkAmong(tasked))
    )
    if scope == "team":
        return accounts.filter(mine | Q(owner__team_lead=user_pk))
    return accounts.filter(mine)


def openable_account_ids(user: User, ids: Iterable[int]) -> set[int]:
    """Which of the account ids ``ids`` the user may open (``visible_accounts``): a
    page links an account only when they are in it, so no link ends in a 404.
    One query whatever the number of ids."""
    return set(visible_accounts(user).filter(pk__in=list(ids)).values_list("pk", flat=True))


def former_account(user: User, pk: int) -> Account | None:
    """Account ``pk`` when ``user`` owned it once and may no longer open it (after a
    handover or a reassignment), with ``owner`` loaded; otherwise None.

    A former owner is told who owns it now (read-only: name, organisation id,
    owner, since when), so a link in an old task or note does not end in a
    refusal. One query.
    """
    return (
        Account.objects.filter(pk=pk, ownership_changes__previous_owner=user)
        .exclude(pk__in=visible_accounts(user).values("pk"))
        .select_related("owner")
        .first()
    )


def viewable_book_owners(user: User) -> QuerySet[User]:
    """People whose book the user may open: themselves, their team (team leads),
    everyone who owns accounts (managers, RevOps)."""
    people = User.objects.filter(is_active=True)
    if user.is_manager:
        return people.filter(Exists(Account.objects.filter(owner=OuterRef("pk"))) | Q(pk=user.pk))
    if user.has_role(Role.TEAM_LEAD):
        return people.filter(Q(team_lead=user) | Q(pk=user.pk))
    return people.filter(pk=user.pk)


def book_picker_owners(user: User, *, shown: User) -> list[User]:
    """My book's picker: the people of ``viewable_book_owners(user)`` who hold a book
    (a role of BOOK_ROLES, or accounts they own) and ``shown``, whose book the page
    shows, whatever their role: a manager who owns none is not offered their own
    empty book. One query; none for an active person who may open no book but their
    own (issue 20: a query on every My book of a TAM or CSM for the one name it
    already had)."""
    if user.is_active and not user.is_manager and not user.has_role(Role.TEAM_LEAD):
        return [user]
    holds_book = Exists(
        User.groups.through.objects.filter(user=OuterRef("pk"), group__name__in=BOOK_ROLES)
    ) | Exists(Account.objects.filter(owner=OuterRef("pk")))
    return list(viewable_book_owners(user).filter(holds_book | Q(pk=shown.pk)))


def can_see_allocation(user: User) -> bool:
    """The allocation queue is for team leads, managers and RevOps."""
    return user.is_team_lead_or_manager


def can_import_accounts(user: User) -> bool:
    """Accounts and snapshot CSVs: RevOps and managers."""
    return user.is_manager


# --- changing one account -----------------------------------------------------------


def is_owner_lead_or_manager(user: User, account: Account) -> bool:
    """The account's owner, the owner's team lead, or a manager: who may flag its
    churn risk, propose its handover or add a TAM overlay.

    Expects ``account.owner`` loaded (select_related) to avoid a query.
    """
    owner = account.owner
    if user.is_manager or (owner is not None and owner.pk == user.pk):
        return True
    # team_lead names whom a person reports to; acting on it needs the role.
    return user.has_role(Role.TEAM_LEAD) and _on_team_of(user, owner)


def can_edit_account(user: User, account: Account) -> bool:
    """TAM/CSM edit their own book (owner or TAM overlay); team leads their team's;
    managers and RevOps all. Expects ``account.owner`` loaded."""
    if user.is_manager:
        return True
    if user.pk in (account.owner_id, account.tam_overlay_id):
        return True
    return (
        user.has_role(Role.TEAM_LEAD)
        and account.owner is not None
        and _on_team_of(user, account.owner)
    )


def can_set_am_managed(user: User) -> bool:
    """Whether an account counts for quota (AM managed) is set by team leads and managers."""
    return user.is_team_lead_or_manager


def can_set_new_owner_trait(user: User) -> bool:
    """Managers decide team and region (the new-owner trait)."""
    return user.is_manager


def assignment_refusal(by: User, *, account: Account, new_owner: User, is_top_40: bool) -> str:
    """Why ``by`` may not give ``account`` to ``new_owner``; "" when they may.

    Managers and RevOps assign any account to anyone. A team lead assigns
    only within their own team: the new owner reports to them (or is them),
    the current owner (if any) too, and an account a manager tagged with a
    regional new-owner trait only when that region is the team lead's. Top 40
    accounts change owner only by a manager's hand. Expects ``account.owner``
    loaded.
    """
    if not by.is_team_lead_or_manager:
        return "Only a team lead or manager assigns accounts."
    if is_top_40 and not by.is_manager:
        return "Only a manager changes the owner of a Top 40 account."
    if by.is_manager:
        return ""
    if not _on_team_of(by, new_owner):
        return "A team lead assigns accounts to their own team."
    if account.owner_id is not None and not _on_team_of(by, account.owner):
        return "This account belongs to another team; its team lead or a manager moves it."
    trait = (
        ASSIGNABLE_TRAITS.get(NewOwnerTrait(account.new_owner_trait))
        if (account.new_owner_trait in ASSIGNABLE_TRAITS)
        else None
    )
    if trait is not None and trait[0] != by.region:
        return (
            f"A manager tagged this account for the {trait[0]} team; "
            "a team lead of that region assigns it."
        )
    return ""
