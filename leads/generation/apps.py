from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class LeadGenerationConfig(AppConfig):
    name = "leads.generation"
    label = "leadgen"
    verbose_name = "Lead rules"

    def ready(self) -> None:
        # The rules' handbook defaults are (re)created after every migrate and
        # test flush; the function only fills what is missing.
        post_migrate.connect(_ensure_rules, sender=self)

        from accounts.extensions import register_section
        from leads.permissions import can_see_lead_rules

        register_section(
            url_name="leadgen:rules", label="Lead rules", order=40, may_open=can_see_lead_rules
        )


def _ensure_rules(**kwargs: Any) -> None:
    from revopsweb.migrating import tables_ready

    from .generate import ensure_rules
    from .models import LeadRule, LeadRuleVersion

    if not tables_ready(LeadRule, LeadRuleVersion, apps=kwargs.get("apps")):
        return

    ensure_rules()
