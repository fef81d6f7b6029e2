from __future__ import annotations

from django.urls import path

from revopsweb.views import coming_soon

app_name = "billing"

urlpatterns = [
    path(
        "revenue/",
        coming_soon,
        {"section": "Revenue", "arrives_with": "revenue analytics"},
        name="revenue",
    ),
]
