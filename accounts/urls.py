from __future__ import annotations

from django.urls import path

from revopsweb.views import coming_soon

from . import churn_views

app_name = "accounts"

urlpatterns = [
    path(
        "book/",
        coming_soon,
        {"section": "My book", "arrives_with": "accounts and books of business"},
        name="my_book",
    ),
    path(
        "handovers/",
        coming_soon,
        {"section": "Handovers", "arrives_with": "account handovers"},
        name="handovers",
    ),
    path("churn/", churn_views.churn_review, name="churn_review"),
    path("churn/review.csv", churn_views.churn_review_csv, name="churn_review_csv"),
    path("churn/accounts/<int:account_id>/flag/", churn_views.churn_flag, name="churn_flag"),
    path("churn/flags/<int:flag_id>/status/", churn_views.churn_status, name="churn_status"),
    path("churn/flags/<int:flag_id>/escalate/", churn_views.churn_escalate, name="churn_escalate"),
    path("churn/flags/<int:flag_id>/close/", churn_views.churn_close, name="churn_close"),
    path("churn/flags/<int:flag_id>/retro/", churn_views.churn_retro, name="churn_retro"),
    path(
        "api/accounts/<str:organization_id>/snapshots",
        churn_views.snapshot_api,
        name="snapshot_api",
    ),
]
