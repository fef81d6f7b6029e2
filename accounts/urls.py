from __future__ import annotations

from django.urls import path

from . import account_views, book_views, search_views

app_name = "accounts"

urlpatterns = [
    path("search/", search_views.search, name="search"),
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
    path("accounts/<int:pk>/", account_views.account_detail, name="account"),
    path("accounts/<int:pk>/notes/", account_views.account_add_note, name="account_note"),
    path(
        "accounts/<int:pk>/book-state/", account_views.account_book_state, name="account_book_state"
    ),
    path(
        "accounts/<int:pk>/recommendations/",
        account_views.account_recommend,
        name="account_recommend",
    ),
    path(
        "recommendations/<int:pk>/actioned/",
        account_views.recommendation_actioned,
        name="recommendation_actioned",
    ),
    path("accounts/<int:pk>/plans/", account_views.account_start_plan, name="account_plan_start"),
    path(
        "accounts/<int:pk>/ready-to-move/",
        account_views.account_ready_to_move,
        name="account_ready_to_move",
    ),
    path("plans/<int:pk>/", account_views.plan_edit, name="plan"),
]
