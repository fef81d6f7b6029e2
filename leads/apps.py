from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = "Leads and round robin"

    def ready(self) -> None:
        # Reference rows are (re)created after every migrate and after test
        # flushes; the function only fills what is missing.
        post_migrate.connect(_ensure_reference_rows, sender=self)

        from accounts.extensions import register_section
        from accounts.permissions import any_staff

        register_section(url_name="leads:my_tasks", label="Tasks", order=20, may_open=any_staff)
        # Everyone reads the tracker; can_edit_tracker decides who changes it.
        register_section(
            url_name="leads:tracker", label="Round robin tracker", order=30, may_open=any_staff
        )


def _ensure_reference_rows(**kwargs: Any) -> None:
    from .territories import ensure_territories

    ensure_territories()
