"""The severity of a data breach by ENISA's method: *Recommendations for a methodology of the
assessment of severity of personal data breaches* (ENISA, December 2013).

    SE = DPC × EI + CB

- **DPC** (data processing context), 1–4: a basic score by the type of data — simple 1,
  behavioural 2, financial 3, sensitive 4 — adjusted for the context (the volume, the
  characteristics of the controller or the persons, e.g. children; the method raises or lowers
  the basic score, which stays within 1–4).
- **EI** (ease of identification): negligible 0.25, limited 0.5, significant 0.75, maximum 1.
- **CB** (circumstances of the breach), the sum of: loss of confidentiality (0, 0.25, 0.5),
  loss of integrity (0, 0.25, 0.5), loss of availability (0, 0.25, 0.5), malicious intent
  (0 or 0.5).

Levels: low SE < 2, medium 2 ≤ SE < 3, high 3 ≤ SE < 4, very high SE ≥ 4.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from regie.core import datacategories as dc

# The method's basic DPC scores by the type of data.
SIMPLE, BEHAVIOURAL, FINANCIAL, SENSITIVE = 1, 2, 3, 4
DPC_BASE: Mapping[int, Promise] = {
    SIMPLE: _("1 — eenvoudige gegevens (naam, contactgegevens, school, groep)"),
    BEHAVIOURAL: _("2 — gedragsgegevens (leerresultaten, voortgang, gebruik)"),
    FINANCIAL: _("3 — financiële gegevens"),
    SENSITIVE: _("4 — gevoelige gegevens (gezondheid, zorg, bijzondere persoonsgegevens)"),
}
DPC_ADJUST: Mapping[int, Promise] = {
    -1: _("-1 — de context maakt het minder ernstig (bijvoorbeeld al openbaar)"),
    0: _("0 — geen aanpassing"),
    1: _("+1 — de context maakt het ernstiger (bijvoorbeeld kinderen, grote hoeveelheid)"),
    2: _("+2 — de context maakt het veel ernstiger"),
}
EI: Mapping[str, Promise] = {
    "0.25": _("0,25 — verwaarloosbaar: de persoon is nauwelijks te herkennen"),
    "0.5": _("0,5 — beperkt: te herkennen met extra gegevens"),
    "0.75": _("0,75 — aanzienlijk: met weinig moeite te herkennen"),
    "1": _("1 — maximaal: direct te herkennen (bijvoorbeeld naam)"),
}
CONFIDENTIALITY: Mapping[str, Promise] = {
    "0": _("0 — geen verlies van vertrouwelijkheid"),
    "0.25": _("0,25 — gegevens bij een bekend aantal ontvangers"),
    "0.5": _("0,5 — gegevens bij een onbekend aantal ontvangers"),
}
INTEGRITY: Mapping[str, Promise] = {
    "0": _("0 — gegevens niet veranderd"),
    "0.25": _("0,25 — veranderd, maar te herstellen"),
    "0.5": _("0,5 — veranderd en niet te herstellen, of al gebruikt"),
}
AVAILABILITY: Mapping[str, Promise] = {
    "0": _("0 — gegevens beschikbaar"),
    "0.25": _("0,25 — tijdelijk niet beschikbaar"),
    "0.5": _("0,5 — blijvend niet beschikbaar"),
}
MALICIOUS: Mapping[str, Promise] = {
    "0": _("0 — geen kwade opzet"),
    "0.5": _("0,5 — kwade opzet (bijvoorbeeld diefstal of een aanval)"),
}

LEVELS: Mapping[str, Promise] = {
    "low": _("laag"),
    "medium": _("gemiddeld"),
    "high": _("hoog"),
    "very_high": _("zeer hoog"),
}

# Default basic score by taxonomy category: sensitive categories 4, results/behaviour 2, the rest
# simple (regie holds no financial data of pupils).
BEHAVIOURAL_KEYS = frozenset({dc.RESULTS.key, dc.CONTENT.key, dc.DEVICE.key, dc.IP_ADDRESS.key})


def default_dpc(categories: Iterable[str]) -> int:
    """The method's basic DPC for the categories affected: the highest type among them."""
    score = SIMPLE
    for key in categories:
        category = dc.TAXONOMY.get(key)
        if category is not None and category.sensitive:
            return SENSITIVE
        if key in BEHAVIOURAL_KEYS:
            score = max(score, BEHAVIOURAL)
    return score


@dataclass(frozen=True)
class Severity:
    dpc: Decimal
    ei: Decimal
    cb: Decimal

    @property
    def score(self) -> Decimal:
        return self.dpc * self.ei + self.cb

    @property
    def level(self) -> str:
        score = self.score
        if score < 2:
            return "low"
        if score < 3:
            return "medium"
        if score < 4:
            return "high"
        return "very_high"

    @property
    def level_label(self) -> Promise:
        return LEVELS[self.level]


def _pick(value: object, choices: Mapping[str, Promise], default: str = "0") -> Decimal:
    text = str(value) if value is not None else default
    return Decimal(text if text in choices else default)


def assess(factors: Mapping[str, object]) -> Severity:
    """The severity for the factors as stored on the incident (``dpc_base``, ``dpc_adjust``,
    ``ei``, ``confidentiality``, ``integrity``, ``availability``, ``malicious``)."""
    base = factors.get("dpc_base")
    base_score = base if isinstance(base, int) and base in DPC_BASE else SIMPLE
    adjust = factors.get("dpc_adjust")
    adjust_score = adjust if isinstance(adjust, int) and adjust in DPC_ADJUST else 0
    dpc = Decimal(min(SENSITIVE, max(SIMPLE, base_score + adjust_score)))
    ei = _pick(factors.get("ei"), EI, default="1")
    cb = (
        _pick(factors.get("confidentiality"), CONFIDENTIALITY)
        + _pick(factors.get("integrity"), INTEGRITY)
        + _pick(factors.get("availability"), AVAILABILITY)
        + _pick(factors.get("malicious"), MALICIOUS)
    )
    return Severity(dpc=dpc, ei=ei, cb=cb)
