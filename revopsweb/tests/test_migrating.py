"""Reference rows after a migrate that stops short: tables_ready reads the migration state."""

from __future__ import annotations

import pytest
from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from billing.models import AccountMonthMrr, Product
from leads.generation.models import LeadRule
from leads.models import Territory
from revopsweb.migrating import tables_ready


def _state_apps(*nodes: tuple[str, str]) -> Apps:
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    return loader.project_state(nodes).apps


@pytest.mark.django_db
def test_a_model_whose_app_is_not_migrated_yet_is_not_ready():
    # migrate leads 0008 on an empty database: billing's tables do not exist yet.
    apps = _state_apps(("leads", "0008_intake_functions"))

    assert not tables_ready(Product, apps=apps)


@pytest.mark.django_db
def test_a_model_missing_a_column_added_by_a_later_migration_is_not_ready():
    apps = _state_apps(("billing", "0012_revenue_customer_month"))

    assert tables_ready(Product, apps=apps)
    assert not tables_ready(AccountMonthMrr, apps=apps)


@pytest.mark.django_db
def test_every_model_is_ready_in_the_fully_migrated_state():
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    apps = loader.project_state().apps

    assert tables_ready(Product, AccountMonthMrr, Territory, LeadRule, apps=apps)


def test_a_flush_which_sends_no_state_counts_as_ready():
    assert tables_ready(Product, apps=None)
