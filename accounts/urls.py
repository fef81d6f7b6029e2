from __future__ import annotations

from django.urls import path

from . import book_views, churn_views, handover_views

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
    path(
        "accounts/<int:pk>/ready-to-move/",
        book_views.account_ready_to_move,
        name="account_ready_to_move",
    ),
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
