from __future__ import annotations

from django.urls import path

from . import views

app_name = "handovers"

urlpatterns = [
    path("handovers/", views.handover_list, name="list"),
    path("handovers/<int:pk>/", views.handover_detail, name="detail"),
    path("handovers/<int:pk>/step/<slug:step>/", views.handover_step, name="step"),
    path("handovers/<int:pk>/checklist/", views.handover_checklist, name="checklist"),
    path("handovers/<int:pk>/notes/", views.handover_notes, name="notes"),
    path("handovers/<int:pk>/onboarding/", views.handover_onboarding, name="onboarding"),
    path("accounts/<int:pk>/handover/", views.handover_propose, name="propose"),
    path("accounts/<int:pk>/onboarding/", views.account_onboarding, name="account_onboarding"),
    path("accounts/<int:pk>/tam-overlay/", views.account_tam_overlay, name="account_tam_overlay"),
]
