"""The login form: Django's, saying what is case-sensitive here."""

from __future__ import annotations

from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    """Django's ``AuthenticationForm`` whose refusal does not say the e-mail may be
    case-sensitive: logins are matched on the e-mail in any case
    (``User.objects.get_by_natural_key``), only the password is."""

    error_messages = {  # noqa: RUF012 (Django's own shape)
        **AuthenticationForm.error_messages,
        "invalid_login": (
            "Please enter a correct email and password. The password is case-sensitive."
        ),
    }
