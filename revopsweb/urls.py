from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import import_views, views
from .auth_forms import LoginForm

urlpatterns = [
    # Each role's home (accounts.home); the apps plug their panels into it.
    path("", include("accounts.home_urls")),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="registration/login.html",
            authentication_form=LoginForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Everyone changes their own password here (the admin's password form is
    # a superuser's, for other people).
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(template_name="registration/password_change.html"),
        name="password_change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="registration/password_change_done.html"
        ),
        name="password_change_done",
    ),
    path("imports/<uuid:job_id>/", import_views.import_job, name="import_job"),
    path(
        "imports/<uuid:job_id>/errors.csv", import_views.import_job_errors, name="import_job_errors"
    ),
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("", include("accounts.handovers.urls")),
    path("", include("accounts.churn.urls")),
    path("", include("leads.urls")),
    path("", include("leads.generation.urls")),
    path("", include("billing.urls")),
]
