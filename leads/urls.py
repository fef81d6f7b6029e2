from __future__ import annotations

from django.urls import path

from revopsweb.views import coming_soon

app_name = "leads"

urlpatterns = [
    path(
        "tasks/",
        coming_soon,
        {"section": "Tasks", "arrives_with": "lead intake and the round robin"},
        name="my_tasks",
    ),
    path(
        "tracker/",
        coming_soon,
        {"section": "Round robin tracker", "arrives_with": "lead intake and the round robin"},
        name="tracker",
    ),
]
