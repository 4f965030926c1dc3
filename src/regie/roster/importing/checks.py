"""Checks that both import formats share, so that OneRoster CSV and EDEXML refuse the same things
the same way: one function per rule, each giving a reason that never holds the value.

- :data:`PGN_CHECKS`: the check for each way an export names a pupil's national number.
- :func:`pgn_problem`, :func:`eck_id_problem`: the identifiers a pupil may carry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

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
