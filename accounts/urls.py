from __future__ import annotations

from django.urls import path

from revopsweb.views import coming_soon

from . import book_views, handover_views

app_name = "accounts"

urlpatterns = [
    path("book/", book_views.my_book, name="my_book"),
    path("book/export.csv", book_views.book_export, name="book_export"),
    path("book/planning/", book_views.planning, name="planning"),
    path("book/allocation/", book_views.allocation, name="allocation"),
    path(
        "book/allocation/<int:pk>/trait/",
        book_views.allocation_set_trait,
        name="allocation_trait",
    ),
    path(
        "book/allocation/<int:pk>/assign/",
        book_views.allocation_assign,
        name="allocation_assign",
    ),
    path("book/import/", book_views.import_page, name="import"),
    path("accounts/<int:pk>/", book_views.account_detail, name="account"),
    path("accounts/<int:pk>/notes/", book_views.account_add_note, name="account_note"),
    path("accounts/<int:pk>/book-state/", book_views.account_book_state, name="account_book_state"),
    path("accounts/<int:pk>/plans/", book_views.account_start_plan, name="account_plan_start"),
    path("plans/<int:pk>/", book_views.plan_edit, name="plan"),
    # Handovers (issue 7): accounts/handover_views.py
    path("handovers/", handover_views.handover_list, name="handovers"),
    path("handovers/<int:pk>/", handover_views.handover_detail, name="handover"),
    path(
        "handovers/<int:pk>/step/<slug:step>/", handover_views.handover_step, name="handover_step"
    ),
    path(
        "handovers/<int:pk>/checklist/",
        handover_views.handover_checklist,
        name="handover_checklist",
    ),
    path("handovers/<int:pk>/notes/", handover_views.handover_notes, name="handover_notes"),
    path(
        "handovers/<int:pk>/onboarding/",
        handover_views.handover_onboarding,
        name="handover_onboarding",
    ),
    path(
        "accounts/<int:pk>/handover/",
        handover_views.handover_propose,
        name="handover_propose",
    ),
    path(
        "accounts/<int:pk>/onboarding/",
        handover_views.account_onboarding,
        name="account_onboarding",
    ),
    path(
        "accounts/<int:pk>/tam-overlay/",
        handover_views.account_tam_overlay,
        name="account_tam_overlay",
    ),
    path(
        "churn/",
        coming_soon,
        {"section": "Churn review", "arrives_with": "churn risk and the weekly review"},
        name="churn_review",
    ),
]
