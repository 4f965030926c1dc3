"""The DPIA screening: the nine criteria of the EDPB guidelines on DPIA (WP248 rev.01, III.B.a).

A processing that meets two or more of them is "likely to result in a high risk" (AVG art. 35),
so a DPIA is required before it starts.
"""

from __future__ import annotations

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
