"""Sending an aggregate report to the sector dashboard (``settings.OVERSIGHT_URL``).

The signed note is the body (``text/plain; charset=utf-8``). ``201`` is accepted; ``409`` means
the sector has this sequence already (an earlier attempt got through): delivered too. Another
``4xx`` is a refusal with the sector's reason (RFC 9457 problem), not retried; a ``5xx`` or no
answer is a failure the job retries. The same report is always sent with its own sequence.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from regie.audit.services import SYSTEM, record

from . import events
from .models import AggregateReport, SectorAnswer

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
REASON_LENGTH = 500


class SendFailed(Exception):
    """The sector could not be reached or answered with a server error: try again later."""


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    status: int | None
    reason: str


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:REASON_LENGTH]
    if isinstance(body, dict):
        parts = [str(body[key]) for key in ("title", "detail") if body.get(key)]
        return ": ".join(parts)[:REASON_LENGTH]
    return str(body)[:REASON_LENGTH]


def _save(report: AggregateReport, answer: str, status: int | None, reason: str) -> None:
    changes: dict[str, object] = {
        "answer": answer,
        "answer_status": status,
        "answer_reason": reason,
    }
    if answer == SectorAnswer.ACCEPTED:
        changes["sent_at"] = timezone.now()
    AggregateReport.objects.filter(pk=report.pk).update(**changes)
    for key, value in changes.items():
        setattr(report, key, value)


def send(report: AggregateReport, url: str | None = None) -> Outcome:
    """Offer ``report`` to the sector once and record its answer. Raises :class:`SendFailed` when
    the sector is down or answers 5xx (the answer is recorded first)."""
    target = url if url is not None else str(settings.OVERSIGHT_URL)
    if not target:
        return Outcome(False, None, "REGIE_OVERSIGHT_URL is not set: the report is not sent")
    with transaction.atomic():
        AggregateReport.objects.filter(pk=report.pk).update(attempts=F("attempts") + 1)
    report.refresh_from_db(fields=["attempts"])
    try:
        response = httpx.post(
            target,
            content=report.note.encode(),
            headers={"content-type": "text/plain; charset=utf-8"},
            timeout=TIMEOUT,
            follow_redirects=False,
        )
    except httpx.HTTPError as error:
        reason = f"the sector could not be reached ({type(error).__name__})"
        if report.answer != SectorAnswer.ACCEPTED:
            _save(report, SectorAnswer.FAILED, None, reason)
        _log(report, None, type(error).__name__, delivered=False)
        raise SendFailed(reason) from None
    status = response.status_code
    reason = "" if status in (200, 201) else _reason(response)
    if status in (200, 201, 409):
        if report.answer != SectorAnswer.ACCEPTED:
            _save(report, SectorAnswer.ACCEPTED, status, reason)
        _log(report, status, "", delivered=True)
        return Outcome(True, status, reason)
    if report.answer != SectorAnswer.ACCEPTED:
        answer = SectorAnswer.FAILED if status >= 500 else SectorAnswer.REFUSED
        _save(report, answer, status, reason)
    _log(report, status, "", delivered=False)
    if status >= 500 or status in (408, 429):
        raise SendFailed(f"the sector answered {status}: {reason}")
    return Outcome(False, status, reason)


def _log(report: AggregateReport, status: int | None, error: str, *, delivered: bool) -> None:
    record(
        events.REPORT_SENT,
        SYSTEM,
        f"report:{report.sequence}",
        {
            "sequence": report.sequence,
            "attempt": report.attempts,
            "status": status,
            "error": error,
            "delivered": delivered,
        },
    )
