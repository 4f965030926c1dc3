"""Checks that both import formats share, so that OneRoster CSV and EDEXML refuse the same things
the same way: one function per rule, each giving a reason that never holds the value.

- :data:`PGN_CHECKS`: the check for each way an export names a pupil's national number.
- :func:`pgn_problem`, :func:`eck_id_problem`: the identifiers a pupil may carry.
- :func:`repeated_pgns`: one PGN is one person, so one pupil of an export.
- :func:`birth_date_problem`: nobody is born after today.

What each field's database column accepts is in :mod:`regie.roster.importing.fields`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from typing import TypeVar

from django.utils import timezone

from regie.lib.identifiers import (
    InvalidIdentifier,
    check_bsn,
    check_eck_id,
    check_onderwijsnummer,
    check_pgn,
)

# OneRoster's userIds types and EDEXML's elements for a PGN: a BSN, an onderwijsnummer, or either.
PGN_CHECKS: Mapping[str, Callable[[str], str]] = {
    "pgn": check_pgn,
    "bsn_ondwnr": check_pgn,
    "bsn": check_bsn,
    "onderwijsnummer": check_onderwijsnummer,
}
T = TypeVar("T")

MORE_THAN_ONE_PGN = "more than one PGN: a pupil has either a BSN or an onderwijsnummer"


def pgn_problem(kind: str, value: str) -> str | None:
    """Why ``value`` is no PGN of ``kind`` (a key of :data:`PGN_CHECKS`); None when it is one."""
    try:
        PGN_CHECKS[kind](value)
    except InvalidIdentifier as error:
        return str(error)
    return None


def eck_id_problem(value: str) -> str | None:
    """Why ``value`` is no ECK iD; None when it has an ECK iD's form."""
    try:
        check_eck_id(value)
    except InvalidIdentifier as error:
        return str(error)
    return None


def repeated_pgns(pupils: Iterable[tuple[str, T]]) -> Iterator[tuple[T, T]]:
    """``(later, first)`` for each ``(pgn, where)`` whose PGN came before. One PGN is one person:
    two pupils with it would get the same pseudonyms. Nothing of the PGN comes out."""
    first: dict[str, T] = {}
    for pgn, where in pupils:
        if not pgn:
            continue
        if pgn in first:
            yield where, first[pgn]
        else:
            first[pgn] = where


def same_pgn(first_line: int | None) -> str:
    """The reason given at the later of two pupils with one PGN, naming the first's line."""
    return f"the same BSN or onderwijsnummer as the pupil on line {first_line}"


def birth_date_problem(value: date, today: date) -> str | None:
    """Why ``value`` cannot be a pupil's birth date; None when it can (not after ``today``:
    :func:`today`, read once per export)."""
    if value > today:
        return "a birth date in the future"
    return None


def today() -> date:
    """Today in the hub's time zone, for :func:`birth_date_problem`."""
    return timezone.localdate()
