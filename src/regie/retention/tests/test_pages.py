"""The privacy officer's retention pages over real HTTP requests: the rules in words (a rule
that cannot be read is refused with the reason and nothing changes), what is coming as counts
(never a pupil's name), the runs, and legal holds placed and lifted (audited) by name."""

from __future__ import annotations

import datetime as dt
import random
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from regie.agreements.tests.register import World
from regie.audit.models import AuditEvent
from regie.logins import verified_client
from regie.orders.models import Order
from regie.retention import clock, events, holds, rules
from regie.retention.models import HubDataKind, HubRule, LegalHold, RetentionRun, RunState
from regie.roster.models import Student, StudentStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(rng: random.Random) -> World:
    return World(rng)


@pytest.fixture
def officer(world: World) -> Client:
    return verified_client(world.officer)


def text_of(response: object) -> str:
    content = response.content.decode()  # type: ignore[attr-defined]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", content))


def leave(student: Student, on: dt.date) -> None:
    Student.objects.filter(pk=student.pk).update(status=StudentStatus.LEFT, left_on=on)


def test_the_overview_shows_every_rule_in_words_and_what_is_coming_as_counts(
    world: World, officer: Client
) -> None:
    today = clock.today()
    leaving = list(Student.objects.filter(school=world.a1).order_by("pk")[:2])
    for pupil in leaving:  # their 12 months end in the coming weeks
        leave(pupil, rules.add_period(today, -12, "months") + dt.timedelta(days=3))

    response = officer.get(reverse("retention:overview"))
    assert response.status_code == 200
    text = text_of(response)
    for known in rules.KINDS.values():
        assert known.default.in_words() in text
    assert "12 maanden na uitschrijving van de leerling" in text
    processing = world.agreement.schedules.get().processings.order_by("pk")[0]
    assert processing.retention_in_words() in text
    assert world.supplier.name in text
    # The coming weeks: two pupils in the first week, never by name.
    coming = response.context["coming"]
    assert [period.pupils for period in coming.periods] == [2, 0, 0, 0, 0]
    for pupil in leaving:
        assert str(pupil) not in text
    assert "Nog geen runs." in text


def test_a_rule_in_words_changes_the_period_and_is_audited(world: World, officer: Client) -> None:
    response = officer.post(
        reverse("retention:overview"),
        {"kind": HubDataKind.RESULTS, "bestuur": world.board_a.pk, "results-rule": "3 jaar"},
    )
    assert response.status_code == 302
    rule = rules.hub_rule(world.board_a, HubDataKind.RESULTS)
    assert (rule.period, rule.unit) == (3, "years")
    page = text_of(officer.get(response["Location"]))
    assert "3 jaar na het einde van het schooljaar" in page
    assert AuditEvent.objects.filter(event_type=events.RULE_CHANGED.name).count() == 1
    assert rules.hub_rule(world.board_b, HubDataKind.RESULTS) == rules.KINDS["results"].default


@pytest.mark.parametrize(
    ("words", "reason"),
    [
        ("een paar maanden", "Deze bewaartermijn is niet te lezen."),
        ("12 eeuwen", "‘eeuwen’ is geen eenheid"),
        ("2 jaar na uitschrijving", "Voor deze gegevens begint de termijn"),
        ("200 jaar", "Een bewaartermijn van meer dan honderd jaar kan niet."),
    ],
)
def test_a_rule_that_cannot_be_read_is_refused_with_the_reason_and_nothing_changes(
    world: World, officer: Client, words: str, reason: str
) -> None:
    response = officer.post(
        reverse("retention:overview"),
        {"kind": HubDataKind.RESULTS, "bestuur": world.board_a.pk, "results-rule": words},
    )
    assert response.status_code == 200
    text = text_of(response)
    assert reason in text
    assert "Niet opgeslagen: er is niets gewijzigd." in text
    assert not HubRule.objects.exists()
    assert not AuditEvent.objects.filter(event_type=events.RULE_CHANGED.name).exists()


def test_the_pages_speak_english_too(world: World, officer: Client) -> None:
    officer.cookies["django_language"] = "en"
    with translation.override("en"):
        text = text_of(officer.get(reverse("retention:overview")))
    assert "The hub's retention periods" in text
    assert "12 months after the pupil leaves the school" in text


def test_a_run_page_shows_its_counts_orders_check_and_report(world: World, officer: Client) -> None:
    run = RetentionRun.objects.create(
        board=world.board_a,
        as_of=dt.date(2031, 3, 10),
        state=RunState.DONE,
        counts={"pupils_deleted": 3, "sweep_results": 4},
        orders=["3a1e1d52-0d6c-4bde-9c36-0a4a2b1f0c11"],
        left_over={"students": 0, "pseudonyms": 0},
        report="regie retention run report v1\n\n— hub.regie.example/log abc=\n",
    )
    overview = text_of(officer.get(reverse("retention:overview")))
    assert "10 maart 2031" in overview
    assert "Leerlingen verwijderd bij de hub: 3" in overview

    response = officer.get(reverse("retention:run", args=[run.pk]))
    assert response.status_code == 200
    text = text_of(response)
    assert "Leerlingen verwijderd bij de hub 3" in text
    assert "Resultaten die leveranciers terugstuurden 4" in text
    assert "3a1e1d52-0d6c-4bde-9c36-0a4a2b1f0c11 (niet meer bewaard)" in text
    assert "Van de verwijderde leerlingen is niets meer over." in text
    assert "regie retention run report v1" in text
    assert not Order.objects.exists()


def test_a_run_of_another_board_is_not_found(world: World) -> None:
    run = RetentionRun.objects.create(board=world.board_b, as_of=dt.date(2031, 3, 10))
    response = verified_client(world.officer).get(reverse("retention:run", args=[run.pk]))
    assert response.status_code == 404


def test_a_hold_is_placed_and_lifted_on_the_page_by_name_and_audited(
    world: World, officer: Client
) -> None:
    pupil = world.pupil()
    leave(pupil, clock.today())
    other_board = Student.objects.filter(school=world.b1).order_by("pk")[0]
    leave(other_board, clock.today())
    page = officer.get(reverse("retention:holds"))
    assert page.status_code == 200
    assert str(pupil) in text_of(page)
    offered = {student.pk for student in page.context["pupils"]}
    assert pupil.pk in offered
    assert other_board.pk not in offered  # not the login's to see

    response = officer.post(
        reverse("retention:holds"),
        {
            "action": "place",
            "bestuur": world.board_a.pk,
            "place-student": pupil.pk,
            "place-reason": "Procedure bij de rechter.",
        },
    )
    assert response.status_code == 302
    hold = LegalHold.objects.get()
    assert (hold.student, hold.reason, hold.placed_by) == (
        pupil,
        "Procedure bij de rechter.",
        world.officer,
    )
    text = text_of(officer.get(response["Location"]))
    assert "Procedure bij de rechter." in text
    assert f"{pupil}" in text

    response = officer.post(
        reverse("retention:holds"),
        {
            "action": "lift",
            "bestuur": world.board_a.pk,
            "hold": hold.pk,
            f"lift-{hold.pk}-reason": "",
        },
    )
    assert response.status_code == 200
    assert "Vul een reden in." in text_of(response)
    assert holds.in_force(pupil) == hold

    response = officer.post(
        reverse("retention:holds"),
        {
            "action": "lift",
            "bestuur": world.board_a.pk,
            "hold": hold.pk,
            f"lift-{hold.pk}-reason": "Uitspraak gedaan.",
        },
    )
    assert response.status_code == 302
    hold.refresh_from_db()
    assert hold.lift_reason == "Uitspraak gedaan."
    assert list(
        AuditEvent.objects.filter(subject=f"student:{pupil.pk}")
        .filter(event_type__in=[events.HOLD_PLACED.name, events.HOLD_LIFTED.name])
        .order_by("pk")
        .values_list("event_type", flat=True)
    ) == [events.HOLD_PLACED.name, events.HOLD_LIFTED.name]
    assert "Uitspraak gedaan." in text_of(officer.get(reverse("retention:holds")))


def test_a_hold_needs_a_reason_and_a_pupil_the_login_may_see(world: World, officer: Client) -> None:
    pupil = world.pupil()
    leave(pupil, clock.today())
    other_board = Student.objects.filter(school=world.b1).order_by("pk")[0]
    leave(other_board, clock.today())
    response = officer.post(
        reverse("retention:holds"),
        {
            "action": "place",
            "bestuur": world.board_a.pk,
            "place-student": pupil.pk,
            "place-reason": " ",
        },
    )
    assert response.status_code == 200
    assert "Vul een reden in." in text_of(response)
    response = officer.post(
        reverse("retention:holds"),
        {
            "action": "place",
            "bestuur": world.board_a.pk,
            "place-student": other_board.pk,
            "place-reason": "Procedure.",
        },
    )
    assert response.status_code == 200
    assert not LegalHold.objects.exists()
    # Another board's page is not the officer's.
    assert officer.get(reverse("retention:holds"), {"bestuur": world.board_b.pk}).status_code == 404


def test_the_dashboard_counts_pupils_coming_and_holds_in_force(
    world: World, officer: Client
) -> None:
    pupil = world.pupil()
    leave(pupil, rules.add_period(clock.today(), -12, "months") + dt.timedelta(days=10))
    second = Student.objects.filter(school=world.a1).exclude(pk=pupil.pk).order_by("pk")[0]
    leave(second, clock.today())
    holds.place(second, "Procedure.", user=world.officer)
    response = officer.get(reverse("agreements:dashboard"))
    lines = {str(line.label): line.count for line in response.context["todo"].more}
    assert lines["Leerlingen die de hub de komende 30 dagen verwijdert"] == 1
    assert lines["Bewaarplichten (legal holds) die gelden"] == 1
    assert lines["Leveranciers die een verwijderd controlegeval nog gebruikten (schending)"] == 0
