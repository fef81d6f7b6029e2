"""Staff e-mail addresses become case-insensitive (issue 16 §3).

Existing addresses are stored trimmed and in lower case (the one spelling the
login, the imports and the admin compare with), then a unique index on
``lower(email)`` keeps a second "First.Last@Example.com" out.

Two users whose addresses differ only in case cannot both keep it. Rather
than pick one (each may own accounts, tasks and history), the migration
stops before changing anything and names them, with what to do.
"""

from typing import Any

import django.db.models.functions.text
from django.db import migrations, models
from django.db.models import Count, Q
from django.db.models.functions import Lower, Trim


class EmailCaseCollision(Exception):
    """Users share an e-mail address apart from its case."""


def collision_message(groups: dict[str, list[tuple[int, str, str, bool]]]) -> str:
    lines = [
        "Staff e-mail addresses are now unique whatever their case, but these users share "
        "one (nothing was changed):"
    ]
    for address, users in sorted(groups.items()):
        people = "; ".join(
            f"user {pk} {name!r} <{email}>{'' if active else ' (inactive)'}"
            for pk, name, email, active in users
        )
        lines.append(f"  {address}: {people}")
    lines.append(
        "Keep one user per address: in the admin (Users), give each other user a different "
        "e-mail (e.g. old+first.last@example.com) and switch their login off, or move their "
        "accounts and tasks to the user you keep and delete them; then run "
        "`python manage.py migrate` again."
    )
    return "\n".join(lines)


def lower_staff_emails(apps: Any, schema_editor: Any) -> None:
    user_model = apps.get_model("accounts", "User")
    users = user_model.objects.using(schema_editor.connection.alias)
    normal = Lower(Trim("email"))
    shared = (
        users.annotate(address=normal)
        .values("address")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values_list("address", flat=True)
    )
    groups: dict[str, list[tuple[int, str, str, bool]]] = {}
    for pk, name, email, active, address in (
        users.annotate(address=normal)
        .filter(address__in=list(shared))
        .order_by("address", "pk")
        .values_list("pk", "name", "email", "is_active", "address")
    ):
        groups.setdefault(address, []).append((pk, name, email, active))
    if groups:
        raise EmailCaseCollision(collision_message(groups))
    users.filter(~Q(email=normal)).update(email=normal)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_account_plan_scale"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(lower_staff_emails, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("email"),
                name="user_email_unique_any_case",
                violation_error_message="A staff user with this e-mail already exists "
                "(capitalisation does not make a different address).",
            ),
        ),
    ]
