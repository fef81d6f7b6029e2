"""SQL built by the ORM for statements the ORM cannot send itself.

Data-modifying CTEs (one round trip for rows that reference each other) need
each INSERT as text; ``insert_sql`` has Django's own insert compiler write it
from unsaved model instances, so the columns, field defaults (``auto_now``
included) and JSON adaptation stay those of ``Model.save``.

A figure several annotations read (an account's MRR feeds its ARR, MoM change
and segments) would be inlined by the ORM in each of them; ``Lateral`` joins
the subquery that computes it once per row and hands out its columns.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from django.db import connection
from django.db.models import Expression, Field, Model
from django.db.models.expressions import Col
from django.db.models.sql import InsertQuery
from django.db.models.sql.constants import INNER, LOUTER
from django.utils.functional import cached_property


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


# What a LATERAL subquery is given: the SQL of the outer row's primary key column.
type LateralBuilder = Callable[..., tuple[str, Sequence[Any]]]


@dataclass(frozen=True)
class Lateral:
    """A one-row subquery joined to each row of a queryset: ``LEFT JOIN LATERAL (...) ON TRUE``.

    ``build(outer_pk_sql, *args)`` writes its SQL (``outer_pk_sql``: the outer
    row's primary key column, quoted with its alias) and params; it must return
    exactly one row per outer row (an aggregate without ``GROUP BY``), so the
    join never adds or drops rows. ``name`` is the join's alias where the query
    has no other of that name. Equal laterals on one query are joined once.
    """

    name: str
    build: LateralBuilder
    args: tuple[Any, ...] = ()

    def column(self, column: str, output_field: Field[Any, Any]) -> LateralColumn:
        """An expression for ``column`` of this subquery (joins it when resolved)."""
        return LateralColumn(self, column, output_field)


class LateralColumn(Expression):
    """A column of a ``Lateral``: resolving it against a query joins the subquery there
    (once: later columns reuse the join) and gives a plain column reference, so
    each figure it feeds reads the column instead of repeating the subquery."""

    def __init__(self, lateral: Lateral, column: str, output_field: Field[Any, Any]) -> None:
        super().__init__(output_field=output_field)
        self.lateral = lateral
        self.column = column

    # Resolved, it is a column of the join, not a LateralColumn.
    def resolve_expression(  # type: ignore[override]
        self,
        query: Any = None,
        allow_joins: bool = True,
        reuse: Any = None,
        summarize: bool = False,
        for_save: bool = False,
    ) -> _LateralCol:
        if query is None or not allow_joins:
            raise ValueError(f"{self.lateral.name}.{self.column} needs a query it may join to.")
        parent = query.get_initial_alias()
        alias = query.join(_LateralJoin(self.lateral, parent, query.get_meta().pk.column))
        target = copy.copy(self.output_field)
        target.set_attributes_from_name(self.column)
        return _LateralCol(alias, target)

    def as_sql(self, compiler: Any, connection: Any) -> NoReturn:
        raise ValueError("A LateralColumn is resolved against a query before it is compiled.")


class _LateralCol(Col):
    """A column of a joined ``Lateral``. Its field belongs to no model, so its identity
    (equality, hashing) is its alias and column name, not Django's model label."""

    @cached_property
    def identity(self) -> tuple[Any, ...]:
        return (type(self), self.alias, self.target.column, type(self.output_field))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _LateralCol):
            return NotImplemented
        return self.identity == other.identity

    def __hash__(self) -> int:
        return hash(self.identity)


class _LateralJoin:
    """A ``Lateral`` as an entry of ``Query.alias_map``: what Django's ``Join`` offers
    the query and its compiler (alias, parent, join type, SQL, relabelling,
    promotion), for a subquery instead of a table."""

    nullable = True
    filtered_relation = None

    def __init__(
        self,
        lateral: Lateral,
        parent_alias: str,
        parent_pk: str,
        table_alias: str | None = None,
        join_type: str = LOUTER,
    ) -> None:
        self.lateral = lateral
        self.table_name = lateral.name
        self.parent_alias = parent_alias
        self.parent_pk = parent_pk
        self.table_alias = table_alias
        self.join_type = join_type

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        qn = compiler.quote_name
        sql, params = self.lateral.build(
            f"{qn(self.parent_alias)}.{qn(self.parent_pk)}", *self.lateral.args
        )
        return f"{self.join_type} LATERAL ({sql}) {qn(self.table_alias)} ON TRUE", list(params)

    def relabeled_clone(self, change_map: dict[str, str]) -> _LateralJoin:
        return _LateralJoin(
            self.lateral,
            change_map.get(self.parent_alias, self.parent_alias),
            self.parent_pk,
            change_map.get(self.table_alias, self.table_alias)
            if self.table_alias is not None
            else None,
            self.join_type,
        )

    def _with_type(self, join_type: str) -> _LateralJoin:
        new = self.relabeled_clone({})
        new.join_type = join_type
        return new

    def demote(self) -> _LateralJoin:
        # One row per outer row either way: INNER and LEFT join alike.
        return self._with_type(INNER)

    def promote(self) -> _LateralJoin:
        return self._with_type(LOUTER)

    @property
    def identity(self) -> tuple[Any, ...]:
        return (type(self), self.lateral, self.parent_alias)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _LateralJoin):
            return NotImplemented
        return self.identity == other.identity

    def __hash__(self) -> int:
        return hash(self.identity)
