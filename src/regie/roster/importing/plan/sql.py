"""Plain-SQL helpers for large imports: fast inserts, and the hub's rows with their links.

The ORM's per-object work (``bulk_create`` compiling every value through the field API, model
instances for every row read) dominates a large import; these helpers skip it where that is safe.
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import psycopg
from django.db import DatabaseError, connection, models
from django.utils import timezone

from regie.core.models import School
from regie.roster.models import Guardian, Student


def insert_objects(objects: Sequence[Student | Guardian], school: School) -> None:
    """Insert new pupils or guardians of ``school`` with plain SQL and give them their ids.

    ``bulk_create`` spends most of its time compiling every value through the field API; these
    two tables hold only text, dates, booleans and keys, adapted here the way the backend wants
    them (``connection.ops``), so that a large import writes at about the database's own speed.
    """
    if not objects:
        return
    model = type(objects[0])
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    columns_of = [column for column in model._meta.concrete_fields if not column.primary_key]
    getters = [_column_value(model, column, now) for column in columns_of]
    insert_rows(
        model._meta.db_table,
        [str(column.column) for column in columns_of],
        (tuple(get(item) for get in getters) for item in objects),
    )
    ids = dict(model._default_manager.filter(school=school).values_list("las_key", "id"))
    for item in objects:
        item.pk = ids[item.las_key]
        item._state.adding = False


def update_objects(objects: Sequence[Student | Guardian], fields: Sequence[str]) -> None:
    """Write ``fields`` of pupils or guardians that exist already, by primary key, with plain SQL.

    ``bulk_update`` builds one ``CASE WHEN`` expression per field and batch through the ORM, which
    costs more than the write itself; this is one ``UPDATE … WHERE id = …`` per row, sent with
    ``executemany`` (adapted as :func:`insert_objects` does).
    """
    if not objects:
        return
    model = type(objects[0])
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    columns = [_concrete(model, name) for name in fields]
    getters = [_column_value(model, column, now) for column in columns]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(str(column.column))} = %s" for column in columns)
    table, key = quote(model._meta.db_table), quote(str(model._meta.pk.column))
    sql = f"UPDATE {table} SET {assignments} WHERE {key} = %s"  # noqa: S608 (model names)
    rows = [(*(get(item) for get in getters), item.pk) for item in objects]
    try:
        with connection.cursor() as cursor:
            for start in range(0, len(rows), 10_000):
                cursor.executemany(sql, rows[start : start + 10_000])
    except (DatabaseError, psycopg.Error) as error:  # the message can quote a value: not shown
        raise ImportWriteFailed(
            f"writing to {model._meta.db_table} failed ({type(error).__name__}); "
            "nothing was applied"
        ) from None


def _concrete(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    column = model._meta.get_field(name)
    if not isinstance(column, models.Field) or not column.concrete:
        raise TypeError(f"{model.__name__}.{name} is not a column")
    return column


def insert_rows(table: str, columns: list[str], rows: Iterable[tuple[Any, ...]]) -> None:
    """Insert plain rows fast: ``COPY … FROM STDIN`` on PostgreSQL, ``executemany`` on SQLite
    (each is the fastest way its database offers; psycopg's executemany is several times slower
    than COPY)."""
    try:
        _insert_rows(table, columns, rows)
    except (DatabaseError, psycopg.Error) as error:  # COPY runs on psycopg's own cursor
        # The database's message can quote the row (PostgreSQL's COPY context does): personal
        # data, which must not reach a traceback or a log. Say which table, and what kind of error.
        raise ImportWriteFailed(
            f"writing to {table} failed ({type(error).__name__}); nothing was applied"
        ) from None


class ImportWriteFailed(Exception):
    """The database refused rows of an import; the message names the table, never a value."""


def _insert_rows(table: str, columns: list[str], rows: Iterable[tuple[Any, ...]]) -> None:
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # the psycopg cursor behind Django's wrapper
            with raw.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})"  # noqa: S608 (model names)
        batch: list[tuple[Any, ...]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= 10_000:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


def _column_value(model: type[models.Model], column: Any, now: Any) -> Callable[[Any], Any]:
    """How :func:`insert_objects` reads one column's value off an object, for the backend."""
    ops = connection.ops
    read = operator.attrgetter(column.attname)
    kind = column.get_internal_type()
    if getattr(column, "auto_now", False) or getattr(column, "auto_now_add", False):
        return lambda item: now
    if kind == "DateTimeField":
        return lambda item: ops.adapt_datetimefield_value(read(item))
    if kind == "DateField":
        return lambda item: ops.adapt_datefield_value(read(item))
    if kind in {"CharField", "EmailField", "BooleanField", "ForeignKey", "OneToOneField"}:
        return read
    # A field type this fast path does not know: fail loudly (a test covers every model used).
    raise TypeError(f"{model.__name__}.{column.name}: {kind} is not supported by insert_objects")


def hub_rows(
    rows: models.QuerySet[Any],
    fields: Sequence[str],
    links: models.QuerySet[Any],
    name: str,
) -> dict[str, dict[str, Any]]:
    """:func:`with_links` over two querysets run as plain SQL: ``fields`` of ``rows`` (the first
    two ``id`` and ``las_key``), and the (owner id, LAS key) pairs of ``links``.

    The ORM compiles each query once; the rows come straight off the cursor, without the ORM's
    per-row work (the database driver converts dates and booleans, on SQLite too).
    """
    linked: dict[int, set[str]] = defaultdict(set)
    for owner, key in _fetch(links):
        linked[owner].add(key)
    result = {}
    for values in _fetch(rows.values_list(*fields)):
        item = dict(zip(fields, values, strict=True))
        item[name] = linked.get(values[0]) or set()
        result[values[1]] = item
    return result


def _fetch(queryset: models.QuerySet[Any]) -> list[tuple[Any, ...]]:
    sql, params = queryset.order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
    return rows


def with_links(
    rows: Iterable[Mapping[str, Any]], links: Iterable[tuple[int, str]], name: str
) -> dict[str, dict[str, Any]]:
    """Rows by LAS key, each with the set of LAS keys it links to (groups, pupils) as ``name``."""
    linked: dict[int, set[str]] = defaultdict(set)
    for owner, key in links:
        linked[owner].add(key)
    result = {}
    for row in rows:
        item = dict(row)
        item[name] = linked.get(item["id"], set())
        result[item["las_key"]] = item
    return result
