"""The DPIA screening: the nine criteria of the EDPB guidelines on DPIA (WP248 rev.01, III.B.a).

A processing that meets two or more of them is "likely to result in a high risk" (AVG art. 35),
so a DPIA is required before it starts.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

CRITERIA: Final[tuple[tuple[str, Promise], ...]] = (
    ("evaluation_scoring", _("Evaluatie of scoren, waaronder profilering en voorspellen")),
    ("automated_decisions", _("Geautomatiseerde besluitvorming met rechtsgevolg of vergelijkbaar")),
    ("systematic_monitoring", _("Stelselmatige monitoring")),
    ("sensitive_data", _("Gevoelige of bijzondere persoonsgegevens")),
    ("large_scale", _("Verwerking op grote schaal")),
    ("matching_datasets", _("Koppelen of combineren van gegevensverzamelingen")),
    ("vulnerable_subjects", _("Gegevens over kwetsbare betrokkenen (zoals kinderen)")),
    ("innovative_technology", _("Innovatief gebruik of nieuwe technologie")),
    ("prevents_rights", _("Verwerking die betrokkenen verhindert een recht uit te oefenen")),
)
KEYS: Final[frozenset[str]] = frozenset(key for key, _label in CRITERIA)
THRESHOLD: Final = 2


def required(criteria: frozenset[str] | set[str] | list[str]) -> bool:
    return len(set(criteria)) >= THRESHOLD


# --- the DPIA as a step ---------------------------------------------------------------------------

NOT_ACCEPTABLE: Final = "not_acceptable"  # DpiaOutcome.NOT_ACCEPTABLE


class State(StrEnum):
    """Where a board stands with the DPIA for one product."""

    NOT_SCREENED = "not_screened"  # no screening yet: the rule does not know
    NOT_REQUIRED = "not_required"  # screened: fewer than two criteria
    MISSING = "missing"  # required, and no DPIA recorded (nor an exception)
    REJECTED = "rejected"  # required, and the DPIA's outcome is "not acceptable"
    DONE = "done"  # required, and a DPIA allows use (acceptable, or with measures)
    WAIVED = "waived"  # required, and the board recorded an explicit exception

    @property
    def blocks_use(self) -> bool:
        """The product may not become active for the board (AVG art. 35: DPIA before use)."""
        return self in {State.MISSING, State.REJECTED}


STATE_LABELS: Final[dict[State, Promise]] = {
    State.NOT_SCREENED: _("nog niet beoordeeld"),
    State.NOT_REQUIRED: _("geen DPIA vereist"),
    State.MISSING: _("DPIA vereist, nog niet vastgelegd"),
    State.REJECTED: _("DPIA: niet aanvaardbaar"),
    State.DONE: _("DPIA vastgelegd"),
    State.WAIVED: _("uitzondering op de DPIA"),
}


def state(screening: frozenset[str] | None, outcome: str | None, waived: bool) -> State:
    """The rule on plain facts: the screening's criteria (None: not screened), the recorded DPIA's
    outcome (None: none recorded) and whether the board recorded an exception."""
    if screening is None:
        return State.NOT_SCREENED
    if not required(screening):
        return State.NOT_REQUIRED
    if waived:
        return State.WAIVED
    if outcome is None:
        return State.MISSING
    return State.REJECTED if outcome == NOT_ACCEPTABLE else State.DONE
