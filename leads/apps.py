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

        from accounts.extensions import register_home_panel, register_section
        from accounts.permissions import any_staff

        from .home_panels import fairness_panel, tasks_panel, unassigned_stale_panel

        register_section(url_name="leads:my_tasks", label="Tasks", order=20, may_open=any_staff)
        # Everyone reads the tracker; can_edit_tracker decides who changes it.
        register_section(
            url_name="leads:tracker", label="Round robin tracker", order=30, may_open=any_staff
        )
        register_home_panel(
            key="tasks",
            template="leads/home_tasks.html",
            order=20,
            homes={"book"},
            context=tasks_panel,
        )
        register_home_panel(
            key="fairness",
            template="leads/home_fairness.html",
            order=20,
            homes={"team"},
            context=fairness_panel,
        )
        register_home_panel(
            key="unassigned_stale",
            template="leads/home_unassigned.html",
            order=30,
            homes={"team"},
            context=unassigned_stale_panel,
        )


def _ensure_reference_rows(**kwargs: Any) -> None:
    from revopsweb.migrating import tables_ready

    from .models import Territory
    from .territories import ensure_territories

    if not tables_ready(Territory, apps=kwargs.get("apps")):
        return

    ensure_territories()
