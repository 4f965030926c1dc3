"""Retention rules as data: read from words (or refused with the reason), written in words, and
the calendar they count on."""

from __future__ import annotations

import datetime as dt

import pytest

from regie.agreements.models import RetentionTrigger, RetentionUnit
from regie.agreements.services import Refused
from regie.audit.models import AuditEvent
from regie.core.models import SchoolYear
from regie.retention import rules
from regie.retention.models import HubDataKind, HubRule
from regie.roster.tests.exports import make_board

LEFT = RetentionTrigger.LEFT_SCHOOL
YEAR_END = RetentionTrigger.END_OF_SCHOOL_YEAR


@pytest.mark.parametrize(
    ("words", "rule"),
    [
        ("12 maanden na uitschrijving", rules.Rule(12, RetentionUnit.MONTHS, LEFT)),
        ("1 maand na het vertrek van de leerling", rules.Rule(1, RetentionUnit.MONTHS, LEFT)),
        (
            "  2   JAAR na het einde van het schooljaar. ",
            rules.Rule(2, RetentionUnit.YEARS, YEAR_END),
        ),
        ("2 years after the end of the school year", rules.Rule(2, RetentionUnit.YEARS, YEAR_END)),
        (
            "3 weken na einde contract",
            rules.Rule(21, RetentionUnit.DAYS, RetentionTrigger.END_OF_CONTRACT),
        ),
        (
            "30 dagen na het intrekken van de toestemming",
            rules.Rule(30, RetentionUnit.DAYS, RetentionTrigger.CONSENT_WITHDRAWN),
        ),
        ("0 days after leaving school", rules.Rule(0, RetentionUnit.DAYS, LEFT)),
    ],
)
def test_words_are_read_as_a_rule(words: str, rule: rules.Rule) -> None:
    assert rules.parse(words) == rule


@pytest.mark.parametrize(
    ("words", "reason"),
    [
        ("", "Vul een bewaartermijn in"),
        ("een jaar na uitschrijving", "niet te lezen"),
        ("12 manen na uitschrijving", "‘manen’ is geen eenheid"),
        ("12 maanden na de zomer", "Waarna de termijn begint"),
        ("12 maanden", "Schrijf ook waarna"),
        ("200 jaar na uitschrijving", "meer dan honderd jaar"),
        ("-1 maanden na uitschrijving", "niet te lezen"),
    ],
)
def test_words_that_are_no_rule_are_refused_with_the_reason(words: str, reason: str) -> None:
    with pytest.raises(Refused) as refused:
        rules.parse(words)
    assert reason in str(refused.value)


def test_a_rule_in_words_reads_back_as_the_same_rule() -> None:
    for rule in (
        rules.Rule(12, RetentionUnit.MONTHS, LEFT),
        rules.Rule(1, RetentionUnit.YEARS, YEAR_END),
        rules.Rule(30, RetentionUnit.DAYS, RetentionTrigger.CONSENT_WITHDRAWN),
    ):
        assert rules.parse(rules.in_words(rule)) == rule


@pytest.mark.parametrize(
    ("start", "period", "unit", "due"),
    [
        (dt.date(2027, 1, 31), 1, RetentionUnit.MONTHS, dt.date(2027, 2, 28)),
        (dt.date(2028, 1, 31), 1, RetentionUnit.MONTHS, dt.date(2028, 2, 29)),
        (dt.date(2027, 11, 30), 3, RetentionUnit.MONTHS, dt.date(2028, 2, 29)),
        (dt.date(2028, 2, 29), 1, RetentionUnit.YEARS, dt.date(2029, 2, 28)),
        (dt.date(2027, 12, 31), 1, RetentionUnit.DAYS, dt.date(2028, 1, 1)),
        (dt.date(2027, 5, 15), 12, RetentionUnit.MONTHS, dt.date(2028, 5, 15)),
    ],
)
def test_periods_are_calendar_steps(start: dt.date, period: int, unit: str, due: dt.date) -> None:
    assert rules.add_period(start, period, unit) == due


@pytest.mark.django_db
def test_the_end_of_the_school_year_is_the_recorded_one_or_31_july() -> None:
    SchoolYear.objects.filter(title="2031-2032").delete()
    assert rules.school_year_end(dt.date(2031, 10, 1)) == dt.date(2032, 7, 31)
    assert rules.school_year_end(dt.date(2032, 3, 1)) == dt.date(2032, 7, 31)
    SchoolYear.objects.create(
        title="2031-2032", start=dt.date(2031, 8, 25), end=dt.date(2032, 8, 20)
    )
    assert rules.school_year_end(dt.date(2032, 8, 1)) == dt.date(2032, 8, 20)
    rule = rules.Rule(1, RetentionUnit.YEARS, YEAR_END)
    assert rule.due(dt.date(2031, 10, 1)) == dt.date(2033, 8, 20)


@pytest.mark.django_db
def test_a_board_sets_its_own_period_in_words_and_it_is_audited() -> None:
    board = make_board()
    assert rules.hub_rule(board, HubDataKind.RESULTS) == rules.KINDS[HubDataKind.RESULTS].default
    rule = rules.set_hub_rule(board, HubDataKind.RESULTS, "18 maanden", user=None)
    assert rule == rules.Rule(18, RetentionUnit.MONTHS, YEAR_END)
    assert rules.hub_rule(board, HubDataKind.RESULTS) == rule
    event = AuditEvent.objects.filter(event_type="retention.rule.changed").get()
    assert event.details["after"] == [18, "months"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "words", ["achttien maanden", "18 maanden na uitschrijving", "18 eeuwen", "9999 jaar"]
)
def test_a_rule_that_cannot_be_used_changes_nothing(words: str) -> None:
    board = make_board()
    rules.set_hub_rule(board, HubDataKind.RESULTS, "1 jaar", user=None)
    with pytest.raises(Refused):
        rules.set_hub_rule(board, HubDataKind.RESULTS, words, user=None)
    row = HubRule.objects.get(board=board, kind=HubDataKind.RESULTS)
    assert (row.period, row.unit) == (1, RetentionUnit.YEARS)
    assert AuditEvent.objects.filter(event_type="retention.rule.changed").count() == 1
