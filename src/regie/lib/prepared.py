"""Querysets compiled once per process and database, run again with new parameter values.

Building a queryset and compiling it to SQL costs Django far more than running the SQL: on the hot
paths (a single sign-on launch asks about 25 questions of the database) that is most of a request.
:class:`Prepared` builds the queryset once, with stand-in values for its parameters, compiles it
once per database connection, finds where each stand-in went among the SQL parameters, and from
then on only swaps in the real values and executes. The queryset stays the one definition of the
question (no SQL written by hand), and the rows come back as the ORM gives them: values converted
by the same converters, model instances built by the same code.

Only a queryset whose SQL does not depend on the values can be prepared: no ``__in`` with a list
of varying length, no ``None`` (which turns ``=`` into ``IS NULL``), no value used to choose a
branch while building. :meth:`Prepared.rows` checks on first use that every stand-in was found.

    _CODE = Prepared(
        lambda code_hash, client: AuthorizationCode.objects.filter(
            code_hash=code_hash, client_id=client
        ).select_related("user"),
        code_hash=str,
        client=int,
    )
    found = _CODE.first(code_hash=digest(code), client=client.pk)
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Generic, TypeVar

from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators
from django.db.models.sql.compiler import SQLCompiler

M = TypeVar("M", bound=Model)

_counter = itertools.count(1)


def _stand_in(kind: type) -> Any:
    """A value no real parameter has, of ``kind``, different on every call."""
    number = next(_counter)
    if kind is int:
        # Negative (no key is), and within a 32-bit integer: PostgreSQL's backend answers a
        # lookup of an ``IntegerField``/``AutoField`` beyond its range with "no rows" at compile
        # time, so a larger stand-in would never reach the SQL.
        return -(1_900_000_000 + number)
    if kind is str:
        return f"\x1fregie-prepared-{number}\x1f"
    if kind is datetime:
        return datetime(1001, 1, 1, 0, 0, number % 60, number, tzinfo=UTC)
    if kind is date:
        return date(1001 + number % 900, 1 + number // 900 % 12, 1)
    if kind is float:
        return -7_919_000_000.0 - number / 1024
    raise TypeError(f"no stand-in for parameters of type {kind.__name__}")


@dataclass(frozen=True)
class _Slot:
    """A parameter position filled from the call's value ``name``, adapted as the ORM did."""

    name: str
    adapt: Callable[[Any], Any]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]  # constants, and _Slot where a call's value goes
    compiler: SQLCompiler
    converters: Any
    model_plan: tuple[Any, ...] | None  # for instances: (model, start, end, init_list, populators)


class Prepared(Generic[M]):
    """One question to the database, compiled once per connection (see the module's text).

    ``build`` makes the queryset from the parameters (stand-ins at compile time); ``kinds`` gives
    each parameter's type (``int``, ``str``, ``date``, ``datetime`` or ``float``)."""

    def __init__(self, build: Callable[..., QuerySet[M, Any]], **kinds: type) -> None:
        self._build = build
        self._kinds = kinds
        self._compiled: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    # -- compiling --------------------------------------------------------------------------------

    def _compile(self) -> tuple[str, _Compiled]:
        stand_ins = {name: _stand_in(kind) for name, kind in self._kinds.items()}
        queryset = self._build(**stand_ins)
        alias = queryset.db
        found = self._compiled.get(alias)
        if found is not None:
            return alias, found
        connection = connections[alias]
        compiler = queryset.query.get_compiler(using=alias)
        try:
            sql, raw_params = compiler.as_sql()
        except EmptyResultSet:
            raise ValueError(
                "cannot prepare this queryset: the ORM decided while compiling it that no row "
                "can match (a stand-in outside a field's range?)"
            ) from None
        params: list[Any] = []
        seen: set[str] = set()
        for value in raw_params:
            slot = self._slot_for(value, stand_ins, connection)
            if slot is not None:
                seen.add(slot.name)
            params.append(slot if slot is not None else value)
        missing = set(stand_ins) - seen
        if missing:
            raise ValueError(
                f"cannot prepare this queryset: parameter(s) {sorted(missing)} do not reach "
                "the SQL as parameters"
            )
        fields = [column[0] for column in compiler.select[0 : compiler.col_count]]
        converters = compiler.get_converters(fields)
        plan = None
        klass_info = compiler.klass_info
        if klass_info is not None and queryset._iterable_class.__name__ == "ModelIterable":
            start = klass_info["select_fields"][0]
            end = klass_info["select_fields"][-1] + 1
            init_list = [column[0].target.attname for column in compiler.select[start:end]]
            populators = get_related_populators(klass_info, compiler.select, alias)  # type: ignore[call-arg]  # the stubs are of a later Django
            plan = (klass_info["model"], start, end, init_list, populators)
        compiled = _Compiled(sql, tuple(params), compiler, converters, plan)
        with self._lock:
            self._compiled.setdefault(alias, compiled)
        return alias, self._compiled[alias]

    def _slot_for(self, value: Any, stand_ins: dict[str, Any], connection: Any) -> _Slot | None:
        operations = connection.ops
        adapters: Sequence[Callable[[Any], Any]] = (
            lambda given: given,
            operations.adapt_datetimefield_value,
            operations.adapt_datefield_value,
        )
        for name, stand_in in stand_ins.items():
            for adapt in adapters:
                if type(stand_in) is date and adapt is operations.adapt_datetimefield_value:
                    continue
                try:
                    adapted = adapt(stand_in)
                except (TypeError, ValueError, AttributeError):
                    continue
                if type(adapted) is type(value) and adapted == value:
                    return _Slot(name, adapt)
        return None

    def _ready(self) -> tuple[str, _Compiled]:
        # regie has one database: the first compilation serves every later call.
        for alias, compiled in self._compiled.items():
            return alias, compiled
        return self._compile()

    # -- running ----------------------------------------------------------------------------------

    def _execute(self, values: dict[str, Any]) -> tuple[str, _Compiled, list[Any]]:
        if set(values) != set(self._kinds):
            raise TypeError(f"expected the parameters {sorted(self._kinds)}, got {sorted(values)}")
        alias, compiled = self._ready()
        params = [
            param.adapt(values[param.name]) if isinstance(param, _Slot) else param
            for param in compiled.params
        ]
        with connections[alias].cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows: list[Any] = cursor.fetchall()
        if compiled.converters:
            rows = [
                tuple(row) for row in compiled.compiler.apply_converters(rows, compiled.converters)
            ]
        return alias, compiled, rows

    def rows(self, **values: Any) -> list[Any]:
        """The result rows as tuples (a ``values_list`` queryset's, or the selected columns)."""
        return self._execute(values)[2]

    def instances(self, **values: Any) -> Iterator[M]:
        """Model instances, as iterating the queryset gives them (``select_related`` included)."""
        alias, compiled, rows = self._execute(values)
        if compiled.model_plan is None:
            raise TypeError("this prepared queryset does not give model instances")
        model, start, end, init_list, populators = compiled.model_plan
        for row in rows:
            instance = model.from_db(alias, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, instance)
            yield instance

    def first(self, **values: Any) -> M | None:
        """The first instance, or None (the queryset should be sliced ``[:1]`` and ordered)."""
        return next(self.instances(**values), None)


class Insert(Generic[M]):
    """``INSERT`` of one row of ``model``, its SQL made once per process; the instance back.

    The row's values are prepared as the ORM's ``create`` prepares them (``pre_save``, so defaults
    and ``auto_now_add`` hold, then ``get_db_prep_save``) and the primary key comes back with
    ``RETURNING``. No ``pre_save``/``post_save`` signals are sent: use it only for models nothing
    listens to (the audit log's events, a launch's codes and tokens)."""

    def __init__(self, model: type[M]) -> None:
        self._model = model
        self._sql: dict[str, tuple[str, list[Any]]] = {}

    def _statement(self, alias: str) -> tuple[str, list[Any]]:
        found = self._sql.get(alias)
        if found is None:
            connection = connections[alias]
            quote = connection.ops.quote_name
            meta = self._model._meta
            fields = [field for field in meta.concrete_fields if not field.primary_key]
            columns = ", ".join(quote(str(field.column)) for field in fields)
            placeholders = ", ".join(["%s"] * len(fields))
            found = (
                f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders}) "  # noqa: S608 (names from the model)
                f"RETURNING {quote(str(meta.pk.column))}",
                fields,
            )
            self._sql[alias] = found
        return found

    def __call__(self, **values: Any) -> M:
        alias = router.db_for_write(self._model)
        sql, fields = self._statement(alias)
        connection = connections[alias]
        instance = self._model(**values)
        params = [
            field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        instance.pk = row[0]
        instance._state.adding = False
        instance._state.db = alias
        return instance
