from __future__ import annotations

from django.urls import path

from . import api, dunning_views, exclusion_views, fact_views, refund_views, trial_views, views
from .facts import FACT_KINDS

app_name = "billing"

urlpatterns = [
    path("revenue/", views.revenue, name="revenue"),
    path("revenue/export.csv", views.revenue_csv, name="revenue_csv"),
    path("revenue/quota/", views.quota, name="quota"),
    path("revenue/import/", views.import_mrr, name="import_mrr"),
    path("trials/", trial_views.trials, name="trials"),
    path("trials/<int:pk>/update", trial_views.trial_update, name="trial_update"),
    path("trials/<int:pk>/extend", trial_views.trial_extend, name="trial_extend"),
    path(
        "revenue/quota/exclusions/<int:account_id>/request",
        exclusion_views.request_exclusion_view,
        name="request_exclusion",
    ),
    path(
        "revenue/quota/exclusions/<int:pk>/decide",
        exclusion_views.decide_exclusion_view,
        name="decide_exclusion",
    ),
    path("api/revenue/monthly/", api.monthly_revenue, name="api_monthly_revenue"),
    path("billing/dunning/", dunning_views.dunning_queue, name="dunning"),
    path("billing/dunning/<int:pk>/", dunning_views.account_dunning, name="account_dunning"),
    path("billing/refunds/new/<int:account_pk>/", refund_views.new_refund, name="new_refund"),
    path("billing/refunds/<int:pk>/", refund_views.refund, name="refund"),
    path("billing/refunds/<int:pk>/decide/", refund_views.decide, name="refund_decide"),
    path("billing/import/", fact_views.fact_imports, name="fact_imports"),
    path("billing/import/<slug:name>/", fact_views.fact_import, name="fact_import"),
    # One endpoint per fact kind, each behind its own token scope.
    *(
        path(f"api/billing/{name}/", fact_views.fact_api(kind), name=f"api_{name}")
        for name, kind in FACT_KINDS.items()
    ),
]
