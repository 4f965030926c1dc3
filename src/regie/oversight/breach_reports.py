"""A supplier reports a data breach over the order channel: ``POST /oversight/breaches``.

The body is a compact JWS (``content-type: application/jose``) of type ``regie-breach+jwt``,
signed with a key of the JWKS the supplier registered for its client — verified exactly as a
receipt is (:func:`regie.lib.supplier_orders.verified_payload`). Claims: ``iss`` (the client
id), ``aud`` (this hub's issuer), ``jti`` (unique per supplier; a replay is 409), ``iat``,
``detected_at``, ``description``, ``window`` {``from``, ``to``} (Unix seconds), optional
``categories`` (taxonomy keys) and ``subjects`` (the supplier's own pseudonyms of affected
pupils). It opens an incident at every board of this hub whose pupils it concerns — releases to
this supplier in the window, or the pseudonyms named — and answers ``202`` with
``{"incidents": n}`` (never board names). A bad signature, unknown key or bad claims is an RFC
9457 problem (400/401) with the reason, and nothing is created.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from regie.audit.services import SYSTEM, client_actor, record
from regie.core.models import Board
from regie.gateway.models import OAuthClient
from regie.lib import supplier_orders
from regie.lib.problems import problem_response
from regie.orders.receipts import signed_body

from . import events, incidents
from .models import BreachReport, IncidentSource

MAX_BYTES = 512 * 1024


class ReportRefused(Exception):
    def __init__(self, reason: str, *, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def _refuse(reason: str, status: int = 400) -> ReportRefused:
    record(events.INCIDENT_REPORT_REFUSED, SYSTEM, "", {"reason": reason, "status": status})
    return ReportRefused(reason, status=status)


def _time(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def receive_report(token: str, *, now: int | None = None) -> int:
    """Verify a supplier's breach report and open its incidents; the count opened. Or
    :class:`ReportRefused` (audited; nothing created)."""
    now = int(time.time()) if now is None else now
    try:
        unverified = supplier_orders.receipt_claims_unverified(token)
    except supplier_orders.ReceiptError as error:
        raise _refuse("report is not a compact JWS") from error
    client = (
        OAuthClient.objects.select_related("supplier")
        .filter(client_id=str(unverified.get("iss")), is_active=True)
        .first()
    )
    if client is None:
        raise _refuse("iss is not a registered client", 401)
    try:
        claims = supplier_orders.read_breach_report(
            token, jwks=client.jwks, audience=settings.OIDC_ISSUER, now=now
        )
    except supplier_orders.ReceiptError as error:
        status = 401 if error.reason in ("unknown key id", "signature does not verify") else 400
        raise _refuse(error.reason, status) from error
    supplier = client.supplier
    if BreachReport.objects.filter(supplier=supplier, jti=claims["jti"]).exists():
        raise _refuse("jti seen already (replay)", 409)
    # Whole seconds: the window's end is inclusive, to the end of that second.
    start = _time(claims["window"]["from"])
    end = _time(claims["window"]["to"]) + dt.timedelta(microseconds=999_999)
    named = incidents.named_students(supplier, claims.get("subjects", []))
    boards = Board.objects.filter(
        pk__in=incidents.boards_concerned(supplier, start, end, named)
    ).order_by("pk")
    try:
        with transaction.atomic():
            report = BreachReport.objects.create(
                supplier=supplier, jti=claims["jti"], token=token.strip()
            )
            opened = 0
            for board in boards:
                incidents.register(
                    board,
                    description=claims["description"].strip()[:5000],
                    detected_at=_time(claims["detected_at"]),
                    window=(start, end),
                    supplier=supplier,
                    categories=claims.get("categories", []),
                    source=IncidentSource.SUPPLIER,
                    report_jti=claims["jti"],
                    named=named,
                    subjects_named=len(claims.get("subjects", [])),
                )
                opened += 1
            report.incidents = opened
            report.save(update_fields=["incidents"])
            record(
                events.INCIDENT_REPORT_RECEIVED,
                client_actor(client),
                f"supplier:{supplier.pk}",
                {
                    "supplier": supplier.pk,
                    "incidents": opened,
                    "subjects_named": len(claims.get("subjects", [])),
                },
            )
    except IntegrityError as error:
        raise _refuse("jti seen already (replay)", 409) from error
    return opened


@csrf_exempt
@require_POST
def receive(request: HttpRequest) -> HttpResponse:
    token = signed_body(request, what="breach report", max_bytes=MAX_BYTES)
    if isinstance(token, HttpResponse):
        return token
    try:
        opened = receive_report(token)
    except ReportRefused as refused:
        code = "report-replayed" if refused.status == 409 else "report-refused"
        title = "Report replayed" if refused.status == 409 else "Report refused"
        return problem_response(refused.status, code, title, refused.reason)
    answer: dict[str, Any] = {"incidents": opened}
    return JsonResponse(answer, status=202)
