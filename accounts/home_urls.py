from __future__ import annotations

from django.urls import path

from . import home_views

# Outside the accounts namespace: "home" is the project's landing page
# (LOGIN_REDIRECT_URL, the brand link).
urlpatterns = [path("", home_views.home, name="home")]
