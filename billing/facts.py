"""Billing facts in: one declaration per fact kind, four ways in that accept exactly the same rows.

A *fact kind* (invoices, payment attempts, credits, trials, …) is a
``FactImport`` subclass: the ``revopsweb.imports.ImportKind`` declaration (its
``RowForm`` validator, header, natural key, how a row becomes a model
instance) plus an integration token scope. Declaring it gives, with no more code:

- a CSV import page ``/billing/import/<name>/`` (dry run, every bad row with
  line, column and reason, all or nothing; RevOps only), listed on
  ``/billing/import/``;
- ``manage.py import_billing_facts <name> FILE [--dry-run]``;
- ``POST /api/billing/<name>/`` with ``Authorization: Bearer <token>`` of the
  kind's own scope, body ``{"rows": [{column: value, …}], "dry_run": false}``:
  200 with ``rows, created, updated, applied``; 400 with ``errors``
  (``line`` = the row's position from 1, ``column``, ``message``) and nothing
  applied; 413 over ``max_rows``; idempotent upsert by the natural key;
- the admin's form validated by the same ``RowForm`` (``fact_admin_form``)
  and saved through ``FactAdmin``, which runs the kind's ``after_apply`` as an
  import would.

Every path ends in ``after_apply`` inside the writing transaction, so what
depends on a fact is refreshed whichever way it came in: kinds with
``affects_revenue`` drop the revenue cache, recompute it in the background
and re-rank the Top 40 (``revenue_facts_changed``); a kind's own rules
(dunning for payment attempts) go there too. Every row written is recorded by
django-pghistory's triggers (the model needs ``@pghistory.track()``) with who,
when and the source: ``import`` (page, command), ``api`` or ``admin``.

How to add a kind (billing/README-facts.md has the checklist)::

    # billing/forms.py
    class TrialRowForm(RowForm):
        organization_id = parsing.KeyField(max_length=ORGANIZATION_ID_LENGTH,
                                           help_text="The account.")
        ...

    # billing/fact_kinds.py (or a module of your own imported by apps.ready)
    class TrialImport(FactImport[Trial]):
        name = "trials"                      # URL, command argument, registry key
        label = "Trials"
        scope = "trials"                     # token scope (≤ 20 characters)
        header = ("organization_id", "product", "kind", "starts_on", "ends_on")
        form = TrialRowForm
        model = Trial
        key_columns = ("organization_id", "product", "starts_on")
        unique_fields = ("account", "product", "starts_on")
        update_fields = ("kind", "ends_on")
        affects_revenue = True               # the trial revenue adjustment reads it

        def build(self, data, context):
            return Trial(account_id=context["accounts"][data["organization_id"]]["pk"], ...)

    # billing/admin.py
    @admin.register(Trial)
    class TrialAdmin(FactAdmin):
        fact = TrialImport
        form = fact_admin_form(TrialImport, lambda d: {"organization_id": ..., ...})
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from django import forms
from django.contrib import admin
from django.db import models, transaction
from django.http import HttpRequest

from accounts.models import register_token_scope
from revopsweb.imports import ImportKind, RowValidatedModelForm

__all__ = [
    "FACT_KINDS",
    "FactAdmin",
    "FactImport",
    "fact_admin_form",
    "fact_kind",
    "revenue_facts_changed",
]

# Every declared fact kind by name, in declaration order (the import index lists them so).
FACT_KINDS: dict[str, type[FactImport[Any]]] = {}


def revenue_facts_changed() -> None:
    """After a commit that changed revenue inputs: refresh the revenue summaries and
    re-rank the Top 40 in the background (the stored ranking is what pages read).

    Call it through ``transaction.on_commit(..., robust=True)``: with Redis down the
    change stays committed and the hourly refresh catches up.
    """
    from accounts.tasks import refresh_top_accounts_task

    from .tasks import refresh_revenue_cache

    refresh_revenue_cache.delay()
    refresh_top_accounts_task.delay()


class FactImport[M: models.Model](ImportKind[M]):
    """A billing fact kind: an ``ImportKind`` with a token scope; see the module docstring."""

    scope: ClassVar[str]
    # Does the revenue page (lifecycle, adjustments, NDR) or a segment read this kind?
    affects_revenue: ClassVar[bool] = False
    # Largest API body, in rows (bigger files go through the CSV page or the command).
    max_rows: ClassVar[int] = 10_000
    # What the import page says about the file beyond each column's help text.
    notes: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            FACT_KINDS[cls.name] = cls
            register_token_scope(cls.scope, cls.label)

    def after_apply(self, objs: list[M]) -> None:
        super().after_apply(objs)
        if self.affects_revenue:
            transaction.on_commit(revenue_facts_changed, robust=True)

    @classmethod
    def columns(cls) -> list[tuple[str, str]]:
        """``(column, what it holds)`` for the page and the README, from the row form's help."""
        fields = cls.form.base_fields
        return [(c, str(fields[c].help_text) if c in fields else "") for c in cls.header]


def fact_kind(name: str) -> type[FactImport[Any]] | None:
    """The fact kind called ``name``, or None."""
    return FACT_KINDS.get(name)


def fact_admin_form(
    kind: type[FactImport[Any]],
    row_values: Callable[[Mapping[str, Any]], dict[str, object]],
    *,
    fields: tuple[str, ...] | None = None,
) -> type[RowValidatedModelForm]:
    """An admin ModelForm for ``kind.model`` that the kind's ``RowForm`` validates.

    ``row_values(cleaned_data)`` maps the admin's values to the row's columns (a
    foreign key to its natural key, e.g. the account to its organization_id).
    """

    def _row_values(self: RowValidatedModelForm, data: Mapping[str, Any]) -> dict[str, object]:
        return row_values(data)

    meta = type(
        "Meta", (), {"model": kind.model, "fields": fields if fields is not None else "__all__"}
    )
    return type(
        f"{kind.model.__name__}AdminForm",
        (RowValidatedModelForm,),
        {"row_form": kind.form, "row_values": _row_values, "Meta": meta},
    )


class FactAdmin(admin.ModelAdmin[Any]):
    """The admin of a fact kind's model: saves and deletes run the kind's ``after_apply``
    (cache refresh, rules) as an import of that row would."""

    fact: ClassVar[type[FactImport[Any]]]

    def _applied(self, request: HttpRequest, objs: list[Any]) -> None:
        self.fact(actor=request.user, source="admin").after_apply(objs)

    def save_model(self, request: HttpRequest, obj: Any, form: forms.Form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        self._applied(request, [obj])

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        self._applied(request, [])

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        super().delete_queryset(request, queryset)
        self._applied(request, [])
