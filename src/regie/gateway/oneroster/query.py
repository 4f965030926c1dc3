"""Paging, sorting, filtering and field selection of the OneRoster 1.2 REST binding.

OneRoster Rostering Service REST/JSON Binding 1.2, "Pagination" (``limit``, default 100, and
``offset``; ``X-Total-Count`` and ``Link`` headers), "Sorting" (``sort``, ``orderBy`` asc|desc),
"Filtering" (``filter=<field><predicate>'<value>'``, predicates ``= != > >= < <= ~``, joined by
`` AND `` / `` OR ``) and "Field Selection" (``fields=a,b``).

These work on the records *as released* — never on data the supplier was not given, so a filter
on a field the policy withheld matches nothing instead of telling anything about it. ``AND`` binds
tighter than ``OR``. Values compare as text (ISO dates compare correctly that way); ``~`` is a
case-insensitive "contains"; on a list field (``grades``) a predicate holds if it holds for an
element. A field a record lacks satisfies no predicate.

A rostering ``dateLastModified`` is a day (:mod:`.changes`), rendered as ``<day>T00:00:00.000Z``:
the record changed at some moment of that (hub-local) day. Compared with a moment ``<``, ``<=``,
``>`` or ``>=``, it holds when *some* moment of that day would: ``dateLastModified>'<moment of the
last sync>'`` then includes the records dated the day of that sync, so a delta never misses a
change seen later that day (a client that keeps the greatest ``dateLastModified`` it saw as its
cursor gets that day again, rather than losing its changes). A moment is an ISO 8601 date-time
(UTC without an offset) or a date (the hub's midnight).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, lru_cache
from typing import Any
from urllib.parse import urlencode

from django.utils import timezone

from .errors import InvalidData, InvalidFilterField, InvalidSelectionField, InvalidSortField

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_FILTER_LENGTH = 2000

_PREDICATE = re.compile(
    r"\s*(?P<field>[A-Za-z][A-Za-z0-9_]*)\s*(?P<op>!=|>=|<=|=|>|<|~)\s*'(?P<value>[^']*)'\s*"
)
_LOGICAL = re.compile(r"(AND|OR)(?=\s)")

Record = dict[str, Any]

_COMPARE: dict[str, Callable[[str, str], bool]] = {
    "=": lambda have, want: have == want,
    "!=": lambda have, want: have != want,
    ">": lambda have, want: have > want,
    ">=": lambda have, want: have >= want,
    "<": lambda have, want: have < want,
    "<=": lambda have, want: have <= want,
    "~": lambda have, want: want.casefold() in have.casefold(),
}


_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})T00:00:00\.000Z")
_ORDERING = frozenset({"<", "<=", ">", ">="})


def _moment(text: str) -> datetime | None:
    """An ISO 8601 date-time (UTC without an offset) or date (the hub's midnight), or None."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is not None:
        return value
    if len(text) == 10:  # a date
        return timezone.make_aware(value, timezone.get_default_timezone())
    return value.replace(tzinfo=UTC)


@lru_cache(maxsize=64)
def _bounds(day: date) -> tuple[datetime, datetime]:
    """The first moment of the hub's ``day`` and the first one after it."""
    local = timezone.get_default_timezone()
    start = timezone.make_aware(datetime.combine(day, time.min), local)
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min), local)


def _some_moment_of(day: date, op: str, moment: datetime) -> bool:
    """Whether some moment of the hub's ``day`` stands in ``op`` to ``moment``."""
    start, end = _bounds(day)
    if op in {">", ">="}:
        return end > moment  # the day's moments run up to (not including) its end
    return start < moment if op == "<" else start <= moment


@dataclass(frozen=True)
class Predicate:
    field: str
    op: str
    value: str

    def holds(self, record: Record) -> bool:
        if self.field not in record:
            return False
        have = record[self.field]
        values = have if isinstance(have, list) else [have]
        if self.op in _ORDERING and (moment := self.moment) is not None:
            return any(self._ordered(_text(item), moment) for item in values)
        compare = _COMPARE[self.op]
        return any(compare(_text(item), self.value) for item in values)

    @cached_property
    def moment(self) -> datetime | None:
        """The value as a moment, if it is one."""
        return _moment(self.value)

    def _ordered(self, have: str, moment: datetime) -> bool:
        """A day (``dateLastModified``) against a moment; any other value as text."""
        day = _DAY.fullmatch(have)
        if day is None:
            return _COMPARE[self.op](have, self.value)
        return _some_moment_of(date.fromisoformat(day[1]), self.op, moment)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Filter:
    """Alternatives (``OR``) of conjunctions (``AND``) of predicates."""

    alternatives: tuple[tuple[Predicate, ...], ...]

    def matches(self, record: Record) -> bool:
        return any(all(p.holds(record) for p in group) for group in self.alternatives)


def parse_filter(text: str | None, allowed: Iterable[str]) -> Filter | None:
    if text is None or text == "":
        return None
    if len(text) > MAX_FILTER_LENGTH:
        raise InvalidFilterField(f"the filter is longer than {MAX_FILTER_LENGTH} characters")
    fields = set(allowed)
    alternatives: list[tuple[Predicate, ...]] = []
    group: list[Predicate] = []
    position = 0
    while True:
        match = _PREDICATE.match(text, position)
        if match is None:
            raise InvalidFilterField(
                f"the filter is malformed at character {position + 1}: expected "
                "<field><predicate>'<value>' with a predicate of = != > >= < <= ~"
            )
        if match["field"] not in fields:
            raise InvalidFilterField(
                f"a filter names a field that cannot be filtered on; the fields are: "
                f"{', '.join(sorted(fields))}"
            )
        group.append(Predicate(match["field"], match["op"], match["value"]))
        position = match.end()
        if position == len(text):
            break
        logical = _LOGICAL.match(text, position)
        if logical is None:
            raise InvalidFilterField(
                f"the filter is malformed at character {position + 1}: expected AND or OR"
            )
        if logical[1] == "OR":
            alternatives.append(tuple(group))
            group = []
        position = logical.end()
    alternatives.append(tuple(group))
    return Filter(tuple(alternatives))


def parse_fields(text: str | None, allowed: Iterable[str]) -> list[str] | None:
    if text is None or text.strip() == "":
        return None
    known = set(allowed)
    wanted = [name.strip() for name in text.split(",") if name.strip()]
    if any(name not in known for name in wanted):
        raise InvalidSelectionField(
            f"fields names a field this collection does not have; the fields are: "
            f"{', '.join(sorted(known))}"
        )
    return list(dict.fromkeys(wanted))


@dataclass(frozen=True)
class Query:
    """What a collection request asked for, checked."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0
    sort: str | None = None
    descending: bool = False
    filter: Filter | None = None
    fields: list[str] | None = None


def parse_query(
    params: Mapping[str, str], fields: Sequence[str], filterable: Sequence[str]
) -> Query:
    limit = _integer(params.get("limit"), "limit", DEFAULT_LIMIT, minimum=1)
    offset = _integer(params.get("offset"), "offset", 0, minimum=0)
    sort = params.get("sort") or None
    if sort is not None and sort not in filterable:
        raise InvalidSortField(f"cannot sort on that field; fields: {', '.join(filterable)}")
    order = (params.get("orderBy") or "asc").lower()
    if order not in {"asc", "desc"}:
        raise InvalidData("orderBy is 'asc' or 'desc'")
    return Query(
        limit=min(limit, MAX_LIMIT),
        offset=offset,
        sort=sort,
        descending=order == "desc",
        filter=parse_filter(params.get("filter"), filterable),
        fields=parse_fields(params.get("fields"), fields),
    )


def parse_selection(params: Mapping[str, str], fields: Sequence[str]) -> list[str] | None:
    """For a single object: only ``fields`` applies."""
    return parse_fields(params.get("fields"), fields)


def _integer(text: str | None, name: str, default: int, *, minimum: int) -> int:
    if text is None or text == "":
        return default
    if not text.isdigit() or len(text) > 9:
        raise InvalidData(f"{name} is a whole number of at least {minimum}")
    value = int(text)
    if value < minimum:
        raise InvalidData(f"{name} is a whole number of at least {minimum}")
    return value


def select(record: Record, fields: list[str] | None) -> Record:
    """The record as it goes out: the fields asked for, without the hub's own ``_`` keys."""
    if fields is None:
        return {name: value for name, value in record.items() if not name.startswith("_")}
    return {name: record[name] for name in fields if name in record}


@dataclass(frozen=True)
class Page:
    window: list[Record]  # the records of the page as built (with the hub's ``_`` keys)
    total: int
    query: Query

    @property
    def records(self) -> list[Record]:
        return [select(record, self.query.fields) for record in self.window]

    def headers(self, url: str, params: Mapping[str, str]) -> dict[str, str]:
        """``X-Total-Count`` and the ``Link`` relations first, prev, next and last."""
        limit, offset = self.query.limit, self.query.offset
        last = max(0, (self.total - 1) // limit * limit)
        targets = {"first": 0, "last": last}
        if offset > 0:
            targets["prev"] = max(0, offset - limit)
        if offset + limit < self.total:
            targets["next"] = offset + limit
        kept = {name: value for name, value in params.items() if name not in {"limit", "offset"}}
        links = [
            f'<{url}?{urlencode({**kept, "limit": limit, "offset": target})}>; rel="{rel}"'
            for rel, target in targets.items()
        ]
        return {"X-Total-Count": str(self.total), "Link": ", ".join(links)}


def apply(records: Iterable[Record], query: Query) -> Page:
    """Filter, sort, count and cut out the page."""
    kept = [record for record in records if query.filter is None or query.filter.matches(record)]
    if query.sort is not None:
        field = query.sort
        present = [record for record in kept if field in record]
        absent = [record for record in kept if field not in record]
        present.sort(key=lambda record: _text(record[field]), reverse=query.descending)
        kept = present + absent
    return Page(kept[query.offset : query.offset + query.limit], len(kept), query)
