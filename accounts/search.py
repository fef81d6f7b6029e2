"""Company-wide account search (issue 19): by name, domain, organisation id or owner.

Every signed-in person searches every account: knowing that an account exists
and who owns it is what a colleague needs before asking the owner. What each
result lets them open is still ``accounts.permissions.visible_accounts``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Case, IntegerField, Q, Value, When

from .models import Account, User

# Shorter queries match too much to be useful, and give trigram indexes no
# trigram to work with.
MIN_QUERY_LENGTH = 2
MAX_QUERY_LENGTH = 100
# Below three characters a trigram index has nothing to match on: such a query
# matches the start of a name or organisation id (btree prefix indexes) only.
MIN_SUBSTRING_LENGTH = 3
SEARCH_ROWS = 20
# Owners a query may match by name; staff names are few, this only bounds the list.
MAX_OWNERS = 50


def clean_query(query: str) -> str:
    """The query as searched: NULs dropped (PostgreSQL refuses them in text),
    spaces collapsed, at most MAX_QUERY_LENGTH characters."""
    return " ".join(query.replace("\x00", "").split())[:MAX_QUERY_LENGTH]


def search_accounts(
    *, query: str, limit: int = SEARCH_ROWS, viewer_pk: int | None = None
) -> list[Account]:
    """Accounts whose name, domain or organisation id contains ``query`` (any case),
    or whose owner's name does, with ``owner`` loaded; at most ``limit``.

    A query of two characters matches the start of a name or organisation id
    (a substring of two letters matches too much to help). Ranked: an exact
    organisation id or domain first, then names starting with
    the query, then the rest; within each, the accounts of ``viewer_pk`` (owner or
    TAM overlay) first, then by name: a TAM's own "Juniper Software" is not cut off
    by twenty other Junipers. Empty below MIN_QUERY_LENGTH
    characters. Two queries (owners by name, then accounts), each answered
    from trigram indexes where the server has pg_trgm (migration 0013).
    """
    q = clean_query(query)
    if len(q) < MIN_QUERY_LENGTH:
        return []
    owners = list(
        User.objects.filter(name__icontains=q)
        .order_by("pk")
        .values_list("pk", flat=True)[:MAX_OWNERS]
    )
    if len(q) < MIN_SUBSTRING_LENGTH:
        matches = Q(name__istartswith=q) | Q(organization_id__istartswith=q)
    else:
        matches = Q(name__icontains=q) | Q(domain__icontains=q) | Q(organization_id__icontains=q)
    if owners:
        matches |= Q(owner_id__in=owners)
    rank = Case(
        When(Q(organization_id__iexact=q) | Q(domain__iexact=q), then=Value(0)),
        When(name__istartswith=q, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    # Without a viewer nobody's accounts come first (owner_id=None would mean unowned).
    not_theirs: Any = Value(1)
    if viewer_pk is not None:
        theirs = Q(owner_id=viewer_pk) | Q(tam_overlay_id=viewer_pk)
        not_theirs = Case(
            When(theirs, then=Value(0)), default=Value(1), output_field=IntegerField()
        )
    return list(
        Account.objects.filter(matches)
        .select_related("owner")
        .annotate(rank=rank, not_theirs=not_theirs)
        .order_by("rank", "not_theirs", "name", "pk")[:limit]
    )
