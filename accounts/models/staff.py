from __future__ import annotations

from decimal import Decimal
from functools import cached_property
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower

from accounts.roles import LEAD_ROLES, MANAGER_ROLES, Role
from revopsweb.parsing import normalise_email


class Region(models.TextChoices):
    """Ownership region: decides which team (US or EU) owns an account."""

    US = "US", "US"
    EU = "EU", "EU"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("Staff log in with their email; it is required.")
        user = self.model(email=normalise_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        """The user whose e-mail is ``username`` in any case (the login backend's lookup).

        Read through ``lower(email)``, the expression of the unique index
        ``user_email_unique_any_case``, so ``first.last@example.com`` finds
        ``First.Last@Example.com`` with one index probe.
        """
        return self.alias(email_lower=Lower("email")).get(
            email_lower=normalise_email(username or "")
        )


class User(AbstractUser):
    """A member of staff. Logs in with their email; roles are groups."""

    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField("email", unique=True)
    name = models.CharField(max_length=150)
    title = models.CharField(max_length=150, blank=True)
    region = models.CharField(max_length=2, choices=Region.choices, blank=True)
    team_lead = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="team_members",
        help_text="The team lead this person reports to.",
    )
    started_on = models.DateField(
        null=True, blank=True, help_text="First day in the role; quota ramps for three months."
    )
    quarterly_quota = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
        help_text="TAM/TAE quota per quarter, in dollars of ARR.",
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["name"]

    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    class Meta:
        # Names repeat (the demo has namesakes): the id keeps every list and select in one order.
        ordering = ("name", "id")
        constraints: ClassVar[list[models.BaseConstraint]] = [
            # One person per address whatever its case (issue 16 §3): the login,
            # the accounts CSV's owner_email and the admin match without case.
            models.UniqueConstraint(
                Lower("email"),
                name="user_email_unique_any_case",
                violation_error_message="A staff user with this e-mail already exists "
                "(capitalisation does not make a different address).",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.email

    def clean(self) -> None:
        super().clean()
        self.email = normalise_email(self.email)

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Stored in the one spelling every lookup compares with, whatever form
        # (admin, createsuperuser, a factory) set it.
        self.email = normalise_email(self.email or "")
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name.split(" ")[0] if self.name else self.email

    @cached_property
    def role_names(self) -> frozenset[str]:
        """The user's roles, loaded once per user object (one query). The signed-in
        user of a request has them already: the login backend reads them with the
        user (``accounts.backends.StaffBackend``)."""
        return frozenset(self.groups.values_list("name", flat=True))

    @property
    def role_label(self) -> str:
        """The roles as people read them: "TAM", "Team lead, TAM"; "" without a role."""
        return ", ".join(sorted(self.role_names))

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_names.intersection(roles))

    @property
    def is_team_lead_or_manager(self) -> bool:
        return self.is_superuser or self.has_role(*LEAD_ROLES)

    @property
    def is_manager(self) -> bool:
        return self.is_superuser or self.has_role(*MANAGER_ROLES)

    @property
    def is_revops(self) -> bool:
        return self.is_superuser or self.has_role(Role.REVOPS)
