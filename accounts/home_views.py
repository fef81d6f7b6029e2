"""The home page ``/``: each role's own (see ``accounts.home``)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from billing.revenue_data import revenue_data_through
from revopsweb.dates import company_today

from .extensions import home_panels
from .home import HOME_TITLES, home_of
from .http import StaffRequest


@require_GET
def home(request: StaffRequest) -> HttpResponse:
    """The signed-in person's home: the panels registered for their role's home,
    each with its own context. A fixed number of queries per home."""
    user = request.user
    today = company_today()
    # Read once: every panel's figures are of the same month.
    through = revenue_data_through(today=today)
    kind = home_of(user)
    panels = [
        (panel.template, panel.context(user, today, through.figures_month))
        for panel in home_panels(kind)
    ]
    return render(
        request,
        "accounts/home.html",
        {"home": kind, "title": HOME_TITLES[kind], "panels": panels, "through": through},
    )
