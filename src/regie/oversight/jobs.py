"""Oversight's background jobs: sending a report to the sector (``oversight.send_report``, at
least once, the same sequence every time), the weekly report (``oversight.weekly_report``), and
sending a data breach's notice to the affected pupils' guardians
(``oversight.send_breach_notices``; payload: the incident's id and who asked, never an address)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction

from regie.jobs.registry import job
from regie.jobs.services import queued
from regie.lib.logging import get_logger

from . import reports, sending
from .models import AggregateReport, Incident, SectorAnswer

logger = get_logger(__name__)


@job("oversight.send_report", retries=8, backoff=3)
def send_report(report: int) -> None:
    """Send stored report ``report`` (its id) unless the sector has it already; a failure (the
    sector down, a 5xx) raises, and the queue tries again later with the same note."""
    found = AggregateReport.objects.filter(pk=report).first()
    if found is None or found.answer == SectorAnswer.ACCEPTED:
        return
    outcome = sending.send(found)
    logger.info(
        "oversight.report.sent",
        sequence=found.sequence,
        status=outcome.status,
        delivered=outcome.delivered,
    )


@job("oversight.weekly_report")
def weekly_report(timestamp: int) -> None:
    """The report of the seven days before the tick's day, made (once) and its sending deferred."""
    now = dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)
    start, end = reports.last_week(now)
    with transaction.atomic():
        report = reports.make(start, end, now=now)
        waiting = queued(send_report, {"report": report.pk})
        if settings.OVERSIGHT_URL and report.answer != SectorAnswer.ACCEPTED and not waiting:
            send_report.defer(report=report.pk)


@job("oversight.send_breach_notices", retries=5, backoff=2)
def send_breach_notices(incident: int, actor: str) -> None:
    from .texts import send_now

    with transaction.atomic():
        found = Incident.objects.select_for_update().filter(pk=incident).first()
        if found is not None:
            send_now(found, actor)
