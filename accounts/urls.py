from __future__ import annotations

from django.urls import path

from revopsweb.views import coming_soon

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
    path(
        "churn/",
        coming_soon,
        {"section": "Churn review", "arrives_with": "churn risk and the weekly review"},
        name="churn_review",
    ),
]
