"""SQL built by the ORM for statements the ORM cannot send itself.

Data-modifying CTEs (one round trip for rows that reference each other) need
each INSERT as text; ``insert_sql`` has Django's own insert compiler write it
from unsaved model instances, so the columns, field defaults (``auto_now``
included) and JSON adaptation stay those of ``Model.save``.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Model
from django.db.models.sql import InsertQuery


def insert_sql(obj: Model, *more: Model, returning: bool = False) -> tuple[str, list[Any]]:
    """The INSERT of unsaved ``obj`` (and ``more`` of the same model): (sql, params).

    A field set to an expression (``RawSQL("(SELECT id FROM new_task)", ())``)
    is compiled in place of a value, so a row can refer to one inserted by an
    earlier CTE of the same statement. ``returning=True`` adds ``RETURNING``
    the primary key. Fills ``auto_now``/``auto_now_add`` fields on the
    instances, as ``save`` does; it neither sets the primary key nor marks
    them saved (the caller does, from the statement's result).
    """
    model = type(obj)
    meta = model._meta
    query = InsertQuery(model)
    fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field]
    query.insert_values(fields, [obj, *more])
    compiler = query.get_compiler(connection=connection)
    if returning:
        compiler.returning_fields = [meta.pk]
    [(sql, params)] = compiler.as_sql()
    return sql, list(params)


def mark_saved(obj: Model, pk: int) -> None:
    """Give an instance inserted by raw SQL its primary key and saved state."""
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = connection.alias
