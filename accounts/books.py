"""Books of business: who sees which accounts, book totals against targets,
quarterly book planning and allocation (sales/account-allocation,
sales/how-we-work, sales/team-leads).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

from billing.quota import GRACE_MONTHS
from billing.revenue_data import revenue_month
from revopsweb.dates import add_months, quarter_end, quarter_start
from revopsweb.sql import CompiledOnce, prepared_cursor, with_values_written_in

from .extensions import mark_annotations
from .models import (
    ASSIGNABLE_TRAITS,
    TRAIT_OR_CSM,
    Account,
    AccountPlan,
    Activity,
    NewOwnerTrait,
    OwnerRole,
    OwnershipChange,
    Plan,
    User,
)
from .ownership import change_account_owner
from .permissions import (
    assignment_refusal,
    can_edit_account,
    can_set_am_managed,
    can_set_new_owner_trait,
)
from .plans import add_note
from .roles import BOOK_ROLES, Role
from .segments import (
    ARR_20K,
    ARR_50K,
    RevenueFigures,
    accounts_with_arr_at_least,
    all_core_paid,
    arr_at_least_parts,
    mrr_by_owner,
    rank_top_accounts_if_unranked,
    with_arr,
    with_mrr,
    with_revenue,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class PlanningFigures(RevenueFigures):
    """What ``planning_accounts`` adds to ``with_revenue``'s figures."""

    plan_above_20k: bool
    no_levers: bool
    has_growth_lever: bool
    levers_tried: str | None


class BookFigures(RevenueFigures):
    """What ``annotate_for_book`` adds: a churn in the grace period does not count
    (and the ``BOOK_MARKS`` columns, read with ``accounts.extensions.has_mark``)."""

    in_grace_period: bool


# The account marks (accounts.extensions) My book and its CSV show, read as columns
# of the book's statement: a query per mark was about a fifth of the page's time
# (pyinstrument on a clone of the 100,000-account seed; issue 20).
BOOK_MARKS = ("churn_risk", "churn_suggested")


type PlanningAccount = WithAnnotations[Account, PlanningFigures]
type BookAccount = WithAnnotations[Account, BookFigures]

# Book targets (sales/account-allocation, sales/how-we-work, sales/team-leads).
TAM_TARGET_MIN_ACCOUNTS = 10
TAM_MAX_ACCOUNTS = 15  # at quarter start; also where the round robin stops
TAM_HARD_CAP = 25  # existing book plus leads
CSM_TARGET_ACCOUNTS = 30
BOOK_TARGET_ARR = Decimal(1_500_000)


# --- book totals -----------------------------------------------------------


@dataclass(frozen=True)
class BookTotals:
    """One person's book against the targets of their role."""

    role: str
    accounts: int  # the book: owned accounts not in the Leads state
    leads: int
    arr: Decimal
    target_accounts: str
    target_arr: Decimal
    max_accounts: int | None
    hard_cap: int | None
    warnings: list[str] = field(default_factory=list)
    # False for people without a book role (team leads, managers, RevOps): their
    # page shows no targets and no "Below the target" warning.
    has_book: bool = True
    # Accounts in the book as its TAM overlay, owned by someone else: rows of My book,
    # outside the totals and targets (``book_totals`` counts them; 0 elsewhere).
    overlays: int = 0

    @property
    def with_leads(self) -> int:
        return self.accounts + self.leads

    @property
    def rows(self) -> int:
        """The book's rows on My book: owned accounts and leads, and overlays."""
        return self.accounts + self.leads + self.overlays


def opens_on_the_book_picker(*, totals: BookTotals, owner_chosen: bool, books: int) -> bool:
    """Whether My book opens on its picker rather than the viewer's own book: the
    viewer owns no accounts (``totals`` of their own book), the URL chose no book
    (an explicit choice, their own included, always wins) and they may open other
    books (``books``: how many they may open, their own counted). A manager or RevOps
    owns none and would otherwise land on an empty "No accounts match"."""
    return not owner_chosen and totals.with_leads == 0 and books > 1


def has_book_role(user: User) -> bool:
    """TAMs, CSMs and TAEs hold a book with targets; other roles may own a few
    accounts but are measured on something else."""
    return user.has_role(*BOOK_ROLES)


def book_role(user: User) -> str:
    return OwnerRole.CSM if user.has_role(Role.CSM) and not user.has_role(Role.TAM) else "TAM"


# book_totals' counts in one statement of constant text: the ORM built and compiled
# them on every My book and home page (issue 20).
# Owned accounts, owned leads, and the accounts in the book as its TAM overlay only
# (``book_rows``: owned by someone else, so outside the totals and targets).
_BOOK_COUNTS_SQL = (
    'SELECT COUNT(a."id") FILTER (WHERE a."owner_id" = %(owner)s AND NOT a."is_lead"), '
    'COUNT(a."id") FILTER (WHERE a."owner_id" = %(owner)s AND a."is_lead"), '
    'COUNT(a."id") FILTER (WHERE a."owner_id" IS DISTINCT FROM %(owner)s) '
    'FROM "accounts_account" a WHERE a."owner_id" = %(owner)s OR a."tam_overlay_id" = %(owner)s'
)


def book_totals(owner: User, *, today: dt.date, month: dt.date | None = None) -> BookTotals:
    """Totals of ``owner``'s book (two queries; three without ``month``), and the count
    of accounts in it as TAM overlay (``overlays``, outside the totals), with
    warnings against the targets: TAM 10–15 accounts and about $1.5m ARR, at
    most 15 at quarter start, hard cap 25 including leads; CSM about 30
    accounts and $1.5m. ARR is 12 × MRR of ``month`` (default: the revenue
    month of ``today``, never a month not imported yet) by billing configuration
    (``segments.mrr_by_owner``), as the book's rows show it."""
    month = month or revenue_month(today=today)
    with connection.cursor() as cursor:
        cursor.execute(_BOOK_COUNTS_SQL, {"owner": owner.pk})
        accounts, leads, overlays = cursor.fetchone()
    mrr = mrr_by_owner([owner.pk], Q(is_lead=False), month=month)
    totals = _totals(
        owner,
        accounts=accounts,
        leads=leads,
        arr=mrr.get(owner.pk, Decimal(0)) * 12,
        today=today,
    )
    return replace(totals, overlays=overlays)


def book_at_quarter_start(owner: User, *, quarter: dt.date) -> int:
    """How many accounts ``owner`` held on ``quarter``'s first day, as the handbook's
    "Maximum book size: 15 accounts … if you're starting a quarter at 18 accounts"
    reads it (sales/account-allocation, "Quarterly book planning"): owned that day,
    outside the Leads state (today's). The owner that day is read from the ownership
    history's effective dates, as the quota's ``quota_owner`` reads them: an account
    with a move effective after that day was its first such move's previous owner's
    (a handover completed during the quarter takes effect at quarter end), else it is
    its current owner's. One query.
    """
    later = OwnershipChange.objects.filter(
        account=OuterRef("pk"), effective_on__gt=quarter
    ).order_by("effective_on", "at", "pk")
    # Owned now, or given away by a move effective after that day: the candidates,
    # each side by its own index (a union rather than an OR).
    owned = Account.objects.filter(owner=owner).values("pk")
    moved = OwnershipChange.objects.filter(previous_owner=owner, effective_on__gt=quarter).values(
        "account"
    )
    return (
        Account.objects.filter(pk__in=owned.union(moved), is_lead=False)
        .annotate(
            owner_then=Case(
                When(~Exists(later), then=F("owner")),
                default=Subquery(later.values("previous_owner")[:1]),
                output_field=IntegerField(),
            )
        )
        .filter(owner_then=owner.pk)
        .count()
    )


def team_book_totals(
    lead: User, *, today: dt.date, month: dt.date
) -> list[tuple[User, BookTotals]]:
    """``book_totals`` of everyone who reports to ``lead`` and holds a book role, by
    name. Four queries whatever the team's size (people, their roles, account
    counts, MRR of ``month``)."""
    people = list(User.objects.filter(team_lead=lead, is_active=True).order_by("name"))
    roles: dict[int, set[str]] = defaultdict(set)
    for user_id, name in User.groups.through.objects.filter(
        user__in=[p.pk for p in people]
    ).values_list("user_id", "group__name"):
        roles[user_id].add(name)
    for person in people:
        person.__dict__["role_names"] = frozenset(roles[person.pk])  # the cached_property
    people = [p for p in people if has_book_role(p)]
    ids = [p.pk for p in people]
    counts: dict[int, tuple[int, int]] = {
        owner_id: (accounts, leads)
        for owner_id, accounts, leads in Account.objects.filter(owner__in=ids)
        .order_by()
        .values("owner")
        .annotate(
            accounts=Count("pk", filter=Q(is_lead=False)),
            leads=Count("pk", filter=Q(is_lead=True)),
        )
        .values_list("owner", "accounts", "leads")
    }
    mrr = mrr_by_owner(ids, Q(is_lead=False), month=month)
    return [
        (
            person,
            _totals(
                person,
                accounts=counts.get(person.pk, (0, 0))[0],
                leads=counts.get(person.pk, (0, 0))[1],
                arr=mrr.get(person.pk, Decimal(0)) * 12,
                today=today,
            ),
        )
        for person in people
    ]


def _totals(owner: User, *, accounts: int, leads: int, arr: Decimal, today: dt.date) -> BookTotals:
    role = book_role(owner)
    warnings: list[str] = []
    max_accounts: int | None = None
    hard_cap: int | None = None
    if role == "TAM":
        target_accounts = f"{TAM_TARGET_MIN_ACCOUNTS}–{TAM_MAX_ACCOUNTS}"
        max_accounts, hard_cap = TAM_MAX_ACCOUNTS, TAM_HARD_CAP
        if accounts > TAM_MAX_ACCOUNTS:
            warnings.append(
                f"{accounts} accounts: over the maximum of {TAM_MAX_ACCOUNTS}; "
                f"get to {TAM_MAX_ACCOUNTS} or fewer by {quarter_end(today):%d %b %Y}."
            )
        if accounts + leads > TAM_HARD_CAP:
            warnings.append(
                f"{accounts + leads} accounts including leads: over the hard cap of {TAM_HARD_CAP}."
            )
        if accounts < TAM_TARGET_MIN_ACCOUNTS:
            warnings.append(f"Below the target of {target_accounts}.")
    else:
        target_accounts = f"about {CSM_TARGET_ACCOUNTS}"
        if accounts > CSM_TARGET_ACCOUNTS:
            warnings.append(f"{accounts} accounts: over the target of {target_accounts}.")
    return BookTotals(
        role=role,
        accounts=accounts,
        leads=leads,
        arr=arr,
        target_accounts=target_accounts,
        target_arr=BOOK_TARGET_ARR,
        max_accounts=max_accounts,
        hard_cap=hard_cap,
        warnings=warnings if has_book_role(owner) else [],
        has_book=has_book_role(owner),
    )


def full_book_reasons(
    owner_ids: Sequence[int], *, today: dt.date, month: dt.date | None = None
) -> dict[int, str]:
    """Why the product-led round robin skips each of ``owner_ids`` (absent: not skipped).

    An AM-managed book of 15 accounts or $1.5m ARR (12 × MRR of ``month``,
    default the revenue month of ``today``: the latest imported month, so a
    month not imported yet never empties a full book) is full
    (sales/team-leads). Two queries (three without ``month``), whatever the
    number of owners.
    """
    if not owner_ids:
        return {}
    counts = dict(
        Account.objects.filter(owner_id__in=owner_ids, am_managed=True)
        .values("owner_id")
        .annotate(n=Count("pk"))
        .values_list("owner_id", "n")
    )
    mrr = mrr_by_owner(owner_ids, Q(am_managed=True), month=month or revenue_month(today=today))
    reasons: dict[int, str] = {}
    for owner_id in owner_ids:
        accounts, arr = counts.get(owner_id, 0), (mrr.get(owner_id) or Decimal(0)) * 12
        if accounts >= TAM_MAX_ACCOUNTS:
            reasons[owner_id] = (
                f"Book full: {accounts} AM-managed accounts (limit {TAM_MAX_ACCOUNTS})."
            )
        elif arr >= BOOK_TARGET_ARR:
            reasons[owner_id] = (
                f"Book full: ${arr:,.0f} AM-managed ARR (limit ${BOOK_TARGET_ARR:,.0f})."
            )
    return reasons


def full_book_reason(owner: User, *, today: dt.date) -> str:
    """Why the product-led round robin skips ``owner``, or "" if it does not."""
    return full_book_reasons([owner.pk], today=today).get(owner.pk, "")


# --- quarterly book planning -------------------------------------------------


class Removal:
    CHURNED = "churned"
    BELOW_20K = "below_20k"
    YC_PLAN = "yc_plan"
    FULLY_EXPANDED = "fully_expanded"
    NO_LEVERS = "no_levers"

    LABELS: dict[str, str] = {  # noqa: RUF012
        CHURNED: "Churned, no documented plan",
        BELOW_20K: "Below $20k ARR, no documented plan to get above it",
        YC_PLAN: "YC plan at $20k–$50k ARR → YC role",
        FULLY_EXPANDED: "Fully expanded (every core product + discount agreement) → CSM",
        NO_LEVERS: "No viable expansion levers",
    }


def planning_accounts(
    accounts: QuerySet[Account], *, today: dt.date, month: dt.date | None = None
) -> QuerySet[PlanningAccount]:
    """``accounts`` annotated for planning: revenue of ``month`` (see
    ``with_revenue``), segments, and the current-quarter plan's documented
    flags and growth levers (objectives or cross-sell written down, no "no
    viable levers" declared). One query when evaluated."""
    current = AccountPlan.objects.filter(account=OuterRef("pk"), quarter_start=quarter_start(today))
    return with_revenue(accounts, today=today, month=month).annotate(
        plan_above_20k=Exists(current.filter(plan_above_20k=True)),
        no_levers=Exists(current.filter(no_viable_levers=True).exclude(levers_tried="")),
        # A documented growth lever: the plan's objectives or cross-sell, unless
        # the owner has declared (and documented) that no lever is viable.
        has_growth_lever=Exists(
            current.filter(no_viable_levers=False).filter(
                Q(objectives__regex=r"\S") | Q(products_cross_sell__regex=r"\S")
            )
        ),
        levers_tried=Subquery(current.values("levers_tried")[:1]),
    )


def removal_reasons(account: PlanningAccount) -> list[str]:
    """Removal criteria (sales/account-allocation) met by an account annotated
    by ``planning_accounts``."""
    reasons: list[str] = []
    arr: Decimal = account.arr
    if arr < ARR_20K and not account.plan_above_20k:
        reasons.append(Removal.CHURNED if arr <= 0 else Removal.BELOW_20K)
    if account.plan == Plan.STARTUP and ARR_20K <= arr <= ARR_50K:
        reasons.append(Removal.YC_PLAN)
    # "Fully expanded and committed": all core products, a discount agreement
    # and no viable levers for net new revenue (all three conditions).
    if account.all_core_paid and account.has_discount_agreement and not account.has_growth_lever:
        reasons.append(Removal.FULLY_EXPANDED)
    if account.no_levers:
        reasons.append(Removal.NO_LEVERS)
    return reasons


@dataclass
class BookPlan:
    owner: User
    accounts: list[Account]
    candidates: list[tuple[Account, list[str]]]
    arr: Decimal

    @property
    def over_max(self) -> bool:
        return len(self.accounts) > TAM_MAX_ACCOUNTS

    @property
    def excess(self) -> int:
        return max(0, len(self.accounts) - TAM_MAX_ACCOUNTS)


def plan_books(
    owners: QuerySet[User], *, today: dt.date, month: dt.date | None = None
) -> list[BookPlan]:
    """For each TAM book of ``owners``: removal candidates and whether the book is
    over 15. Two queries whatever the number of books or accounts (three
    without ``month``, the revenue month). Removals take effect at quarter end
    (``quarter_end(today)``)."""
    accounts = planning_accounts(
        Account.objects.filter(owner__in=owners, owner_role=OwnerRole.TAM, is_lead=False)
        .select_related("owner")
        .order_by("owner__name", "owner_id", "name"),
        today=today,
        month=month,
    )
    books: dict[int, BookPlan] = {}
    for account in accounts:
        assert account.owner is not None
        book = books.setdefault(
            account.owner_id,  # type: ignore[arg-type]
            BookPlan(owner=account.owner, accounts=[], candidates=[], arr=Decimal(0)),
        )
        book.accounts.append(account)
        book.arr += account.arr
        reasons = removal_reasons(account)
        if reasons:
            book.candidates.append((account, reasons))
    return list(books.values())


# --- allocation ----------------------------------------------------------------


class Queue:
    UNOWNED_20K = "unowned_20k"
    HANDOVER = "handover"
    AWAITING_PERSON = "awaiting_person"
    TAM_OVER_15 = "tam_over_15"
    CSM_EXPANSION = "csm_expansion"

    LABELS: dict[str, str] = {  # noqa: RUF012
        UNOWNED_20K: "$20k+ ARR without an owner",
        HANDOVER: "Flagged for handover (Ready to move)",
        AWAITING_PERSON: "New owner trait set: a team lead assigns the person",
        TAM_OVER_15: "In a TAM book over 15 accounts",
        CSM_EXPANSION: "CSM account with expansion potential",
    }


def suggested_trait(*, region: str, all_core_paid: bool) -> str:
    """New-owner trait suggested from region and paid core products: every core
    product of the catalog → CSM, otherwise TAM; "" when the region is unknown."""
    role = OwnerRole.CSM if all_core_paid else OwnerRole.TAM
    for trait, (trait_region, trait_role) in ASSIGNABLE_TRAITS.items():
        if trait_region == region and trait_role == role:
            return trait
    return ""


def _tam_books_over_15() -> set[int]:
    """Owners whose TAM book holds more than TAM_MAX_ACCOUNTS accounts (one query)."""
    return set(
        Account.objects.filter(owner_role=OwnerRole.TAM, is_lead=False, owner__isnull=False)
        .order_by()
        .values("owner")
        .annotate(n=Count("pk"))
        .filter(n__gt=TAM_MAX_ACCOUNTS)
        .values_list("owner", flat=True)
    )


def _queue_conditions(*, month: dt.date, over_15: set[int]) -> dict[str, Q]:
    """Each queue's condition on an account annotated with ``_all_core`` (``_queued_accounts``).
    None reads ARR per account: the $20k+ accounts are a set found from the revenue
    summary's index (``accounts_with_arr_at_least``)."""
    return {
        Queue.UNOWNED_20K: Q(
            owner__isnull=True, pk__in=accounts_with_arr_at_least(ARR_20K, month=month)
        ),
        Queue.HANDOVER: Q(new_owner_trait=NewOwnerTrait.READY_TO_MOVE),
        Queue.AWAITING_PERSON: ~Q(new_owner_trait="")
        & ~Q(new_owner_trait=NewOwnerTrait.READY_TO_MOVE),
        Queue.TAM_OVER_15: Q(owner_role=OwnerRole.TAM, owner__in=over_15),
        # In this order: PostgreSQL evaluates an OR's terms as written, so the core
        # products are counted for CSM accounts only, not for every account.
        Queue.CSM_EXPANSION: Q(owner_role=OwnerRole.CSM) & Q(_all_core=False),
    }


def _over_15_books(over_15: set[int]) -> Q:
    """The accounts of the TAM books over 15 (``_tam_books_over_15``), leads aside."""
    return Q(owner__in=over_15, owner_role=OwnerRole.TAM, is_lead=False)


def _candidates(*, month: dt.date, over_15: set[int], plain_20k: bool) -> QuerySet[Any, Any]:
    """The ids of every account the queue may hold, or with ``plain_20k=False`` of those
    ``_plain_unowned_20k`` leaves out: the ones with a new-owner trait or a CSM role and
    those in a TAM book over 15."""
    # Found from indexes, never by reading every account (a scan of the 100,000
    # accounts alone took 140-180 ms under load): the $20k+ accounts from the
    # revenue summary's rank index, those with a trait or a CSM owner from their
    # partial index, the over-15 TAM books from the owner index.
    candidates = Account.objects.filter(TRAIT_OR_CSM).order_by().values("pk")
    if plain_20k:
        candidates = accounts_with_arr_at_least(ARR_20K, month=month).union(candidates, all=True)
    if over_15:
        candidates = candidates.union(
            Account.objects.filter(_over_15_books(over_15)).order_by().values("pk"), all=True
        )
    return candidates


def _queued_accounts(*, month: dt.date, over_15: set[int]) -> QuerySet[Account]:
    """Every queued account. Only the candidates (``_candidates``) are read and tested;
    ``_all_core`` is counted for CSM accounts only."""
    conditions = _queue_conditions(month=month, over_15=over_15)
    return (
        Account.objects.filter(pk__in=_candidates(month=month, over_15=over_15, plain_20k=True))
        .alias(_all_core=all_core_paid(month=month))
        .filter(
            conditions[Queue.UNOWNED_20K]
            | ~Q(new_owner_trait="")
            | _over_15_books(over_15)
            | conditions[Queue.CSM_EXPANSION]
        )
    )


def _plain_unowned_20k(*, month: dt.date) -> tuple[QuerySet[Any, Any], QuerySet[Any, Any]]:
    """The $20k+ accounts without an owner, a new-owner trait or a CSM role, as the two
    halves of ``arr_at_least_parts`` (usage, spread). They wait in the "$20k+ ARR without
    an owner" queue only, so neither their rows nor their reasons need reading: "without
    an owner" is tested against the few accounts that have one or a trait or CSM role,
    not by reading each of the ~10,000 rows. Each of those two sets is read whole from
    its own partial index of ids (``account_owned``, ``account_trait_or_csm``): as one
    set (an OR) PostgreSQL combined the owner index with the trait one and visited the
    ~15,000 accounts' heap pages, twice (once per half), 20-24 ms each in the queue's
    statement at 100,000 accounts (EXPLAIN ANALYZE on the seed clone; issue 20)."""
    owned = Account.objects.filter(owner__isnull=False).order_by().values("pk")
    trait_or_csm = Account.objects.filter(TRAIT_OR_CSM).order_by().values("pk")
    by_usage, by_spread = arr_at_least_parts(ARR_20K, month=month)
    return (
        by_usage.exclude(account__in=owned).exclude(account__in=trait_or_csm),
        by_spread.exclude(account__in=owned).exclude(account__in=trait_or_csm),
    )


def _queue_row(account: Any, over_15: set[int]) -> tuple[Account, list[str], str]:
    reasons: list[str] = []
    arr: Decimal = account.arr
    all_core: bool = account.all_core_paid
    if account.owner_id is None and arr >= ARR_20K:
        reasons.append(Queue.UNOWNED_20K)
    if account.new_owner_trait == NewOwnerTrait.READY_TO_MOVE:
        reasons.append(Queue.HANDOVER)
    elif account.new_owner_trait:
        reasons.append(Queue.AWAITING_PERSON)
    if account.owner_role == OwnerRole.TAM and account.owner_id in over_15:
        reasons.append(Queue.TAM_OVER_15)
    if account.owner_role == OwnerRole.CSM and not all_core:
        reasons.append(Queue.CSM_EXPANSION)
    return account, reasons, account_suggested_trait(account)


def account_suggested_trait(account: Any) -> str:
    """``suggested_trait`` of an account read with ``with_arr`` (``all_core_paid``)
    and its territory: its region, else its territory's ownership region."""
    region = account.region or (account.territory.ownership_region if account.territory else "")
    return suggested_trait(region=region, all_core_paid=account.all_core_paid)


def _queue_rows(accounts: QuerySet[Account], *, month: dt.date) -> Any:
    """Queued accounts with their ARR (all core paid and Top 40 for the page's rows),
    largest ARR first."""
    return with_arr(accounts.select_related("owner", "territory"), month=month).order_by(
        "-arr", "name", "pk"
    )


def allocation_queue(
    *, today: dt.date, month: dt.date | None = None
) -> list[tuple[Account, list[str], str]]:
    """Accounts the managers review at allocation, each with its queue reasons and
    suggested trait, revenue of ``month`` (default: the revenue month of
    ``today``). Three queries whatever the number of accounts (four without
    ``month``): the over-15 TAM books, the Top 40 stored if unranked, the rows.
    Every queued account: pages use ``allocation_queue_page``."""
    month = month or revenue_month(today=today)
    over_15 = _tam_books_over_15()
    accounts = _queued_accounts(month=month, over_15=over_15)
    return [_queue_row(a, over_15) for a in _queue_rows(accounts, month=month)]


@dataclass
class AllocationPage:
    """One page of the allocation queue: its rows (account, reasons, suggested trait),
    how many accounts wait in each queue and in all, and the page's place."""

    rows: list[tuple[Account, list[str], str]]
    counts: dict[str, int]
    total: int
    number: int
    num_pages: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


def allocation_queue_page(
    *,
    today: dt.date,
    month: dt.date | None = None,
    queue: str = "",
    number: int = 1,
    per_page: int,
) -> AllocationPage:
    """Page ``number`` (from 1, clamped to the last) of the allocation queue, or of one
    ``queue`` (a ``Queue`` key; "" for every queue), largest ARR first, ``per_page`` rows,
    with the count of each queue. Four queries whatever the queue's length (five without
    ``month``): the over-15 TAM books, the counts with the page's accounts, the Top 40
    stored if unranked, the page's rows."""
    month = month or revenue_month(today=today)
    over_15 = _tam_books_over_15()
    # Any number past the end shows the last page; capped first so the statement's
    # LIMIT (number x per_page) stays a bigint whatever number a URL carries.
    number = min(max(number, 1), _MAX_ROWS // per_page)
    statement = _queue_page_statement(
        month=month, over_15=frozenset(over_15), queue=queue, number=number, per_page=per_page
    )
    with prepared_cursor(connection) as cursor:
        cursor.execute(statement)
        plain, others, *flags, chosen = cursor.fetchone()
    counts = dict(zip(_PAGE_FLAGS, flags, strict=True))
    # The plain part waits in the "$20k+ without an owner" queue only.
    counts[Queue.UNOWNED_20K] += plain
    total = counts[queue] if queue in counts else plain + others
    num_pages = max((total + per_page - 1) // per_page, 1)
    # Clamped as the statement clamped its OFFSET.
    number = min(max(number, 1), num_pages)
    # The chosen ids as an array parameter, not a list: an empty page still reads
    # its (no) rows in one query, so the page's query count never changes.
    page = _queue_rows(
        Account.objects.filter(pk__in=RawSQL("SELECT unnest(%s::bigint[])", (chosen,))),
        month=month,
    )
    return AllocationPage(
        rows=[_queue_row(a, over_15) for a in page],
        counts=counts,
        total=total,
        number=number,
        num_pages=num_pages,
    )


# More rows than any queue holds, and than a bigint LIMIT takes.
_MAX_ROWS = 2**62
# The queues a page statement counts, in the order of its columns.
_PAGE_FLAGS = tuple(Queue.LABELS)


@functools.lru_cache(maxsize=256)
def _queue_page_statement(
    *, month: dt.date, over_15: frozenset[int], queue: str, number: int, per_page: int
) -> str:
    """``_queue_page_sql`` with its values written in, built once per process for each
    set of arguments (the statement depends on nothing else), and wrapped in a plain
    SELECT. Compiling it took about 11 ms of Python per request and planning it about
    7 ms (100,000-account seed; issue 20): run through ``prepared_cursor``, the server
    plans it once per connection, with its constants (a generic plan of the same
    statement with parameters would be estimated without them). A statement beginning
    with WITH is wrapped by django-pghistory in set_config calls, which cannot be
    prepared."""
    sql, params = _queue_page_sql(
        month=month, over_15=set(over_15), queue=queue, number=number, per_page=per_page
    )
    return with_values_written_in(f"SELECT * FROM ({sql}) AS page", params, connection)


def _queue_page_sql(
    *, month: dt.date, over_15: set[int], queue: str, number: int, per_page: int
) -> tuple[str, list[Any]]:
    """One statement: the count of the plain part, of the others, of each queue, and
    the ids of page ``number`` (clamped to the last page) in queue order.

    The queue is two disjoint parts: the plain $20k+ unowned accounts
    (``_plain_unowned_20k``: found from the revenue summary's rank index, their rows
    never read) and the others, the few thousand accounts with a new-owner trait, a
    CSM owner or in a TAM book over 15 (``_candidates``). Each part
    is built once (a MATERIALIZED CTE) and both the counts and the page's choice read
    it: the others' conditions, the CSM expansion's count of core products paid
    above all (about 5,400 CSM accounts at 100,000), were worked out up to three
    times per account over two statements (issue 20). MRR, which only orders the
    page, is worked out for the others of the queue shown only."""
    conditions = _queue_conditions(month=month, over_15=over_15)
    candidates = _candidates(month=month, over_15=over_15, plain_20k=False)
    # An empty "owner in ()" cannot be compiled (EmptyResultSet): no book over 15 is
    # false for every account without asking.
    flags: dict[str, Any] = {
        f"q_{key}": ExpressionWrapper(q, output_field=BooleanField())
        if key != Queue.TAM_OVER_15 or over_15
        else Value(False)
        for key, q in conditions.items()
    }
    flags["q_book"] = (
        ExpressionWrapper(_over_15_books(over_15), output_field=BooleanField())
        if over_15
        else Value(False)
    )
    cand_sql, cand_params = (
        Account.objects.filter(pk__in=candidates)
        .order_by()
        .alias(_all_core=all_core_paid(month=month))
        .annotate(**flags)
        .values(*flags, cand_pk=F("pk"))
        .query.sql_with_params()
    )
    # In the CTE each account's conditions are worked out once, in its columns; the
    # queue's filter and counts read the columns.
    queued = (
        f"q_{Queue.UNOWNED_20K} OR q_{Queue.HANDOVER} OR q_{Queue.AWAITING_PERSON}"
        f" OR q_book OR q_{Queue.CSM_EXPANSION}"
    )
    by_usage, by_spread = _plain_unowned_20k(month=month)
    usage_sql, usage_params = by_usage.values(
        queue_pk=F("account"), queue_mrr=F("mrr")
    ).query.sql_with_params()
    spread_sql, spread_params = by_spread.values(
        queue_pk=F("account"), queue_mrr=F("spread")
    ).query.sql_with_params()
    shown = number * per_page
    # The page's accounts are chosen from each part's first ``shown`` by MRR (ARR is
    # 12 x MRR, same order): the others of the queue shown with their worked-out MRR,
    # the plain part (when shown) with the MRR it was found by.
    in_queue = f" WHERE q.q_{queue}" if queue in conditions else ""
    others_sql, others_params = (
        with_mrr(
            Account.objects.filter(
                pk__in=RawSQL(f"SELECT q.cand_pk FROM alloc_queued q{in_queue}", ())
            ),
            month=month,
        )
        .values(queue_pk=F("pk"), queue_mrr=F("mrr"), queue_name=F("name"))
        .order_by("-queue_mrr", "queue_name", "queue_pk")[:shown]
        .query.sql_with_params()
    )
    parts, parts_params = [f"({others_sql})"], [*others_params]
    if queue in ("", Queue.UNOWNED_20K):
        parts.append(
            "(SELECT p.queue_pk, p.queue_mrr, a.name AS queue_name FROM alloc_plain p"
            " JOIN accounts_account a ON a.id = p.queue_pk"
            " ORDER BY p.queue_mrr DESC, a.name, p.queue_pk LIMIT %s)"
        )
        parts_params.append(shown)
    if queue in conditions and queue != Queue.UNOWNED_20K:
        total = f"q_{queue}"
    elif queue == Queue.UNOWNED_20K:
        total = f"plain + q_{Queue.UNOWNED_20K}"
    else:
        total = "plain + others"
    counted = ", ".join(f"COUNT(*) FILTER (WHERE q_{key}) AS q_{key}" for key in _PAGE_FLAGS)
    sql = f"""
WITH alloc_cand AS MATERIALIZED ({cand_sql}),
alloc_queued AS (SELECT * FROM alloc_cand WHERE {queued}),
alloc_plain AS MATERIALIZED (({usage_sql}) UNION ALL ({spread_sql})),
alloc_counted AS (
    SELECT (SELECT COUNT(*) FROM alloc_plain) AS plain, COUNT(*) AS others, {counted}
    FROM alloc_queued
)
SELECT alloc_counted.*, ARRAY(
    SELECT queue_pk FROM ({" UNION ALL ".join(parts)}) AS chosen
    ORDER BY queue_mrr DESC, queue_name, queue_pk
    LIMIT %s
    OFFSET (SELECT LEAST(%s, GREATEST(({total} + %s - 1) / %s - 1, 0) * %s) FROM alloc_counted)
) FROM alloc_counted"""
    return sql, [
        *cand_params,
        *usage_params,
        *spread_params,
        *parts_params,
        per_page,
        shown - per_page,
        per_page,
        per_page,
        per_page,
    ]


@dataclass(frozen=True)
class Candidate:
    """A person the allocation's assign form offers, with their book's size."""

    pk: int
    name: str
    role: str  # OwnerRole: the role an assignment without a trait gives them (``book_role``)
    region: str  # Region, "" when not set
    team_lead: str  # their team lead's name, "" without one
    accounts: int  # their book: owned accounts not in the Leads state

    @property
    def book(self) -> str:
        """The book against its role's limit, in words: "12 of max 15 accounts",
        "17 accounts, over the max of 15"; a CSM's against the target of about 30."""
        if self.role == OwnerRole.TAM:
            if self.accounts > TAM_MAX_ACCOUNTS:
                return f"{self.accounts} accounts, over the max of {TAM_MAX_ACCOUNTS}"
            return f"{self.accounts} of max {TAM_MAX_ACCOUNTS} accounts"
        if self.accounts > CSM_TARGET_ACCOUNTS:
            return f"{self.accounts} accounts, over the target of about {CSM_TARGET_ACCOUNTS}"
        return f"{self.accounts} of about {CSM_TARGET_ACCOUNTS} accounts"


def assignment_candidates(
    people: QuerySet[User], *, trait: str
) -> list[tuple[str, list[Candidate]]]:
    """``people`` (the active TAMs and CSMs the caller may assign to) as the assign
    form's groups, each ``(label, candidates)``: one group per region, role and team
    ("EU TAM · Ann Lead's team"), those of the region and role ``trait`` asks for
    first (a ``NewOwnerTrait`` value: the account's trait, or the suggested one; any
    other value puts no group first), then by region, role and team lead; people by
    name inside a group, each with the size of their book (``Candidate.book``). One
    query whatever the number of people."""
    wanted = ASSIGNABLE_TRAITS.get(NewOwnerTrait(trait)) if trait in ASSIGNABLE_TRAITS else None
    is_tam = User.groups.through.objects.filter(user=OuterRef("pk"), group__name=Role.TAM)
    # A count per person (their owner index), not a join: ``people`` may join the
    # groups table, which would count a book once per matching role.
    book = (
        Account.objects.filter(owner=OuterRef("pk"), is_lead=False)
        .order_by()
        .values("owner")
        .annotate(n=Count("pk"))
        .values("n")
    )
    candidates = [
        Candidate(
            pk=pk,
            name=name,
            role=OwnerRole.TAM if tam else OwnerRole.CSM,
            region=region,
            team_lead=lead or "",
            accounts=accounts,
        )
        for pk, name, region, lead, tam, accounts in people.order_by()
        .annotate(
            _is_tam=Exists(is_tam),
            _book=Coalesce(Subquery(book, output_field=IntegerField()), 0),
            _lead=F("team_lead__name"),
        )
        .values_list("pk", "name", "region", "_lead", "_is_tam", "_book")
    ]
    groups: dict[tuple[bool, str, str, str], list[Candidate]] = defaultdict(list)
    for c in candidates:
        groups[((c.region, c.role) != wanted, c.region or "~", c.role, c.team_lead)].append(c)
    return [
        (_group_label(region, role, lead), sorted(members, key=lambda c: (c.name, c.pk)))
        for (_, region, role, lead), members in sorted(groups.items(), key=lambda g: g[0])
    ]


def _group_label(region: str, role: str, lead: str) -> str:
    where = "No region" if region == "~" else region
    return f"{where} {role} · {lead}'s team" if lead else f"{where} {role} · no team lead"


def set_book_state(
    *, account: Account, by: User, am_managed: bool | None = None, is_lead: bool | None = None
) -> Activity | None:
    """Change whether the account counts for quota (AM managed: team leads and
    managers only) or sits in the owner's Leads (the owner or a lead/manager).
    Notes who changed what; returns None when nothing changed (idempotent)."""
    changes: dict[str, bool] = {}
    if am_managed is not None and am_managed != account.am_managed:
        if not can_set_am_managed(by):
            raise PermissionDenied("Only a team lead or manager sets AM managed.")
        changes["am_managed"] = am_managed
    if is_lead is not None and is_lead != account.is_lead:
        if not can_edit_account(by, account):
            raise PermissionDenied("Not your book.")
        changes["is_lead"] = is_lead
    if not changes:
        return None
    words = {
        "am_managed": ("AM managed", "not AM managed"),
        "is_lead": ("moved to Leads", "moved into the managed book"),
    }
    with transaction.atomic():
        Account.objects.filter(pk=account.pk).update(**changes)
        for name, value in changes.items():
            setattr(account, name, value)
        return add_note(
            account=account,
            author=by,
            summary="; ".join(words[k][0 if v else 1] for k, v in changes.items()),
        )


def set_new_owner_trait(*, account: Account, trait: str, by: User) -> Activity:
    """Managers decide team and region: set the account's new-owner trait and
    note who did it. Idempotent (setting the same trait again only adds a note)."""
    if not can_set_new_owner_trait(by):
        raise PermissionDenied("Only a manager sets the new owner trait.")
    if trait not in NewOwnerTrait.values and trait != "":
        raise ValueError(f"Unknown new owner trait {trait!r}.")
    with transaction.atomic():
        Account.objects.filter(pk=account.pk).update(new_owner_trait=trait)
        account.new_owner_trait = trait
        label = NewOwnerTrait(trait).label if trait else "(cleared)"
        return add_note(account=account, author=by, summary=f"New owner trait set to {label}")


def set_ready_to_move(*, account: Account, by: User, ready: bool) -> Activity | None:
    """The owner TAE flags their account for handover, or takes the flag back.

    sales/account-allocation: "For TAE accounts being handed over, set the New
    Owner to Ready to move … There's no need to wait for the end of the
    quarter"; the manager then reviews it and a team lead assigns the person.
    The allocation queue lists it as "Flagged for handover". Only the
    account's owner, as its TAE, sets or clears it; a trait a manager has
    already set (team and region) is left alone (``ValueError``). Notes who
    did it; returns None when nothing changed (idempotent). Raises
    PermissionDenied for anyone else.
    """
    if account.owner_id != by.pk or account.owner_role != OwnerRole.TAE:
        raise PermissionDenied("Only the account's owner TAE marks it Ready to move.")
    ready_trait = NewOwnerTrait.READY_TO_MOVE.value
    with transaction.atomic():
        locked = Account.objects.select_for_update().get(pk=account.pk)
        current = locked.new_owner_trait
        if current not in ("", ready_trait):
            raise ValueError(
                f"A manager has set the new owner trait ({NewOwnerTrait(current).label})."
            )
        wanted = ready_trait if ready else ""
        if current == wanted:
            return None
        Account.objects.filter(pk=account.pk).update(new_owner_trait=wanted)
        account.new_owner_trait = wanted
        summary = "Marked Ready to move" if ready else "Ready to move taken back"
        return add_note(account=account, author=by, summary=summary)


def assign_account(
    *,
    account: Account,
    new_owner: User,
    by: User,
    reason: str,
    today: dt.date,
    is_top_40: bool,
) -> OwnershipChange:
    """A team lead (their team, ``permissions.assignment_refusal``) or manager
    gives the account to a person. Expects ``account.owner`` loaded.

    The role comes from the new-owner trait (or the person's role when none is
    set). Top 40 accounts only change owner by a manager's hand. Taking an
    AM-managed account out of someone's book takes effect at quarter end, so
    quota is calculated on the old book; other moves take effect today. Clears
    the trait. Retrying with the same owner records nothing new.
    """
    refusal = assignment_refusal(by, account=account, new_owner=new_owner, is_top_40=is_top_40)
    if refusal:
        raise PermissionDenied(refusal)
    role: str
    if account.new_owner_trait in ASSIGNABLE_TRAITS:
        role = ASSIGNABLE_TRAITS[NewOwnerTrait(account.new_owner_trait)][1]
    else:
        role = book_role(new_owner)
    effective_on = today
    if account.owner_id is not None and account.am_managed:
        effective_on = quarter_end(today) + dt.timedelta(days=1)
    with transaction.atomic():
        change = change_account_owner(
            account=account,
            new_owner=new_owner,
            new_owner_role=role,
            changed_by=by,
            reason=reason,
            source="allocation",
            effective_on=effective_on,
        )
        Account.objects.filter(pk=account.pk).update(new_owner_trait="")
        account.new_owner_trait = ""
    return change


def annotate_for_book(
    accounts: QuerySet[Account],
    *,
    today: dt.date,
    month: dt.date | None = None,
    rank_top_40: bool = True,
) -> QuerySet[BookAccount]:
    """My book's rows: revenue of ``month`` (see ``with_revenue``), segments,
    plan freshness, ``in_grace_period``
    (the owner took it with no previous owner less than 3 months ago, so a churn
    does not count against their quota: billing.quota's grace period) and the
    ``BOOK_MARKS``. One query."""
    grace_start = add_months(today, -GRACE_MONTHS).replace(day=min(today.day, 28))
    first_owner = OwnershipChange.objects.filter(
        account=OuterRef("pk"), new_owner=OuterRef("owner"), previous_owner__isnull=True
    )
    return with_revenue(
        accounts.select_related("owner"), today=today, month=month, rank_top_40=rank_top_40
    ).annotate(
        in_grace_period=ExpressionWrapper(
            Exists(first_owner) & Q(owner_since__gt=grace_start), output_field=BooleanField()
        ),
        **mark_annotations(*BOOK_MARKS),
    )


@functools.lru_cache(maxsize=4)
def _every_book_row(*, today: dt.date, month: dt.date) -> QuerySet[BookAccount]:
    # Never evaluated: only ever cloned by .filter() (so no result cache is shared).
    # book_rows stores the month's Top 40 on each request, this only once.
    return annotate_for_book(Account.objects.all(), today=today, month=month, rank_top_40=False)


def book_rows(
    owner: User, *, today: dt.date, month: dt.date | None = None
) -> QuerySet[BookAccount]:
    """``annotate_for_book(book_accounts(owner), ...)``, the same SQL, without building
    its revenue expressions again on every request: they are built once per process
    for the day and month (a third of My book's Python time was spent resolving them,
    profiled with pyinstrument at 10,000 accounts; issue 20) and each request filters
    a clone to ``owner``'s book. One statement first (the Top 40 of ``month`` stored if
    unranked), one query when evaluated."""
    if month is None:  # the month is read from the data: nothing to keep
        return annotate_for_book(book_accounts(owner), today=today)
    # The kept rows read the stored Top 40: store it if the month has none (one statement).
    rank_top_accounts_if_unranked(month=month)
    return _every_book_row(today=today, month=month).filter(_in_book(owner))


# My book's statement by (today, month, the page's filters and order): compiled once,
# its dates and amounts written in, so the generic plan (settings' plan_cache_mode) is
# estimated for them: 8.6 -> 7.5 ms per execution on the 100k bench clone (issue 20).
_BOOK_PAGES = CompiledOnce(Account)


def book_page_rows(
    owner: User,
    *,
    today: dt.date,
    month: dt.date,
    shape: Hashable,
    refine: Callable[[QuerySet[BookAccount]], QuerySet[BookAccount]],
) -> list[BookAccount]:
    """``refine(book_rows(owner, ...))`` evaluated, each row with its ``owner`` loaded,
    its SQL compiled once per process for ``today``, ``month`` and ``shape``
    (``revopsweb.sql.CompiledOnce``): compiling its revenue annotations was about a
    sixth of My book's Python time (issue 20). ``shape`` must name whatever
    ``refine`` varies by (filters, order); ``refine`` may not use the owner or a
    value outside ``shape``. Two statements, as ``book_rows`` and an evaluation."""
    rank_top_accounts_if_unranked(month=month)
    # The rows are Accounts with the book's annotations; CompiledOnce knows the model only.
    return cast(
        "list[BookAccount]",
        _BOOK_PAGES.rows(
            (today, month, shape),
            lambda owner_pk: refine(
                _every_book_row(today=today, month=month).filter(_in_book(User(pk=owner_pk)))
            ).select_related("owner"),
            owner_pk=owner.pk,
        ),
    )


def _in_book(owner: User) -> Q:
    return Q(owner=owner) | Q(tam_overlay=owner)


def book_accounts(owner: User) -> QuerySet[Account]:
    """The accounts in ``owner``'s book: every account they own (leads included,
    marked by ``is_lead``) and the CSM accounts they overlay as TAM."""
    return Account.objects.filter(_in_book(owner))
