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
from django.utils.translation import gettext_noop

from regie.lib.identifiers import (
    InvalidIdentifier,
    check_bsn,
    check_eck_id,
    check_onderwijsnummer,
    check_pgn,
)
from regie.roster.importing.records import Reason

# OneRoster's userIds types and EDEXML's elements for a PGN: a BSN, an onderwijsnummer, or either.
PGN_CHECKS: Mapping[str, Callable[[str], str]] = {
    "pgn": check_pgn,
    "bsn_ondwnr": check_pgn,
    "bsn": check_bsn,
    "onderwijsnummer": check_onderwijsnummer,
}
T = TypeVar("T")

MORE_THAN_ONE_PGN = gettext_noop(
    "meer dan één PGN: een leerling heeft een BSN of een onderwijsnummer, niet allebei"
)

# regie.lib.identifiers explains in English (the number service's API answers with it); the
# importer shows its reasons on Dutch pages, so each of its reasons has a Dutch msgid here.
IDENTIFIER_REASONS: Mapping[str, str] = {
    "empty PGN": gettext_noop("het BSN of onderwijsnummer is leeg"),
    "a PGN is exactly 9 digits (BSN or onderwijsnummer)": gettext_noop(
        "een BSN of onderwijsnummer heeft precies 9 cijfers"
    ),
    "fails the 11-proef for both BSN and onderwijsnummer": gettext_noop(
        "voldoet niet aan de elfproef van een BSN of van een onderwijsnummer"
    ),
    "fails the BSN 11-proef": gettext_noop("voldoet niet aan de elfproef van een BSN"),
    "empty BSN": gettext_noop("het BSN is leeg"),
    "a BSN is exactly 9 digits": gettext_noop("een BSN heeft precies 9 cijfers"),
    "empty onderwijsnummer": gettext_noop("het onderwijsnummer is leeg"),
    "an onderwijsnummer is 9 digits starting with 10": gettext_noop(
        "een onderwijsnummer heeft 9 cijfers en begint met 10"
    ),
    "fails the onderwijsnummer 11-proef": gettext_noop(
        "voldoet niet aan de elfproef van een onderwijsnummer"
    ),
    "a BRIN is 2 digits and 2 capital letters, optionally 2 digits more": gettext_noop(
        "een BRIN-nummer is 2 cijfers en 2 hoofdletters, eventueel gevolgd door 2 cijfers"
    ),
    "empty ECK iD": gettext_noop("het ECK iD is leeg"),
    "an ECK iD is an https URI with a host and a path (no spaces, query or fragment)": (
        gettext_noop(
            "een ECK iD is een https-adres met een host en een pad (zonder spaties, vraag of "
            "fragment)"
        )
    ),
}
NOT_AN_IDENTIFIER = gettext_noop("geen geldig nummer")


def identifier_reason(error: InvalidIdentifier) -> str:
    """The Dutch msgid for ``error``'s reason (never its value)."""
    return IDENTIFIER_REASONS.get(str(error), NOT_AN_IDENTIFIER)


def pgn_problem(kind: str, value: str) -> str | None:
    """Why ``value`` is no PGN of ``kind`` (a key of :data:`PGN_CHECKS`); None when it is one."""
    try:
        PGN_CHECKS[kind](value)
    except InvalidIdentifier as error:
        return identifier_reason(error)
    return None


def eck_id_problem(value: str) -> str | None:
    """Why ``value`` is no ECK iD; None when it has an ECK iD's form."""
    try:
        check_eck_id(value)
    except InvalidIdentifier as error:
        return identifier_reason(error)
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


def same_pgn(first_line: int | None) -> Reason:
    """The reason given at the later of two pupils with one PGN, naming the first's line."""
    return (
        gettext_noop("hetzelfde BSN of onderwijsnummer als de leerling op regel %(line)s"),
        {"line": first_line if first_line is not None else "?"},
    )


def birth_date_problem(value: date, today: date) -> str | None:
    """Why ``value`` cannot be a pupil's birth date; None when it can (not after ``today``:
    :func:`today`, read once per export)."""
    if value > today:
        return gettext_noop("een geboortedatum in de toekomst")
    return None


def today() -> date:
    """Today in the hub's time zone, for :func:`birth_date_problem`."""
    return timezone.localdate()
