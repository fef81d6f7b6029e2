from __future__ import annotations

from django.urls import path

from . import api, views

app_name = "billing"

urlpatterns = [
    path("revenue/", views.revenue, name="revenue"),
    path("revenue/export.csv", views.revenue_csv, name="revenue_csv"),
    path("revenue/quota/", views.quota, name="quota"),
    path("revenue/import/", views.import_mrr, name="import_mrr"),
    path("api/revenue/monthly/", api.monthly_revenue, name="api_monthly_revenue"),
]
