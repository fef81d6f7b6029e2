from __future__ import annotations

from django.urls import path

from . import backtest_views, views

app_name = "churn"

urlpatterns = [
    path("churn/", views.churn_review, name="review"),
    path("churn/review.csv", views.churn_review_csv, name="review_csv"),
    path("churn/backtest/", backtest_views.backtest_page, name="backtest"),
    path("churn/backtest.csv", backtest_views.backtest_csv, name="backtest_csv"),
    path("churn/accounts/<int:account_id>/flag/", views.churn_flag, name="flag"),
    path("churn/flags/<int:flag_id>/status/", views.churn_status, name="status"),
    path("churn/flags/<int:flag_id>/escalate/", views.churn_escalate, name="escalate"),
    path("churn/flags/<int:flag_id>/close/", views.churn_close, name="close"),
    path("churn/flags/<int:flag_id>/retro/", views.churn_retro, name="retro"),
    path(
        "api/accounts/<str:organization_id>/snapshots",
        views.snapshot_api,
        name="snapshot_api",
    ),
]
