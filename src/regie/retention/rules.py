"""Retention rules as data: a period, its unit and the moment it starts (the trigger).

- **The suppliers' rules** are the processings of their data schedules
  (:class:`~regie.agreements.models.Processing`: ``retention_period``, ``retention_unit``,
  ``retention_trigger``). :func:`supplier_rules` reads them per supplier of a board.
- **The hub's own rules** are one per kind of its data (:class:`~.models.HubDataKind`), each with
  its own trigger and a default (:data:`KINDS`); a board may set another period
  (:class:`~.models.HubRule`, :func:`set_hub_rule`).
- :func:`parse` reads a rule written in words ("12 maanden na uitschrijving", "2 years after the
  end of the school year"), and refuses with the reason what it cannot read; :func:`in_words`
  writes one. Pages show every rule in words.

Periods are added as calendar steps (:func:`add_period`): a month after 31 January is the last day
of February, as the portal counts deadlines.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from django.contrib.auth.models import User as AuthUser
from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from regie.agreements.models import (
    AgreementStatus,
    Processing,
    RetentionTrigger,
    RetentionUnit,
    period_in_words,
)
from regie.agreements.services import Refused
from regie.audit.services import actor_for, record
from regie.core.models import Board, SchoolYear

from . import events
from .models import HubDataKind, HubRule


@dataclass(frozen=True)
class Rule:
    """A retention rule: ``period`` ``unit`` after ``trigger``."""

    period: int
    unit: str  # RetentionUnit
    trigger: str  # RetentionTrigger, or one of HUB_TRIGGERS

    def due(self, start: dt.date, year_end: Callable[[dt.date], dt.date] | None = None) -> dt.date:
        """The first day the data may no longer be kept, for a trigger that happened on
        ``start`` (for ``end_of_school_year``: the end of the school year ``start`` falls in;
        ``year_end`` finds it, :func:`school_year_end` by default)."""
        if self.trigger == RetentionTrigger.END_OF_SCHOOL_YEAR:
            start = (year_end or school_year_end)(start)
        return add_period(start, self.period, self.unit)

    def in_words(self) -> str:
        return in_words(self)


# The hub's own triggers, beside the schedules' (RetentionTrigger).
AFTER_DONE = "done"  # an order closed, an import finished
AFTER_INACTIVE = "inactive"  # a guardian no longer in the school's export
TRIGGER_LABELS: Mapping[str, Promise] = {
    **{value: label for value, label in RetentionTrigger.choices},
    AFTER_DONE: _("na afronding"),
    AFTER_INACTIVE: _("nadat de ouder niet meer in de export van de school staat"),
}


@dataclass(frozen=True)
class Kind:
    """One kind of the hub's own data: its trigger, its default and why."""

    kind: HubDataKind
    trigger: str
    default: Rule
    reason: Promise


KINDS: Mapping[str, Kind] = {
    HubDataKind.PUPILS_LEFT: Kind(
        HubDataKind.PUPILS_LEFT,
        RetentionTrigger.LEFT_SCHOOL,
        Rule(12, RetentionUnit.MONTHS, RetentionTrigger.LEFT_SCHOOL),
        _(
            "De hub heeft een leerling alleen nodig zolang die digitaal leermateriaal gebruikt. "
            "Het leerlingdossier zelf bewaart de school in haar administratie (LAS), met de "
            "termijnen van het overzicht van de sectorraad. De hub verwijdert een leerling pas "
            "als ook de opdrachten aan de leveranciers verstuurd zijn."
        ),
    ),
    HubDataKind.GUARDIANS: Kind(
        HubDataKind.GUARDIANS,
        AFTER_INACTIVE,
        Rule(1, RetentionUnit.MONTHS, AFTER_INACTIVE),
        _(
            "Een ouder die niet meer in de export staat, heeft geen kind meer op school; de "
            "maand geeft tijd om een fout in de export te herstellen."
        ),
    ),
    HubDataKind.RESULTS: Kind(
        HubDataKind.RESULTS,
        RetentionTrigger.END_OF_SCHOOL_YEAR,
        Rule(2, RetentionUnit.YEARS, RetentionTrigger.END_OF_SCHOOL_YEAR),
        _(
            "Resultaten uit leermiddelen zijn voor de leerkracht; twee schooljaren geven zicht "
            "op de voortgang. Wat de school langer wil bewaren, hoort in het leerlingdossier."
        ),
    ),
    HubDataKind.IMPORT_UPLOADS: Kind(
        HubDataKind.IMPORT_UPLOADS,
        AFTER_DONE,
        Rule(3, RetentionUnit.MONTHS, AFTER_DONE),
        _(
            "De uitslag van een import (fouten, plan) helpt bij de volgende import; het bestand "
            "zelf wacht nooit langer dan tot de import is uitgevoerd of verlopen."
        ),
    ),
    HubDataKind.ORDERS_EVIDENCE: Kind(
        HubDataKind.ORDERS_EVIDENCE,
        AFTER_DONE,
        Rule(5, RetentionUnit.YEARS, AFTER_DONE),
        _(
            "Opdrachten en ontvangstbewijzen bewijzen dat gegevens verwijderd zijn "
            "(verantwoordingsplicht, AVG art. 5 lid 2). Het logboek bewijst het daarna nog: "
            "zijn bladeren blijven."
        ),
    ),
}


def hub_rule(board: Board | int, kind: str) -> Rule:
    """The board's rule for ``kind``: its own period, or the default."""
    known = KINDS[kind]
    board_id = board if isinstance(board, int) else board.pk
    row = HubRule.objects.filter(board_id=board_id, kind=kind).first()
    if row is None:
        return known.default
    return Rule(row.period, row.unit, known.trigger)


def hub_rules(board: Board | int) -> dict[str, Rule]:
    board_id = board if isinstance(board, int) else board.pk
    rows = {row.kind: row for row in HubRule.objects.filter(board_id=board_id)}
    found = {}
    for kind, known in KINDS.items():
        row = rows.get(kind)
        found[kind] = known.default if row is None else Rule(row.period, row.unit, known.trigger)
    return found


@transaction.atomic
def set_hub_rule(board: Board, kind: str, words: str, *, user: AuthUser | None) -> Rule:
    """Set the board's period for ``kind`` from ``words`` ("18 maanden"; a trigger, when
    written, must be the kind's own); :class:`Refused` with the reason, and nothing changed,
    when the words are no rule."""
    if kind not in KINDS:
        raise Refused(_("Onbekende soort gegevens."), field="kind")
    known = KINDS[kind]
    rule = parse(words, default_trigger=known.trigger)
    if rule.trigger != known.trigger:
        raise Refused(
            _("Voor deze gegevens begint de termijn %(trigger)s."),
            field="rule",
            trigger=TRIGGER_LABELS[known.trigger],
        )
    before = hub_rule(board, kind)
    HubRule.objects.update_or_create(
        board=board,
        kind=kind,
        defaults={"period": rule.period, "unit": rule.unit, "changed_by": user},
    )
    record(
        events.RULE_CHANGED,
        actor_for(user),
        f"board:{board.pk}",
        {
            "kind": kind,
            "before": [before.period, before.unit],
            "after": [rule.period, rule.unit],
        },
    )
    return rule


# --- words ---------------------------------------------------------------------------------------

_UNITS: Mapping[str, str] = {
    "dag": RetentionUnit.DAYS,
    "dagen": RetentionUnit.DAYS,
    "day": RetentionUnit.DAYS,
    "days": RetentionUnit.DAYS,
    "week": "weeks",
    "weken": "weeks",
    "weeks": "weeks",
    "maand": RetentionUnit.MONTHS,
    "maanden": RetentionUnit.MONTHS,
    "month": RetentionUnit.MONTHS,
    "months": RetentionUnit.MONTHS,
    "jaar": RetentionUnit.YEARS,
    "jaren": RetentionUnit.YEARS,
    "year": RetentionUnit.YEARS,
    "years": RetentionUnit.YEARS,
}
# What follows "na" / "after", in both languages, per trigger (lower case, spaces collapsed).
_TRIGGERS: Mapping[str, tuple[str, ...]] = {
    RetentionTrigger.LEFT_SCHOOL: (
        "uitschrijving",
        "uitschrijving van de leerling",
        "vertrek van de leerling",
        "het vertrek van de leerling",
        "leaving school",
        "the pupil left school",
        "the pupil leaves school",
        "left school",
    ),
    RetentionTrigger.END_OF_SCHOOL_YEAR: (
        "einde schooljaar",
        "het einde van het schooljaar",
        "einde van het schooljaar",
        "the end of the school year",
        "end of school year",
        "end of the school year",
    ),
    RetentionTrigger.END_OF_CONTRACT: (
        "einde contract",
        "einde van het contract",
        "het einde van de overeenkomst",
        "einde van de overeenkomst",
        "the end of the contract",
        "end of contract",
        "end of the contract",
    ),
    RetentionTrigger.CONSENT_WITHDRAWN: (
        "intrekken toestemming",
        "het intrekken van de toestemming",
        "intrekking van de toestemming",
        "consent withdrawn",
        "consent is withdrawn",
        "withdrawal of consent",
        "the withdrawal of consent",
    ),
    AFTER_DONE: ("afronding", "done", "completion"),
    AFTER_INACTIVE: (
        "niet meer in de export",
        "inactive",
        "no longer in the export",
    ),
}
_RULE = re.compile(
    r"^\s*(?P<period>\d{1,4})\s+(?P<unit>[a-z]+)(?:\s+(?:na|after)\s+(?P<trigger>.+?))?\s*\.?\s*$"
)
MAX_DAYS = 36600  # a hundred years: anything longer is a typing error, not a retention period


def parse(words: str, *, default_trigger: str | None = None) -> Rule:
    """The rule ``words`` state, or :class:`Refused` naming what is wrong (no value of the text
    is echoed beyond the unit or trigger it could not read)."""
    text = " ".join((words or "").lower().split())
    if not text:
        raise Refused(_("Vul een bewaartermijn in, bijvoorbeeld ‘12 maanden’."), field="rule")
    match = _RULE.match(text)
    if match is None:
        raise Refused(
            _(
                "Deze bewaartermijn is niet te lezen. Schrijf een aantal, een eenheid (dagen, "
                "weken, maanden, jaren) en eventueel waarna, bijvoorbeeld ‘12 maanden na "
                "uitschrijving’."
            ),
            field="rule",
        )
    unit = _UNITS.get(match["unit"])
    if unit is None:
        raise Refused(
            _("‘%(unit)s’ is geen eenheid: gebruik dagen, weken, maanden of jaren."),
            field="rule",
            unit=match["unit"][:20],
        )
    period = int(match["period"])
    if unit == "weeks":
        period, unit = period * 7, RetentionUnit.DAYS
    days = {"days": 1, "months": 31, "years": 366}[str(unit)]
    if period * days > MAX_DAYS:
        raise Refused(_("Een bewaartermijn van meer dan honderd jaar kan niet."), field="rule")
    trigger = default_trigger
    if match["trigger"]:
        named = match["trigger"].removeprefix("de ").removeprefix("het ")
        trigger = next(
            (
                key
                for key, phrases in _TRIGGERS.items()
                if match["trigger"] in phrases or named in phrases
            ),
            None,
        )
        if trigger is None:
            raise Refused(
                _(
                    "Waarna de termijn begint, is niet te lezen. Kies uit: na uitschrijving, na "
                    "het einde van het schooljaar, na het einde van het contract, na het "
                    "intrekken van de toestemming."
                ),
                field="rule",
            )
    if trigger is None:
        raise Refused(
            _("Schrijf ook waarna de termijn begint, bijvoorbeeld ‘na uitschrijving’."),
            field="rule",
        )
    return Rule(period, unit, trigger)


def in_words(rule: Rule) -> str:
    """``12 maanden na uitschrijving van de leerling`` (in the current language)."""
    return f"{period_in_words(rule.period, rule.unit)} {TRIGGER_LABELS[rule.trigger]}"


# --- calendar ------------------------------------------------------------------------------------


def add_period(start: dt.date, period: int, unit: str) -> dt.date:
    """``start`` plus ``period`` ``unit``: calendar months and years (the same day number, or the
    month's last day), or days."""
    if unit == RetentionUnit.DAYS:
        return start + dt.timedelta(days=period)
    months = period * 12 if unit == RetentionUnit.YEARS else period
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return dt.date(year, month, day)


def school_year_end(day: dt.date) -> dt.date:
    """The last day of the school year ``day`` falls in: the board's recorded school year, or the
    Dutch convention (1 August – 31 July)."""
    year = SchoolYear.objects.filter(SchoolYear.containing(day)).order_by("start").first()
    if year is not None:
        return year.end
    return dt.date(day.year if day.month < 8 else day.year + 1, 7, 31)


# --- the suppliers' rules ------------------------------------------------------------------------

# Agreements under which a supplier may have received data (and must delete it).
RELEASED_UNDER = (
    AgreementStatus.SIGNED,
    AgreementStatus.ACTIVE,
    AgreementStatus.TERMINATED,
)


@dataclass(frozen=True)
class SupplierRule:
    """The longest a supplier may keep a pupil's data after the pupil left: the longest of its
    processings with a pupil trigger (left school, end of school year), over the board's
    agreements with it. ``None`` when no processing has such a trigger (the data then goes at
    the end of the contract)."""

    supplier_id: int
    rules: tuple[Rule, ...]

    def due(
        self, left_on: dt.date, year_end: Callable[[dt.date], dt.date] | None = None
    ) -> dt.date | None:
        dues = [rule.due(left_on, year_end) for rule in self.rules]
        return max(dues) if dues else None

    def in_words(self) -> str:
        return "; ".join(sorted({rule.in_words() for rule in self.rules}))


PUPIL_TRIGGERS = (RetentionTrigger.LEFT_SCHOOL, RetentionTrigger.END_OF_SCHOOL_YEAR)


def supplier_rules(
    board: Board | int, suppliers: Iterable[int] | None = None
) -> dict[int, SupplierRule]:
    """Supplier pk → its pupil-triggered rules under ``board``'s agreements (every supplier
    with an agreement in :data:`RELEASED_UNDER`, or only ``suppliers``)."""
    board_id = board if isinstance(board, int) else board.pk
    processings = Processing.objects.filter(
        schedule__agreement__board_id=board_id,
        schedule__agreement__status__in=RELEASED_UNDER,
        retention_trigger__in=PUPIL_TRIGGERS,
    )
    if suppliers is not None:
        processings = processings.filter(schedule__product__supplier_id__in=list(suppliers))
    found: dict[int, set[Rule]] = {}
    for supplier_id, period, unit, trigger in processings.values_list(
        "schedule__product__supplier_id", "retention_period", "retention_unit", "retention_trigger"
    ):
        found.setdefault(supplier_id, set()).add(Rule(period, unit, trigger))
    return {
        supplier_id: SupplierRule(supplier_id, tuple(sorted(rules, key=repr)))
        for supplier_id, rules in found.items()
    }


def consent_rules(board: Board | int) -> dict[tuple[int, str], Rule]:
    """(product pk, attribute) → the rule for data released under a consent that was withdrawn
    (the longest, when several processings name the attribute)."""
    board_id = board if isinstance(board, int) else board.pk
    found: dict[tuple[int, str], Rule] = {}
    rows = Processing.objects.filter(
        schedule__agreement__board_id=board_id,
        schedule__agreement__status__in=RELEASED_UNDER,
        retention_trigger=RetentionTrigger.CONSENT_WITHDRAWN,
    ).values_list("schedule__product_id", "attributes", "retention_period", "retention_unit")
    for product_id, attributes, period, unit in rows:
        rule = Rule(period, unit, RetentionTrigger.CONSENT_WITHDRAWN)
        for attribute in attributes:
            known = found.get((product_id, attribute))
            base = dt.date(2000, 1, 1)
            if known is None or rule.due(base) > known.due(base):
                found[(product_id, attribute)] = rule
    return found
