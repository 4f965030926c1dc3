"""The orders' background jobs: delivering an order (one attempt per job) and chasing overdue
ones.

Delivery is at least once and idempotent. An attempt row, unique per (order, number), claims
the attempt: a finished attempt is never sent again; one claimed by a worker that is still
sending is left to it (the job checks again when the claim runs out); one whose worker was
killed mid-send is sent again once its claim ran out — the supplier is idempotent by order id.
The body is the stored bytes; the signature (and ``webhook-timestamp``) is made per attempt.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import time

import httpx
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from regie.agreements.services import Refused
from regie.audit.services import SYSTEM, record
from regie.gateway import keys
from regie.jobs.registry import job
from regie.lib import supplier_orders
from regie.lib.logging import get_logger

from . import events, services
from .models import DeliveryAttempt, Order

logger = get_logger(__name__)

CLAIM_MARGIN = 5


@functools.cache
def http() -> httpx.Client:
    """One HTTP client per process: its TLS context (the CA bundle, about 20 ms to load) and its
    connections are reused from order to order. No redirects: an order goes where it was sent."""
    return httpx.Client(follow_redirects=False)


def claim_seconds() -> int:
    """How long a worker holds an attempt it sends: the answer's timeout and a margin."""
    return int(settings.ORDER_TIMEOUT_SECONDS) * 2 + CLAIM_MARGIN


def attempt_row(order: Order, number: int) -> DeliveryAttempt:
    """The attempt's row, made by the first worker that gets here."""
    try:
        with transaction.atomic():
            row, _ = DeliveryAttempt.objects.get_or_create(
                order=order, number=number, defaults={"started_at": timezone.now()}
            )
    except IntegrityError:
        row = DeliveryAttempt.objects.get(order=order, number=number)
    return row


def claim(row: DeliveryAttempt) -> bool:
    """Take the unfinished attempt for this worker (a conditional update: one worker wins)."""
    now = timezone.now()
    return bool(
        DeliveryAttempt.objects.filter(pk=row.pk, finished_at__isnull=True)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(
            claimed_until=now + dt.timedelta(seconds=claim_seconds()),
            sends=F("sends") + 1,
        )
    )


@job("orders.deliver", retries=8, backoff=2)
def deliver(order: str, attempt: int) -> None:
    """Attempt ``attempt`` to deliver ``order`` to its supplier's endpoint.

    A supplier that fails is handled here (the next attempt, or ``failed``); what raises is the
    hub's own trouble, such as a database connection cut mid-job: the queue runs the job again
    (with back-off, for about eight minutes), the unfinished attempt is sent again once its claim
    ran out, and the supplier, idempotent by order id, hands back the same receipts."""
    item = Order.objects.select_related("supplier").filter(pk=order).first()
    if item is None or not services.attempt_due(item):
        return
    row = attempt_row(item, attempt)
    if row.finished_at is not None:
        return
    if not claim(row):
        row.refresh_from_db()
        if row.finished_at is None and row.claimed_until is not None:
            wait = (row.claimed_until - timezone.now()).total_seconds()
            deliver.defer_in(max(1, math.ceil(wait) + 1), order=order, attempt=attempt)
        return
    endpoint = services.endpoint_for(item.supplier)
    if endpoint is None:
        failed(item, row, "no endpoint")
        return
    kid, private_key = keys.order_signing_key()
    body = bytes(item.body)
    headers = supplier_orders.sign_order_request(
        url=endpoint.url,
        body=body,
        order_id=str(item.pk),
        private_key=private_key,
        key_id=kid,
        now=int(time.time()),
    )
    try:
        response = http().post(
            endpoint.url,
            content=body,
            headers=headers,
            timeout=settings.ORDER_TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as error:
        failed(item, row, type(error).__name__)
        return
    if not response.is_success:
        failed(item, row, f"HTTP {response.status_code}", response.status_code)
        return
    tokens = receipts_in(response)
    if tokens is None:
        failed(item, row, "unreadable answer", response.status_code)
        return
    delivered(item, row, response.status_code, tokens)


def receipts_in(response: httpx.Response) -> list[str] | None:
    """The receipts handed back in a 2xx answer; None when the answer is garbage."""
    if not response.content.strip():
        return []
    try:
        answer = json.loads(response.content)
    except (ValueError, UnicodeError):
        return None
    if not isinstance(answer, dict):
        return None
    tokens = answer.get("receipts", [])
    if not isinstance(tokens, list) or not all(isinstance(token, str) for token in tokens):
        return None
    return tokens


def delivered(item: Order, row: DeliveryAttempt, status: int, tokens: list[str]) -> None:
    with transaction.atomic():
        DeliveryAttempt.objects.filter(pk=row.pk).update(
            finished_at=timezone.now(),
            status_code=status,
            outcome=f"HTTP {status}",
            delivered=True,
            claimed_until=None,
        )
        try:
            services.transition(item, "delivered", why=f"attempt {row.number}")
        except Refused:  # cancelled while it was sent
            logger.info("orders.delivered_after_change", order=str(item.pk))
    for token in tokens:
        try:
            services.record_receipt(token, via="response")
        except services.ReceiptRefused:
            continue  # audited; the order stays as it was


def failed(item: Order, row: DeliveryAttempt, outcome: str, status: int | None = None) -> None:
    schedule = settings.ORDER_RETRY_SCHEDULE
    following = row.number + 1 if row.number < len(schedule) else None
    with transaction.atomic():
        DeliveryAttempt.objects.filter(pk=row.pk).update(
            finished_at=timezone.now(),
            status_code=status,
            outcome=outcome[:100],
            claimed_until=None,
        )
        record(
            events.ORDER_ATTEMPT_FAILED,
            SYSTEM,
            subject=f"order:{item.pk}",
            details={
                "attempt": row.number,
                "outcome": outcome,
                "next_in_seconds": schedule[row.number] if following else None,
            },
        )
        if following is not None:
            deliver.defer_in(schedule[row.number], order=str(item.pk), attempt=following)
            return
        try:
            services.transition(item, "failed", why=f"attempt {row.number}")
        except Refused:
            logger.info("orders.failed_after_change", order=str(item.pk))


@job("orders.chase")
def chase(timestamp: int) -> None:
    """Orders past their deadline without a completed or refused receipt become overdue."""
    services.chase(dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).date())
