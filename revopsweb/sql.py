"""SQL built by the ORM for statements the ORM cannot send itself.

Data-modifying CTEs (one round trip for rows that reference each other) need
each INSERT as text; ``insert_row_sql`` writes it from unsaved model instances,
with the columns, field defaults (``auto_now`` included) and database values of
``Model.save``, the rows sent as one JSON parameter.

A figure several annotations read (an account's MRR feeds its ARR, MoM change
and segments) would be inlined by the ORM in each of them; ``Lateral`` joins
the subquery that computes it once per row and hands out its columns.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import operator
import re
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NoReturn, cast
from uuid import UUID

import psycopg
from django.db import DEFAULT_DB_ALIAS, connection, connections, router
from django.db.backends.postgresql.base import CursorDebugWrapper
from django.db.backends.utils import CursorWrapper
from django.db.models import Expression, Field, JSONField, Model, QuerySet
from django.db.models.expressions import Col
from django.db.models.query import BaseIterable, ModelIterable, ValuesListIterable
from django.db.models.sql import InsertQuery, Query
from django.db.models.sql.compiler import SQLCompiler, cursor_iter
from django.db.models.sql.constants import GET_ITERATOR_CHUNK_SIZE, INNER, LOUTER, MULTI
from django.utils.functional import cached_property


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


# Per model: its inserted fields (every local concrete one but the auto primary
# key), each with its column and how its value is prepared (``_PLAIN``: Django's
# preparation returns a str, int, bool or None of these types unchanged, so it
# is skipped for them; ``_JSON``: a JSONField).
_PLAIN, _JSON, _PREPARED = 0, 1, 2
_PLAIN_TYPES = frozenset(
    {
        "CharField", "TextField", "SlugField", "BooleanField", "IntegerField",
        "PositiveIntegerField", "PositiveSmallIntegerField", "SmallIntegerField",
        "BigIntegerField", "ForeignKey", "OneToOneField",
    }
)  # fmt: skip
_INSERT_FIELDS: dict[
    tuple[type[Model], tuple[str, ...] | None], list[tuple[Field[Any, Any], str, int]]
] = {}


def _insert_fields(
    model: type[Model], names: tuple[str, ...] | None = None
) -> list[tuple[Field[Any, Any], str, int]]:
    """The inserted fields of ``model`` (only those named in ``names``, if given)."""
    fields = _INSERT_FIELDS.get((model, names))
    if fields is None:
        meta = model._meta
        fields = [
            (
                f,
                str(f.column),
                _JSON
                if isinstance(f, JSONField)
                else _PLAIN
                if f.get_internal_type() in _PLAIN_TYPES
                else _PREPARED,
            )
            for f in meta.local_concrete_fields
            if f is not meta.auto_field and (names is None or f.name in names)
        ]
        if names is not None and len(fields) != len(names):
            missing = set(names) - {f.name for f, _, _ in fields}
            raise ValueError(f"{model.__name__} inserts no field named {sorted(missing)}")
        _INSERT_FIELDS[model, names] = fields
    return fields


def _json_value(value: Any) -> Any:
    """A database value as JSON ``jsonb_populate_record`` reads back into its column."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    return value


type RowJson = tuple[dict[str, Any], dict[str, Any]]


def row_json(obj: Model, fields: tuple[str, ...] | None = None) -> RowJson:
    """The row ``Model.save`` would insert for unsaved ``obj``: ({column: JSON value},
    {column: expression}) for the fields set to an expression (``RawSQL``).

    Same values as Django's insert compiler: ``pre_save`` (so ``auto_now``
    fields are filled on the instance) then ``get_db_prep_save``; a JSONField
    keeps its Python value (encoded with the field's encoder, if it has one).
    ``fields``: only the fields of these names (``refresh_row_json``).
    """
    row: dict[str, Any] = {}
    expressions: dict[str, Any] = {}
    # The connection itself, not the proxy: each field's preparation reads its
    # operations, and every attribute of the proxy is a thread-local lookup.
    conn = connections[DEFAULT_DB_ALIAS]
    for field, column, preparation in _insert_fields(type(obj), fields):
        value = field.pre_save(obj, True)
        if preparation == _PLAIN and type(value) in (str, int, bool, type(None)):
            row[column] = value
        elif hasattr(value, "resolve_expression"):
            expressions[column] = value
        elif preparation == _JSON:
            encoder = field.encoder  # type: ignore[attr-defined]
            row[column] = value if encoder is None else json.loads(json.dumps(value, cls=encoder))
        else:
            row[column] = _json_value(field.get_db_prep_save(value, conn))
    return row, expressions


def refresh_row_json(obj: Model, row: RowJson, fields: tuple[str, ...]) -> RowJson:
    """``row`` (``row_json(obj)`` made earlier) with the columns of ``fields`` made again
    from ``obj`` as it is now, as ``row_json(obj)`` would give them.

    For a writer that builds a row before it takes its locks and sets the few
    fields that depend on the locked rows afterwards: a model instance and its
    whole row cost far more than the columns that changed.
    """
    values, expressions = row
    fresh_values, fresh_expressions = row_json(obj, fields)
    values = {**values, **fresh_values}
    expressions = {**expressions, **fresh_expressions}
    for column in fresh_values:
        expressions.pop(column, None)
    for column in fresh_expressions:
        values.pop(column, None)
    return values, expressions


def insert_row_sql(
    obj: Model, *more: Model, returning: bool = False, rows: Sequence[RowJson] | None = None
) -> tuple[str, list[Any]]:
    """The INSERT of unsaved ``obj`` (and ``more`` of the same model), with the rows
    sent as one JSON parameter: (sql, params).

    The text depends only on the model and on which fields are expressions
    (``RawSQL`` over other CTEs, compiled in place), never on the values, so
    it stays short and the same on every call: psycopg caches the parsing of
    a statement up to 4 KB and 50 parameters, and re-splits a longer one on
    every call. The rows go through ``jsonb_populate_record`` (a column
    missing from the JSON would be NULL, so every inserted field is sent) and
    take their ids from the table's sequence in order.
    """
    model = type(obj)
    meta = model._meta
    table = meta.db_table
    if rows is None:
        rows = [row_json(o) for o in (obj, *more)]
    elif len(rows) != 1 + len(more):
        raise ValueError("One row per instance.")
    expressions = rows[0][1]
    if any(r[1].keys() != expressions.keys() for r in rows):
        raise ValueError("Every row must set the same fields to expressions.")
    pk = str(meta.pk.column)
    extra = [f"'{pk}', nextval(pg_get_serial_sequence('{table}', '{pk}'))"]
    params: list[Any] = []
    # The connection itself, not the thread-local proxy (as in ``row_json``).
    compiler = InsertQuery(model).get_compiler(connection=connections[DEFAULT_DB_ALIAS])
    for column, expression in expressions.items():
        sql, expression_params = compiler.compile(expression)
        extra.append(f"'{column}', {sql}")
        params.extend(expression_params)
    added = f"jsonb_build_object({', '.join(extra)})"
    if more:
        source = (
            f"jsonb_array_elements(%s::jsonb) AS e(row), "
            f"LATERAL jsonb_populate_record(NULL::{table}, e.row || {added}) AS r"
        )
        values: Any = [r[0] for r in rows]
    else:
        source = f"jsonb_populate_record(NULL::{table}, %s::jsonb || {added}) AS r"
        values = rows[0][0]
    sql = f"INSERT INTO {table} SELECT r.* FROM {source}"
    if returning:
        sql += f" RETURNING {table}.{pk}"
    return sql, [json.dumps(values), *params]


# Per model: (attname, converter) of each concrete field, for ``from_row_json``.
_READERS: dict[type[Model], list[tuple[str, str, Any]]] = {}


def _reader(field: Field[Any, Any]) -> Any:
    kind = field.get_internal_type()
    if kind == "DateTimeField":
        return dt.datetime.fromisoformat
    if kind == "DateField":
        return dt.date.fromisoformat
    if kind == "TimeField":
        return dt.time.fromisoformat
    if kind == "DecimalField":
        return Decimal
    if kind == "UUIDField":
        return UUID
    return None


def from_row_json[M: Model](model: type[M], row: dict[str, Any]) -> M:
    """A saved instance from ``to_jsonb(row)`` of its table (columns missing
    from ``row`` are deferred). Decimals must come parsed as ``Decimal``
    (``json.loads(text, parse_float=Decimal)``), so no digit is lost."""
    readers = _READERS.get(model)
    if readers is None:
        readers = [(f.attname, str(f.column), _reader(f)) for f in model._meta.concrete_fields]
        _READERS[model] = readers
    names: list[str] = []
    values: list[Any] = []
    for attname, column, read in readers:
        if column not in row:
            continue
        value = row[column]
        names.append(attname)
        values.append(value if value is None or read is None else read(value))
    return model.from_db(connection.alias, names, values)


# --- a query compiled once per process ------------------------------------------


@dataclass(frozen=True)
class _Compiled:
    """One compiled SELECT and what Django's compiler leaves behind for reading its
    rows (the select list, the model and related-model layout, annotation columns),
    with the positions of the parameters each call fills in."""

    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, str], ...]
    select: Any
    klass_info: Any
    annotation_col_map: Any
    col_count: int
    has_extra_select: bool
    # How its rows are read: model instances (``rows``) or tuples (``tuples``).
    iterable: type[BaseIterable[Any]]
    # The select list's expressions (what results_iter hands get_converters and
    # has_composite_fields), and whether one of them is a composite column.
    fields: tuple[Any, ...]
    has_composite: bool
    # Per connection (each thread's DatabaseWrapper): the converters of the select list,
    # which Django's compiler otherwise works out again, column by column, on every
    # evaluation (``_CompiledCompiler.get_converters``).
    converters: weakref.WeakKeyDictionary[Any, dict[int, Any]] = dataclasses.field(
        default_factory=weakref.WeakKeyDictionary, compare=False, repr=False
    )


class _CompiledCompiler(SQLCompiler):
    """Answers ``as_sql`` from a ``_Compiled`` and the call's values: no resolving,
    no compiling; the rows are read exactly as the original compiler reads them."""

    query: _CompiledQuery

    def as_sql(self, with_limits: bool = True, with_col_aliases: bool = False) -> Any:
        compiled = self.query.compiled
        self.select = compiled.select
        self.klass_info = compiled.klass_info
        self.annotation_col_map = compiled.annotation_col_map
        self.col_count = compiled.col_count
        self.has_extra_select = compiled.has_extra_select
        params = list(compiled.params)
        for position, name in compiled.slots:
            # Each value as its stand-in was typed (int, or psycopg's Int4/Int8 for an
            # integer column), so the server is sent the parameter types it prepared.
            params[position] = type(params[position])(self.query.values[name])
        return compiled.sql, tuple(params)

    def _is_select_list(self, expressions: Any) -> bool:
        """Whether ``expressions`` are this statement's select list (identity, in C)."""
        fields = self.query.compiled.fields
        return len(expressions) == len(fields) and all(map(operator.is_, expressions, fields))

    def get_converters(self, expressions: Any) -> Any:
        # results_iter asks for the select list's converters on each evaluation: the
        # same list every time for a compiled statement, so they are worked out once
        # per connection (about a tenth of the account page's Python time, its
        # statements reading some 300 columns; cProfile, issue 20). Any other list (a
        # composite column's own, as Django recurses into it) is worked out as usual.
        if not self._is_select_list(expressions):
            return super().get_converters(expressions)
        kept = self.query.compiled.converters
        converters = kept.get(self.connection)
        if converters is None:
            converters = super().get_converters(expressions)
            kept[self.connection] = converters
        return converters

    def has_composite_fields(self, expressions: Any) -> bool:
        # Asked on each evaluation too, an isinstance per column: known since compiling.
        # With the identity check above in C, the two cost 0.03-0.05 ms less per
        # statement than Django's loops (a 0-row statement of 51 columns, 0.20 ->
        # 0.16 ms of CPU; the account page runs twelve; issue 20).
        if self._is_select_list(expressions):
            return self.query.compiled.has_composite
        return bool(super().has_composite_fields(expressions))

    def execute_sql(
        self,
        result_type: Any = MULTI,
        chunked_fetch: bool = False,
        chunk_size: int = GET_ITERATOR_CHUNK_SIZE,
    ) -> Any:
        # Rows as a list (what CompiledOnce.rows reads) run as a prepared statement;
        # any other use of the query as Django would.
        if result_type != MULTI or chunked_fetch:
            return super().execute_sql(result_type, chunked_fetch, chunk_size)
        sql, params = self.as_sql()
        cursor = prepared_cursor(self.connection)
        try:
            cursor.execute(sql, params)
        except Exception:
            cursor.close()
            raise
        return list(
            cursor_iter(
                cursor,
                self.connection.features.empty_fetchmany_value,
                self.col_count if self.has_extra_select else None,
                chunk_size,
            )
        )


class _PreparedCursor(psycopg.Cursor[Any]):
    """psycopg's server-side binding cursor preparing every statement it runs: the
    server plans it once per connection (or a few times, until it settles on a
    generic plan) instead of on every execution."""

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        return super().execute(query, params, **{**kwargs, "prepare": True})


class _LiteralDebugWrapper(CursorDebugWrapper):
    """Django's query logging for a ``_PreparedCursor``: each statement logged with
    its values written in, as the app's other (client-side binding) cursors log
    theirs, not with the ``$1`` placeholders the server was sent."""

    def execute(self, sql: Any, params: Any = None) -> Any:
        with self.debug_sql(self.db.ops.compose_sql(sql, params), params):
            result = CursorWrapper.execute(self, sql, params)
        # The statement as the server was sent it, beside the literal text: a replay
        # of a page's SQL (bench) runs it prepared too, so it is timed as the app ran it.
        self.db.queries_log[-1]["prepared"] = (sql, params)
        return result


def prepared_cursor(db: Any) -> Any:
    """A cursor of ``db`` (Django's wrapper: execute wrappers, query logging) whose
    statements are prepared on the server, as ``db.cursor()`` makes one. A logged
    statement's entry in ``db.queries_log`` carries ``"prepared": (sql, params)``,
    the statement as the server was sent it."""
    db.close_if_health_check_failed()
    db.ensure_connection()
    with db.wrap_database_errors:
        raw = _PreparedCursor(db.connection)
        db.validate_thread_sharing()
        return _LiteralDebugWrapper(raw, db) if db.queries_logged else db.make_cursor(raw)


class _CompiledQuery(Query):
    """An empty query standing for a ``_Compiled`` statement (see ``CompiledOnce``)."""

    def __init__(self, model: type[Model], compiled: _Compiled, values: dict[str, Any]) -> None:
        super().__init__(model)
        self.compiled = compiled
        self.values = values

    def get_compiler(
        self, using: str | None = None, connection: Any = None, elide_empty: bool = True
    ) -> _CompiledCompiler:
        if connection is None:
            connection = connections[using or DEFAULT_DB_ALIAS]
        return _CompiledCompiler(self, connection, using, elide_empty)


class CompiledOnce[M: Model]:
    """Querysets of one shape compiled once per process, run with each call's values.

    Django resolves and compiles a queryset's expressions on every evaluation;
    for a statement of many annotations (``accounts.segments.with_revenue``)
    that is milliseconds of Python per request for the same SQL text. Here
    ``rows(key, build, **values)`` calls ``build`` once per ``key``, with a
    distinct stand-in integer for each of ``values`` (ids: the only values a
    shape may vary by), compiles the queryset it returns and remembers where
    each stand-in landed among the statement's parameters. Every call then runs
    that SQL with its own values and reads the rows as Django would have
    (model instances, ``select_related`` objects, annotations); ``tuples`` does the
    same for a ``values_list()`` queryset, whose rows come as tuples. The statement runs
    as a server-side prepared statement (``DB_PREPARE``, on by default), so
    PostgreSQL plans it once per connection too: planning the account page's
    statement (nine relations joined) took 7.5 ms of its 0.65 ms query.
    Every other parameter (dates, amounts, statuses, patterns) is written into
    the statement as a literal (``_inline_constants``), so the server's one
    generic plan (settings' ``plan_cache_mode``) is estimated for them and
    differs from a plan for the call only by its ids.

    The contract: ``key`` must name everything but ``values`` that changes the
    statement (dates, filters, ordering, the caller's roles when a permission
    filter is built into it); a value used other than as a parameter (in
    Python, to choose a branch) must be in ``key``, not ``values``. Each
    distinct constant is then a distinct statement text, prepared once per
    connection: keys that vary by day or scope, not by request. Each
    stand-in must reach the parameters exactly as given (an ``=``/``IN``
    comparison, not a ``LIKE`` pattern): ``ValueError`` otherwise. Thread-safe
    (two threads may compile the same key once each; both results are equal).
    """

    # Far outside any id PostgreSQL will hand out, so no other parameter equals one.
    _STAND_IN = -(2**62)

    def __init__(self, model: type[M], *, keep: int = 512) -> None:
        self.model = model
        # The statements of at most ``keep`` keys, the oldest dropped first: keys
        # carry dates, so yesterday's fall out instead of piling up.
        self.keep = keep
        self._compiled: dict[Any, _Compiled] = {}

    def rows(self, key: Any, build: Callable[..., QuerySet[M, Any]], **values: int) -> list[M]:
        query = self._query(key, build, values, ModelIterable)
        return list(QuerySet(model=self.model, query=query))

    def tuples(
        self, key: Any, build: Callable[..., QuerySet[M, Any]], **values: int
    ) -> list[tuple[Any, ...]]:
        """``rows`` for a ``values_list()`` queryset (neither flat nor named): its rows
        as the tuples ``values_list`` gives, each column converted as Django converts
        it, with no model instance built. ``ValueError`` if ``build`` returns another
        kind of queryset."""
        query = self._query(key, build, values, ValuesListIterable)
        compiler = query.get_compiler(using=router.db_for_read(self.model))
        # tuple_expected: each row comes as a tuple (the stubs say a sequence).
        return cast("list[tuple[Any, ...]]", list(compiler.results_iter(tuple_expected=True)))

    def _query(
        self,
        key: Any,
        build: Callable[..., QuerySet[M, Any]],
        values: dict[str, int],
        iterable: type[BaseIterable[Any]],
    ) -> _CompiledQuery:
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compile(build, sorted(values), iterable)
            while len(self._compiled) >= self.keep:
                self._compiled.pop(next(iter(self._compiled)), None)
            self._compiled[key] = compiled
        elif compiled.iterable is not iterable:
            raise ValueError(f"{key!r} was compiled for {compiled.iterable.__name__}")
        return _CompiledQuery(self.model, compiled, values)

    def _compile(
        self,
        build: Callable[..., QuerySet[M, Any]],
        names: list[str],
        iterable: type[BaseIterable[Any]],
    ) -> _Compiled:
        stand_ins = {name: self._STAND_IN - i for i, name in enumerate(names)}
        queryset = build(**stand_ins)
        if queryset.model is not self.model:
            raise ValueError(
                f"build returned {queryset.model.__name__} rows, not {self.model.__name__}"
            )
        # Rows are read as the method asked for them: model instances from a
        # values_list() statement (or tuples from a model one) would be wrong silently.
        if queryset._iterable_class is not iterable:
            raise ValueError(
                f"build returned a queryset of {queryset._iterable_class.__name__},"
                f" not {iterable.__name__}"
            )
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        by_value = {value: name for name, value in stand_ins.items()}
        # A stand-in comes back as an int, or as the int subclass psycopg is told the
        # column's type with (Django wraps an IntegerField's value as Int4, a
        # BigIntegerField's as Int8); params may also be lists, dicts, dates, bools.
        slots = tuple(
            (i, by_value[p])
            for i, p in enumerate(params)
            if isinstance(p, int) and not isinstance(p, bool) and p in by_value
        )
        missing = set(names) - {name for _, name in slots}
        if missing:
            raise ValueError(
                f"{', '.join(sorted(missing))} did not reach the statement's parameters"
            )
        sql, params, slots = _inline_constants(
            sql, params, slots, connections[queryset.db or DEFAULT_DB_ALIAS]
        )
        fields = tuple(s[0] for s in compiler.select[: compiler.col_count])
        return _Compiled(
            sql=sql,
            params=tuple(params),
            slots=slots,
            select=compiler.select,
            klass_info=compiler.klass_info,
            annotation_col_map=compiler.annotation_col_map,
            col_count=compiler.col_count,
            has_extra_select=compiler.has_extra_select,
            iterable=iterable,
            fields=fields,
            has_composite=bool(compiler.has_composite_fields(fields)),
        )


def with_values_written_in(sql: str, params: Sequence[Any], db: Any) -> str:
    """``sql`` (Django's ``%s`` placeholders) with ``params`` written in as literals,
    quoted as Django quotes the app's client-side statements (psycopg's mogrify)."""
    return str(db.ops.compose_sql(sql, params))


# A parameter placeholder of Django's SQL, or a literal percent sign written doubled.
_PLACEHOLDER = re.compile(r"%%|%s")


def _inline_constants(
    sql: str, params: Sequence[Any], slots: tuple[tuple[int, str], ...], db: Any
) -> tuple[str, tuple[Any, ...], tuple[tuple[int, str], ...]]:
    """``sql`` with every parameter but the slots' written in as a literal (quoted as
    Django quotes the app's other statements, client-side), and the slots renumbered:
    (sql, params, slots).

    Why: the server keeps one generic plan per prepared statement (settings'
    ``plan_cache_mode``), planned without the parameters' values. With a statement's
    dates, amounts and statuses as parameters its estimates are guesses; they are the
    same on every call of a key (``CompiledOnce``'s contract), so as literals they
    are estimated as in a plan for the values, and the generic plan differs from one
    only by the ids (the account page's statement: 1.0-1.2 ms per execution with 66
    such parameters, 0.7-0.8 ms with literals; issue 20). Under PostgreSQL's default
    ``auto`` mode they also let it settle on the generic plan, which it never did
    for that statement with them as parameters. Done for every statement: of the
    fifteen that once kept theirs as parameters (the account page's lists and
    panels, the tracker's members, territories, time off and people), none ran
    slower with them written in, and the open recommendations' then use their
    partial index (bench/README, "every CompiledOnce statement's constants written in")."""
    kept = dict(slots)
    values = iter(enumerate(params))
    new_params: list[Any] = []
    new_slots: list[tuple[int, str]] = []

    def written(match: re.Match[str]) -> str:
        if match.group() == "%%":
            return "%%"
        position, value = next(values)
        name = kept.get(position)
        if name is not None:
            new_slots.append((len(new_params), name))
            new_params.append(value)
            return "%s"
        # A percent sign in the literal stays one: the text is still parsed for %s.
        return with_values_written_in("%s", [value], db).replace("%", "%%")

    text = _PLACEHOLDER.sub(written, sql)
    if next(values, None) is not None:
        raise ValueError("The statement has fewer placeholders than parameters.")
    return text, tuple(new_params), tuple(new_slots)
