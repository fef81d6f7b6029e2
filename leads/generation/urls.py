from __future__ import annotations

from django.urls import path

from . import views

app_name = "leadgen"

urlpatterns = [
    path("lead-rules/", views.rules, name="rules"),
    path("lead-rules/<slug:key>/", views.rule_detail, name="rule"),
    path("lead-rules/<slug:key>/preview/", views.rule_preview, name="rule_preview"),
]
