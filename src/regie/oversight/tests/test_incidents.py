"""The data-breach register: the 72-hour clock, affected pupils computed from the log (release
events as the gateway writes them), ENISA scoring, the AP's fields, the guardians' notice (to the
affected pupils' guardians only, as a job), the decision, the audit events, and who may see it."""

from __future__ import annotations

import datetime as dt
import random
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from regie.agreements.tests.register import World, make_supplier
from regie.audit.models import AuditEvent
from regie.audit.services import record
from regie.core import datacategories as dc
from regie.gateway.events import RELEASE, RESULT_RECEIVED
from regie.jobs.services import queued
from regie.logins import verified_client
from regie.portal.jobs import send_notification
from regie.portal.models import Notification
from regie.roster.models import Guardian, Student

from .. import dashboard, incidents, severity, texts
from ..context_processors import incident_banner
from ..jobs import send_breach_notices
from ..models import Decision, Incident

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def world(rng: random.Random) -> World:
    return World(rng)


def text_of(response: object) -> str:
    content = response.content.decode()  # type: ignore[attr-defined]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", content))


def sso(student: Student, supplier_pk: int, *attributes: str) -> None:
    """A release as the gateway's single sign-on writes it (``gateway.claims``)."""
    record(
        RELEASE,
        "client:1",
        f"student:{student.pk}",
        {
            "channel": "id_token",
            "supplier": supplier_pk,
            "product": 1,
            "attributes": list(attributes),
        },
    )


def oneroster(students: list[Student], supplier_pk: int, *attributes: str) -> None:
    """A release as the OneRoster binding writes it (counts and the pupils' internal ids)."""
    record(
        RELEASE,
        "client:1",
        f"supplier:{supplier_pk}",
        {
            "channel": "oneroster",
            "supplier": supplier_pk,
            "products": [1],
            "pupils": len(students),
            "students": sorted(student.pk for student in students),
            "attributes": sorted(attributes),
            "staff": 0,
            "staff_attributes": [],
        },
    )


def register(world: World, start: dt.datetime, **kwargs: object) -> Incident:
    values: dict[str, object] = {
        "description": "Een medewerker van de leverancier mailde een lijst naar de verkeerde school.",
        "detected_at": timezone.now(),
        "window": (start, timezone.now()),
        "supplier": world.supplier,
    }
    values.update(kwargs)
    return incidents.register(world.board_a, user=world.officer, **values)  # type: ignore[arg-type]


# --- the clock -----------------------------------------------------------------------------------


def test_the_deadline_is_72_hours_after_detection_and_the_clock_runs_until_the_ap_is_notified(
    world: World,
) -> None:
    detected = timezone.now() - 10 * HOUR
    incident = register(world, detected - HOUR, detected_at=detected)
    assert incident.deadline == detected + dt.timedelta(hours=72)
    running = incidents.clock(incident, detected + 20 * HOUR)
    assert (running.open, running.overdue, running.hours_left, running.in_time) == (
        True,
        False,
        52,
        None,
    )
    late = incidents.clock(incident, detected + 73 * HOUR)
    assert (late.open, late.overdue, late.hours_over) == (True, True, 1)

    incidents.decide(
        incident, Decision.NOTIFY, "Namen en resultaten.", notify_persons=True, user=None
    )
    assert incidents.clock(incident, detected + 73 * HOUR).overdue, "decided, not yet notified"
    assert incidents.notified(incident, detected + 71 * HOUR, user=None) is True
    stopped = incidents.clock(incident, detected + 200 * HOUR)
    assert (stopped.open, stopped.overdue, stopped.in_time) == (False, False, True)
    assert stopped.remaining == HOUR  # stopped at the notification

    other = register(world, detected - HOUR, detected_at=detected)
    incidents.decide(other, Decision.NOTIFY, "Namen.", notify_persons=False, user=None)
    assert incidents.notified(other, detected + 73 * HOUR, user=None) is False
    assert incidents.clock(other).in_time is False


def test_not_notifying_closes_the_clock_and_needs_reasons(world: World) -> None:
    incident = register(world, timezone.now() - HOUR, detected_at=timezone.now() - 80 * HOUR)
    assert incidents.clock(incident).overdue
    with pytest.raises(ValueError, match="needs one of notify/no_notify and reasons"):
        incidents.decide(incident, Decision.NO_NOTIFY, "  ", notify_persons=False, user=None)
    incidents.decide(
        incident,
        Decision.NO_NOTIFY,
        "Alleen pseudoniemen, geen risico.",
        notify_persons=False,
        user=None,
    )
    clock = incidents.clock(incident)
    assert (clock.open, clock.overdue) == (False, False)
    assert not incidents.open_incidents([world.board_a.pk]).exists()


# --- affected pupils from the log ----------------------------------------------------------------


def test_the_affected_pupils_are_those_the_log_shows_went_to_the_supplier_in_the_window(
    world: World,
) -> None:
    a1 = list(Student.objects.filter(school__board=world.board_a).order_by("pk"))
    assert len(a1) >= 8
    b1 = list(Student.objects.filter(school=world.b1).order_by("pk"))
    other = make_supplier("Taalrijk Uitgevers (fictief)", "99000002")
    sso(a1[0], world.supplier.pk, "supplier_pseudonym", "first_name")  # before the window
    start = timezone.now()
    sso(a1[1], world.supplier.pk, "supplier_pseudonym", "first_name", "groups")
    oneroster(a1[2:5], world.supplier.pk, "supplier_pseudonym", "groups")
    record(
        RESULT_RECEIVED,
        "client:1",
        f"student:{a1[2].pk}",
        {"supplier": world.supplier.pk, "product": 1, "line_item": 1, "created": True},
    )
    oneroster(a1[5:7], other.pk, "supplier_pseudonym", "first_name")  # another supplier
    sso(b1[0], world.supplier.pk, "supplier_pseudonym")  # another board
    end = timezone.now()
    sso(a1[7], world.supplier.pk, "supplier_pseudonym")  # after the window

    incident = register(world, start, window=(start, end))
    rows = {row.student_id: (row.categories, row.releases) for row in incident.affected.all()}
    enrolment, pseudonym = dc.ENROLMENT.key, dc.SUPPLIER_PSEUDONYM.key
    assert rows == {
        a1[1].pk: (sorted([dc.FIRST_NAME.key, enrolment, pseudonym]), 1),
        a1[2].pk: (sorted([enrolment, dc.RESULTS.key, pseudonym]), 2),
        a1[3].pk: (sorted([enrolment, pseudonym]), 1),
        a1[4].pk: (sorted([enrolment, pseudonym]), 1),
    }
    assert dict(incidents.per_category(incident)) == {
        pseudonym: 4,
        enrolment: 4,
        dc.FIRST_NAME.key: 1,
        dc.RESULTS.key: 1,
    }
    # The supplier said only first names leaked: only those pupils, only that category.
    narrow = register(world, start, window=(start, end), categories=[dc.FIRST_NAME.key])
    assert list(narrow.affected.values_list("student_id", "categories")) == [
        (a1[1].pk, [dc.FIRST_NAME.key])
    ]
    # Recomputed later, a release in the window that was logged since is found too.
    assert incidents.recompute(incident, user=world.officer) == 4
    internal = register(world, start, window=(start, end), supplier=None)
    assert internal.affected.count() == 0


def test_registering_is_audited_without_names(world: World) -> None:
    pupil = world.pupil()
    start = timezone.now()
    sso(pupil, world.supplier.pk, "supplier_pseudonym", "first_name")
    incident = register(world, start)
    event = AuditEvent.objects.get(event_type="oversight.incident.registered")
    assert event.subject == f"incident:{incident.pk}"
    assert event.actor == f"user:{world.officer.pk}"
    assert event.details["affected"] == 1
    assert event.details["supplier"] == world.supplier.pk
    assert pupil.achternaam not in str(event.details)


# --- ENISA ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factors", "score", "level"),
    [
        ({"dpc_base": 1, "dpc_adjust": 0, "ei": "0.5"}, "0.5", "low"),
        ({"dpc_base": 2, "dpc_adjust": 0, "ei": "1", "confidentiality": "0.25"}, "2.25", "medium"),
        ({"dpc_base": 2, "dpc_adjust": 1, "ei": "1", "confidentiality": "0.5"}, "3.5", "high"),
        (
            {
                "dpc_base": 4,
                "dpc_adjust": 0,
                "ei": "1",
                "confidentiality": "0.5",
                "malicious": "0.5",
            },
            "5",
            "very_high",
        ),
        ({"dpc_base": 4, "dpc_adjust": 2, "ei": "0.75"}, "3.00", "high"),  # DPC stays at most 4
        ({"dpc_base": 1, "dpc_adjust": -1, "ei": "0.25"}, "0.25", "low"),  # and at least 1
        (
            {"dpc_base": 2, "dpc_adjust": 0, "ei": "1", "integrity": "0.5", "availability": "0.5"},
            "3.0",
            "high",
        ),
        ({"dpc_base": 1, "dpc_adjust": 1, "ei": "1"}, "2", "medium"),  # 2 is medium, not low
    ],
)
def test_severity_is_dpc_times_ei_plus_cb(
    factors: dict[str, object], score: str, level: str
) -> None:
    scored = severity.assess(factors)
    assert scored.score == Decimal(score)
    assert scored.level == level


def test_the_default_dpc_follows_the_categories_affected() -> None:
    assert severity.default_dpc([dc.SUPPLIER_PSEUDONYM.key, dc.ENROLMENT.key]) == 1
    assert severity.default_dpc([dc.ENROLMENT.key, dc.RESULTS.key]) == 2
    assert severity.default_dpc([dc.RESULTS.key, dc.CARE.key]) == 4


def test_the_officer_scores_the_severity_on_the_page_and_it_is_audited(world: World) -> None:
    incident = register(world, timezone.now() - HOUR)
    officer = verified_client(world.officer)
    url = reverse("incidents:detail", args=[incident.pk])
    answer = officer.post(
        url,
        {
            "action": "assess",
            "dpc_base": "2",
            "dpc_adjust": "1",
            "ei": "1",
            "confidentiality": "0.25",
            "integrity": "0",
            "availability": "0",
            "malicious": "0",
        },
    )
    assert answer.status_code == 302
    page = text_of(officer.get(url))
    assert "Score 3,25: hoog." in page
    event = AuditEvent.objects.get(event_type="oversight.incident.assessed")
    assert (event.details["score"], event.details["level"]) == ("3.25", "high")


# --- texts ---------------------------------------------------------------------------------------


def test_the_ap_fields_are_filled_from_the_incident_and_editable(world: World) -> None:
    start = timezone.now()
    pupils = list(Student.objects.filter(school=world.a1).order_by("pk")[:3])
    oneroster(pupils, world.supplier.pk, "supplier_pseudonym", "first_name")
    incident = register(world, start)
    fields = {field.key: field.value for field in texts.ap_fields(incident)}
    assert set(fields) == set(texts.AP_FIELDS)
    assert fields["organisation"] == world.board_a.name
    assert fields["processor"] == world.supplier.name
    assert fields["summary"] == incident.description
    assert "Leerlingen: 3" in fields["persons"]
    assert "Voornaam" in fields["data_categories"]
    assert fields["persons_informed"] == "Nee, nog niet"
    officer = verified_client(world.officer)
    url = reverse("incidents:ap", args=[incident.pk])
    edited = {**fields, "measures": "De lijst is teruggehaald en verwijderd."}
    assert officer.post(url, edited).status_code == 302
    page = text_of(officer.get(url))
    assert "De lijst is teruggehaald en verwijderd." in page
    assert world.board_a.name in page


def test_the_guardians_notice_goes_only_to_the_affected_pupils_guardians_as_a_job(
    world: World,
) -> None:
    start = timezone.now()
    affected = list(Student.objects.filter(school=world.a1).order_by("pk")[:2])
    untouched = Student.objects.filter(school__board=world.board_a).order_by("pk")[3]
    oneroster(affected, world.supplier.pk, "supplier_pseudonym")
    incident = register(world, start)
    officer = verified_client(world.officer)
    url = reverse("incidents:guardians", args=[incident.pk])
    page = officer.get(url).content.decode()
    assert 'value="Een datalek met gegevens van uw kind"' in page
    answer = officer.post(
        url,
        {
            "action": "send",
            "subject": "Een datalek bij Rekenwereld",
            "body": "Beste ouder, het spijt ons.",
        },
    )
    assert answer.status_code == 302
    payload: dict[str, int | str] = {"incident": incident.pk, "actor": f"user:{world.officer.pk}"}
    assert queued(send_breach_notices, payload) == 1
    send_breach_notices(**payload)
    send_breach_notices(**payload)  # once only
    expected = set(
        Guardian.objects.filter(students__in=affected, is_active=True).values_list(
            "email", flat=True
        )
    )
    assert expected
    sent = Notification.objects.filter(kind="breach")
    assert set(sent.values_list("to", flat=True)) == expected
    assert not set(sent.values_list("to", flat=True)) & set(
        untouched.guardians.values_list("email", flat=True)
    )
    for notification in sent:
        assert notification.subject == "Een datalek bij Rekenwereld"
        assert notification.body == "Beste ouder, het spijt ons.\n"
        for pupil in Student.objects.filter(school=world.a1):
            assert pupil.achternaam not in notification.body
        send_notification(notification=notification.pk)
    assert len(mail.outbox) == len(expected)
    event = AuditEvent.objects.get(event_type="oversight.incident.guardians_sent")
    assert event.details == {"messages": len(expected), "pupils": 2}
    incident.refresh_from_db()
    assert incident.guardians_sent_at is not None


# --- the decision on the page --------------------------------------------------------------------


def test_the_decision_needs_reasons_and_the_notification_stops_the_clock(world: World) -> None:
    incident = register(world, timezone.now() - HOUR)
    officer = verified_client(world.officer)
    url = reverse("incidents:detail", args=[incident.pk])
    refused = officer.post(url, {"action": "decide", "decision": "notify", "reasons": ""})
    assert refused.status_code == 200
    assert "Dit veld is verplicht." in text_of(refused)
    incident.refresh_from_db()
    assert incident.decision == Decision.UNDECIDED
    done = officer.post(
        url, {"action": "decide", "decision": "notify", "reasons": "Voornamen bij derden."}
    )
    assert done.status_code == 302
    when = timezone.localtime(timezone.now()).strftime("%Y-%m-%dT%H:%M")
    assert officer.post(url, {"action": "notified", "notified_at": when}).status_code == 302
    incident.refresh_from_db()
    assert incident.decision == Decision.NOTIFY
    assert incident.notified_ap_at is not None
    assert incidents.clock(incident).in_time is True
    kinds = list(
        AuditEvent.objects.filter(subject=f"incident:{incident.pk}")
        .order_by("pk")
        .values_list("event_type", flat=True)
    )
    assert kinds == [
        "oversight.incident.registered",
        "oversight.incident.decided",
        "oversight.incident.notified",
    ]


# --- the clock everywhere ------------------------------------------------------------------------


def test_the_clock_is_on_the_list_the_dashboard_and_a_banner_on_the_privacy_pages(
    world: World, django_assert_num_queries: object
) -> None:
    officer = verified_client(world.officer)
    assert "wacht op een besluit" not in text_of(officer.get(reverse("retention:overview")))
    incident = register(world, timezone.now() - HOUR, detected_at=timezone.now() - 80 * HOUR)
    page = text_of(officer.get(reverse("incidents:list")))
    assert "termijn verstreken, 8 uur te laat" in page
    lines = {str(line.label): line.count for line in dashboard.dashboard_lines(world.officer)}
    assert lines["Datalekken die wachten op een besluit of een melding bij de AP"] == 1
    assert lines["Datalekken waarvan de termijn van 72 uur verstreken is"] == 1
    banner = text_of(officer.get(reverse("retention:overview")))
    assert "1 datalek wacht op een besluit of een melding bij de AP" in banner
    request = Client().get("/").wsgi_request
    request.user = world.officer
    request.path = "/privacy/bewaren/"
    with django_assert_num_queries(1):  # type: ignore[operator]
        assert incident_banner(request)["incident_banner"]["count"] == 1
    request.user = world.officer_b  # another board's privacy officer: no banner
    assert incident_banner(request) == {}
    request.user = world.teacher
    assert incident_banner(request) == {}
    incidents.decide(incident, Decision.NO_NOTIFY, "Geen risico.", notify_persons=False, user=None)
    assert "datalek wacht" not in text_of(officer.get(reverse("retention:overview")))


# --- access --------------------------------------------------------------------------------------


def test_only_the_boards_privacy_officer_and_board_admin_see_its_incidents(world: World) -> None:
    pupil = world.pupil()
    start = timezone.now()
    sso(pupil, world.supplier.pk, "supplier_pseudonym")
    incident = register(world, start)
    pages = [
        reverse("incidents:list"),
        reverse("incidents:new"),
        reverse("incidents:detail", args=[incident.pk]),
        reverse("incidents:ap", args=[incident.pk]),
        reverse("incidents:guardians", args=[incident.pk]),
    ]
    for user in (world.officer, world.board_admin):
        client = verified_client(user)
        for url in pages:
            assert client.get(url).status_code == 200, url
        assert str(pupil) in text_of(client.get(pages[2]))  # names on this staff page
    for user in (world.teacher, world.school_admin):
        client = verified_client(user)
        for url in pages:
            assert client.get(url).status_code == 403, url
    other_board = verified_client(world.officer_b)
    assert other_board.get(pages[0]).status_code == 200
    assert str(incident.board.name) not in text_of(other_board.get(pages[0]))
    for url in pages[2:]:
        assert other_board.get(url).status_code == 404, url
    assert other_board.post(pages[2], {"action": "recompute"}).status_code == 404
    anonymous = Client().get(pages[0])
    assert anonymous.status_code == 302


def test_registering_on_the_page_computes_the_affected_pupils(world: World) -> None:
    pupils = list(Student.objects.filter(school=world.a1).order_by("pk")[:2])
    start = timezone.localtime(timezone.now() - HOUR)
    oneroster(pupils, world.supplier.pk, "supplier_pseudonym")
    officer = verified_client(world.officer)
    answer = officer.post(
        reverse("incidents:new"),
        {
            "board": world.board_a.pk,
            "supplier": world.supplier.pk,
            "description": "Een lijst met pseudoniemen stond open op internet.",
            "detected_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "window_from": start.strftime("%Y-%m-%dT%H:%M"),
            "window_to": (timezone.localtime() + HOUR).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert answer.status_code == 302, text_of(answer)
    incident = Incident.objects.get()
    assert set(incident.affected.values_list("student_id", flat=True)) == {p.pk for p in pupils}
    assert incident.registered_by == world.officer
    page = text_of(officer.get(answer["Location"]))
    assert "2 leerlingen, berekend uit het logboek" in page
    # A board not the officer's cannot be chosen.
    refused = officer.post(
        reverse("incidents:new"),
        {
            "board": world.board_b.pk,
            "description": "x",
            "detected_at": "2026-12-01T10:00",
            "window_from": "2026-12-01T09:00",
            "window_to": "2026-12-01T10:00",
        },
    )
    assert refused.status_code == 200
    assert Incident.objects.count() == 1
