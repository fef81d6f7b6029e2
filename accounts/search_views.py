"""The account search: a plain GET page, and its results partial for htmx."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .http import StaffRequest
from .permissions import openable_account_ids
from .search import MIN_QUERY_LENGTH, SEARCH_ROWS, clean_query, search_accounts


@require_GET
def search(request: StaffRequest) -> HttpResponse:
    """Results for ``?q=``; the header's box asks for the ``results`` partial over htmx.
    Three queries after the session's: owners, accounts, which of them the person may open."""
    query = clean_query(request.GET.get("q", ""))
    # One row past the list says whether there are more, without a count.
    found = search_accounts(query=query, limit=SEARCH_ROWS + 1, viewer_pk=request.user.pk)
    results = found[:SEARCH_ROWS]
    openable = openable_account_ids(request.user, (a.pk for a in results))
    context = {
        "query": query,
        "results": results,
        "more": len(found) > SEARCH_ROWS,
        "openable": openable,
        "too_short": 0 < len(query) < MIN_QUERY_LENGTH,
        "min_length": MIN_QUERY_LENGTH,
    }
    template = "accounts/search.html#results" if request.htmx else "accounts/search.html"
    return render(request, template, context)
