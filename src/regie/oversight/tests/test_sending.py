"""Sending a report to the sector: a real HTTP server on the loopback address answering 201,
409, 400, 500 or nothing at all. Nothing is lost (a failure is retried with the same note) and
nothing is duplicated (the same sequence every time; 409 counts as delivered)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from regie.audit.models import AuditEvent
from regie.conftest import free_port
from regie.jobs.services import queued
from regie.transparency import keys

from .. import reports, sending
from ..jobs import send_report, weekly_report
from ..models import AggregateReport, SectorAnswer
from .world import Sector, World, make_world, sector_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(rng: random.Random) -> World:
    return make_world(rng, pupils=5)


@pytest.fixture
def sector() -> Iterator[Sector]:
    with sector_server() as running:
        yield running


def made() -> AggregateReport:
    now = timezone.now()
    return reports.make(*reports.last_week(now), now=now)


def test_accepted_once_and_the_job_does_not_send_again(world: World, sector: Sector) -> None:
    report = made()
    with override_settings(OVERSIGHT_URL=sector.url):
        send_report(report=report.pk)
        send_report(report=report.pk)
    report.refresh_from_db()
    assert report.answer == SectorAnswer.ACCEPTED
    assert report.answer_status == 201
    assert report.sent_at is not None
    assert report.attempts == 1
    assert sector.bodies == [report.note.encode()]
    assert sector.content_types == ["text/plain; charset=utf-8"]
    assert reports.verify(sector.bodies[0].decode(), keys.verifier())["sequence"] == 1


def test_a_server_error_is_retried_with_the_same_note(world: World, sector: Sector) -> None:
    report = made()
    sector.status = 500
    with override_settings(OVERSIGHT_URL=sector.url), pytest.raises(sending.SendFailed):
        send_report(report=report.pk)
    report.refresh_from_db()
    assert (report.answer, report.answer_status, report.attempts) == (SectorAnswer.FAILED, 500, 1)
    assert "the sector says no" in report.answer_reason
    sector.status = 201
    with override_settings(OVERSIGHT_URL=sector.url):
        send_report(report=report.pk)
    report.refresh_from_db()
    assert (report.answer, report.attempts) == (SectorAnswer.ACCEPTED, 2)
    assert sector.bodies == [report.note.encode()] * 2
    assert AggregateReport.objects.count() == 1


def test_a_sequence_the_sector_has_already_counts_as_delivered(
    world: World, sector: Sector
) -> None:
    report = made()
    sector.status = 409
    with override_settings(OVERSIGHT_URL=sector.url):
        outcome = sending.send(report)
    assert outcome.delivered
    report.refresh_from_db()
    assert (report.answer, report.answer_status) == (SectorAnswer.ACCEPTED, 409)
    sent = AuditEvent.objects.get(event_type="oversight.report.sent")
    assert sent.details == {
        "sequence": 1,
        "attempt": 1,
        "status": 409,
        "error": "",
        "delivered": True,
    }


def test_a_refusal_is_kept_with_its_reason_and_not_retried(world: World, sector: Sector) -> None:
    report = made()
    sector.status = 400
    with override_settings(OVERSIGHT_URL=sector.url):
        send_report(report=report.pk)  # no exception: sending again would not help
    report.refresh_from_db()
    assert (report.answer, report.answer_status) == (SectorAnswer.REFUSED, 400)
    assert report.answer_reason == "Refused: the sector says no"


def test_a_sector_that_is_down_is_a_failure_to_retry(world: World) -> None:
    report = made()
    url = f"http://127.0.0.1:{free_port()}/sector/api/reports"
    with override_settings(OVERSIGHT_URL=url), pytest.raises(sending.SendFailed):
        send_report(report=report.pk)
    report.refresh_from_db()
    assert (report.answer, report.answer_status, report.attempts) == (SectorAnswer.FAILED, None, 1)
    assert report.sent_at is None


def test_without_an_address_the_report_is_made_not_sent(world: World) -> None:
    report = made()
    with override_settings(OVERSIGHT_URL=""):
        outcome = sending.send(report)
    assert not outcome.delivered
    report.refresh_from_db()
    assert (report.answer, report.attempts) == (SectorAnswer.NOT_SENT, 0)


def test_the_weekly_job_makes_the_past_week_once_and_defers_the_send(
    world: World, sector: Sector
) -> None:
    monday = dt.datetime(2026, 12, 7, 2, 15, tzinfo=dt.UTC)
    with override_settings(OVERSIGHT_URL=sector.url):
        weekly_report(timestamp=int(monday.timestamp()))
        weekly_report(timestamp=int(monday.timestamp()) + 60)
    report = AggregateReport.objects.get()
    assert (report.period_start, report.period_end) == (dt.date(2026, 11, 30), dt.date(2026, 12, 6))
    assert report.sequence == 1
    assert queued(send_report, {"report": report.pk}) == 1
    assert sector.bodies == []  # the worker sends it


def test_the_command_makes_and_sends(
    world: World, sector: Sector, capsys: pytest.CaptureFixture[str]
) -> None:
    with override_settings(OVERSIGHT_URL=sector.url):
        call_command("report", "make", "--send")
        sector.status = 409
        call_command("report", "make", "--send")  # the same report again: the sector has it
    out = capsys.readouterr().out
    assert "report 1 " in out
    assert "the sector answered 201" in out
    assert AggregateReport.objects.count() == 1
    assert len(sector.bodies) == 1  # accepted already: not offered again


def test_the_command_fails_with_the_reason(world: World, sector: Sector) -> None:
    sector.status = 403
    with override_settings(OVERSIGHT_URL=sector.url), pytest.raises(CommandError, match="403"):
        call_command("report", "make", "--send")
    sector.status = 500
    with override_settings(OVERSIGHT_URL=sector.url), pytest.raises(CommandError, match="500"):
        call_command("report", "make", "--send")
