"""The intake of signed aggregate reports (``POST /sector/api/reports``).

One function per check, in the order the design gives (docs/oversight.md): the content type,
the size, the note's format (C2SP signed-note), the signer's key name is a registered active hub,
the signature verifies with that hub's vkey, the header line, canonical JSON (RFC 8785), ``hub``
is the hub's origin, the ``format``, the strict schema, impossible numbers, and replay. A check
that fails raises :class:`Refused` with the HTTP status and a reason; :func:`receive` records the
refusal (never the body) and the view only translates it into an RFC 9457 problem.

Reasons name the field (``boards[0].receipts[1].on_time``), never a value.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import rfc8785
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy

from regie.audit import signed_note
from regie.audit.services import SYSTEM, record

from .events import REPORT_ACCEPTED, REPORT_REFUSED
from .models import Hub, Refusal, Report

MAX_BYTES = 512 * 1024
HEADER = "regie aggregate report v1"
FORMAT = "regie-aggregate-report/1"
FUTURE_SLACK = dt.timedelta(minutes=5)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")

# The reasons, by code: Dutch msgids (English in the .po), parameters by name.
REASONS: dict[str, Promise] = {
    "content-type": gettext_lazy("Het rapport moet als text/plain; charset=utf-8 komen."),
    "too-large": gettext_lazy("Het rapport is groter dan %(limit)s bytes."),
    "malformed-note": gettext_lazy("Het rapport is geen geldige ondertekende notitie."),
    "unknown-hub": gettext_lazy(
        "Het rapport is niet ondertekend door een aangemelde, actieve hub."
    ),
    "bad-signature": gettext_lazy("De handtekening van het rapport klopt niet."),
    "header": gettext_lazy(
        "De eerste regel moet '%(header)s' zijn, en er volgt precies één regel."
    ),
    "not-json": gettext_lazy("De tweede regel is geen JSON."),
    "not-canonical": gettext_lazy("De JSON is niet canoniek (RFC 8785)."),
    "wrong-hub": gettext_lazy("Het veld hub is niet de naam van de sleutel die ondertekende."),
    "format": gettext_lazy("Het veld format moet '%(format)s' zijn."),
    "schema": gettext_lazy(
        "Het veld %(field)s ontbreekt, is onbekend of heeft het verkeerde type."
    ),
    "impossible": gettext_lazy("Het getal in %(field)s kan niet: %(rule)s."),
    "replay-sequence": gettext_lazy(
        "Volgnummer %(sequence)s is niet hoger dan het laatst aanvaarde (%(last)s)."
    ),
    "replay-body": gettext_lazy("Dit rapport is al eerder ontvangen."),
}


class Refused(Exception):
    """A report the intake refuses: the HTTP status, a code, and the reason's parameters."""

    def __init__(self, status: int, code: str, **params: Any) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.params = params
        self.hub: Hub | None = None  # set by accept() when the signer is known
        self.sha256 = ""

    @property
    def reason(self) -> str:
        return reason_text(self.code, self.params)


def reason_text(code: str, params: Mapping[str, Any]) -> str:
    """The reason of a refusal in the active language."""
    message = REASONS.get(code)
    if message is None:
        return code
    return gettext(str(message)) % dict(params) if params else gettext(str(message))


@dataclass
class Received:
    """What the checks learnt so far about one request's body."""

    body: bytes
    sha256: str
    hub: Hub | None = None
    text: bytes = b""
    signatures: tuple[signed_note.Signature, ...] = ()
    report: dict[str, Any] = field(default_factory=dict)


# --- the checks, in order ----------------------------------------------------------------------


def check_content_type(content_type: str) -> None:
    media, _sep, parameters = content_type.partition(";")
    charset = parameters.strip().lower().replace(" ", "")
    if media.strip().lower() != "text/plain" or charset not in ("", "charset=utf-8"):
        raise Refused(415, "content-type")


def check_size(body: bytes) -> None:
    if len(body) > MAX_BYTES:
        raise Refused(413, "too-large", limit=MAX_BYTES)


def check_note(received: Received) -> None:
    """The C2SP signed-note format: UTF-8 text ending in a newline, a blank line, signature lines
    (read by ``signed_note``'s own parser, line by line)."""
    data = received.body
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "malformed-note") from None
    split = decoded.rfind("\n\n")
    if (
        split < 0
        or not decoded.endswith("\n")
        or any(ord(char) < 0x20 and char != "\n" for char in decoded)
    ):
        raise Refused(400, "malformed-note")
    text, block = decoded[: split + 1], decoded[split + 2 :]
    try:
        # the signature lines alone, through the spec's parser (the text may be larger than its
        # limit for a log's notes)
        signatures = signed_note.parse_note(b"x\n\n" + block.encode()).signatures
    except signed_note.NoteError:
        raise Refused(400, "malformed-note") from None
    received.text, received.signatures = text.encode(), signatures


def check_hub(received: Received) -> None:
    names = {signature.name for signature in received.signatures}
    hub = Hub.objects.filter(origin__in=names, active=True).order_by("pk").first()
    if hub is None:
        raise Refused(403, "unknown-hub")
    received.hub = hub


def hub_of(received: Received) -> Hub:
    if received.hub is None:  # check_hub comes first
        raise Refused(403, "unknown-hub")
    return received.hub


def check_signature(received: Received) -> None:
    try:
        verifier = signed_note.verifier_from_vkey(hub_of(received).vkey)
    except signed_note.NoteError:
        raise Refused(403, "bad-signature") from None
    mine = [
        signature
        for signature in received.signatures
        if signature.name == verifier.name and signature.key_id == verifier.key_id
    ]
    if not mine or not all(verifier.verify(received.text, s.signature) for s in mine):
        raise Refused(403, "bad-signature")


def check_header(received: Received) -> str:
    lines = received.text.decode().split("\n")
    if len(lines) != 3 or lines[0] != HEADER or lines[2] != "":
        raise Refused(400, "header", header=HEADER)
    return lines[1]


def check_canonical(line: str) -> dict[str, Any]:
    try:
        report = json.loads(line)
    except ValueError:
        raise Refused(400, "not-json") from None
    if not isinstance(report, dict):
        raise Refused(400, "schema", field="$")
    try:
        canonical = rfc8785.dumps(report).decode()
    except (rfc8785.CanonicalizationError, ValueError, TypeError):
        raise Refused(400, "not-canonical") from None
    if canonical != line:
        raise Refused(400, "not-canonical")
    return report


def check_origin(received: Received) -> None:
    if received.report.get("hub") != hub_of(received).origin:
        raise Refused(403, "wrong-hub")


def check_format(report: Mapping[str, Any]) -> None:
    if report.get("format") != FORMAT:
        raise Refused(400, "format", format=FORMAT)


# --- the strict schema -------------------------------------------------------------------------

Check = Callable[[Any, str], None]


def _schema_error(path: str) -> Refused:
    return Refused(400, "schema", field=path)


def count(value: Any, path: str) -> None:
    """A count: an integer ≥ 0, or null where suppressed."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise _schema_error(path)
    if value < 0:
        raise Refused(400, "impossible", field=path, rule=gettext("kleiner dan 0"))


def text(value: Any, path: str) -> None:
    if not isinstance(value, str) or not value:
        raise _schema_error(path)


def optional_text(value: Any, path: str) -> None:
    if value is not None:
        text(value, path)


def day(value: Any, path: str) -> None:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise _schema_error(path)
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise _schema_error(path) from None


def instant(value: Any, path: str) -> None:
    if not isinstance(value, str) or not _INSTANT.fullmatch(value):
        raise _schema_error(path)
    try:
        dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _schema_error(path) from None


def median(value: Any, path: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise _schema_error(path)


def positive(value: Any, path: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _schema_error(path)


def texts(value: Any, path: str) -> None:
    if not isinstance(value, list):
        raise _schema_error(path)
    for index, item in enumerate(value):
        text(item, f"{path}[{index}]")


def obj(**fields: Check) -> Check:
    def check(value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise _schema_error(path or "$")
        for name in value:
            if name not in fields:
                raise _schema_error(f"{path}.{name}" if path else name)
        for name, inner in fields.items():
            where = f"{path}.{name}" if path else name
            if name not in value:
                raise _schema_error(where)
            inner(value[name], where)

    return check


def array(item: Check) -> Check:
    def check(value: Any, path: str) -> None:
        if not isinstance(value, list):
            raise _schema_error(path)
        for index, element in enumerate(value):
            item(element, f"{path}[{index}]")

    return check


BOARD = obj(
    board=obj(name=text, number=text, sectors=texts),
    pupils=obj(active=count, with_pseudonym=count),
    agreements=array(obj(supplier=text, status=text, count=count)),
    releases_beyond_pseudonym=array(
        obj(supplier=text, attribute=text, category=text, pupils=count)
    ),
    consents=obj(in_force=count, withdrawn_in_period=count),
    requests=obj(open=count, closed_in_period=count, overdue=count, median_days=median),
    retention=obj(
        runs_in_period=count,
        pupils_deleted_in_period=count,
        receipts_outstanding=count,
        receipts_overdue=count,
    ),
    receipts=array(
        obj(
            supplier=text,
            orders_in_period=count,
            on_time=count,
            late=count,
            outstanding=count,
            overdue=count,
        )
    ),
    canaries=array(obj(supplier=text, failures=count)),
    incidents=obj(
        registered_in_period=count,
        open=count,
        notified=count,
        notified_in_time=count,
        not_notified=count,
        by_source=array(obj(supplier=optional_text, count=count)),
    ),
)

REPORT = obj(
    format=text,
    hub=text,
    sequence=positive,
    issued_at=instant,
    period=obj(start=day, end=day),
    suppression=obj(method=text, k=positive, rule=text),
    boards=array(BOARD),
    suppliers=array(obj(kvk=text, name=text, convenant=text)),
)


def check_schema(report: Mapping[str, Any]) -> None:
    REPORT(report, "")


# --- impossible numbers ------------------------------------------------------------------------


def _more(part: Mapping[str, Any], larger: str, smaller: str, path: str, rule: str) -> None:
    """Refuse when ``part[smaller]`` (neither null) exceeds ``part[larger]``."""
    low, high = part[smaller], part[larger]
    if low is not None and high is not None and low > high:
        raise Refused(400, "impossible", field=f"{path}.{smaller}", rule=rule)


def check_numbers(report: Mapping[str, Any], now: dt.datetime) -> None:
    period = report["period"]
    if period["start"] > period["end"]:
        raise Refused(400, "impossible", field="period.start", rule=gettext("na period.end"))
    issued = dt.datetime.fromisoformat(report["issued_at"].replace("Z", "+00:00"))
    if issued > now + FUTURE_SLACK:
        raise Refused(400, "impossible", field="issued_at", rule=gettext("in de toekomst"))
    known = {supplier["kvk"] for supplier in report["suppliers"]}
    for index, board in enumerate(report["boards"]):
        check_board(board, f"boards[{index}]", known)


def check_board(board: Mapping[str, Any], path: str, known: set[str]) -> None:
    _more(
        board["pupils"],
        "active",
        "with_pseudonym",
        f"{path}.pupils",
        gettext("meer dan pupils.active"),
    )
    _more(board["requests"], "open", "overdue", f"{path}.requests", gettext("meer dan open"))
    _more(
        board["incidents"],
        "notified",
        "notified_in_time",
        f"{path}.incidents",
        gettext("meer dan notified"),
    )
    _more(
        board["retention"],
        "receipts_outstanding",
        "receipts_overdue",
        f"{path}.retention",
        gettext("meer dan receipts_outstanding"),
    )
    for index, receipt in enumerate(board["receipts"]):
        where = f"{path}.receipts[{index}]"
        parts = [receipt[name] for name in ("on_time", "late", "outstanding")]
        orders = receipt["orders_in_period"]
        if orders is not None and None not in parts and sum(parts) != orders:
            raise Refused(
                400,
                "impossible",
                field=f"{where}.orders_in_period",
                rule=gettext("niet de som van on_time, late en outstanding"),
            )
        _more(receipt, "outstanding", "overdue", where, gettext("meer dan outstanding"))
    for name in ("agreements", "releases_beyond_pseudonym", "receipts", "canaries"):
        for index, item in enumerate(board[name]):
            if item["supplier"] not in known:
                raise Refused(
                    400,
                    "impossible",
                    field=f"{path}.{name}[{index}].supplier",
                    rule=gettext("niet in suppliers"),
                )
    for index, item in enumerate(board["incidents"]["by_source"]):
        if item["supplier"] is not None and item["supplier"] not in known:
            raise Refused(
                400,
                "impossible",
                field=f"{path}.incidents.by_source[{index}].supplier",
                rule=gettext("niet in suppliers"),
            )


def check_replay(hub: Hub, report: Mapping[str, Any], sha256: str) -> None:
    """Called with the hub's row locked: the sequence must exceed the last accepted one, and the
    same body is never accepted twice."""
    if Report.objects.filter(sha256=sha256).exists():
        raise Refused(409, "replay-body")
    last = hub.reports.order_by("-sequence").values_list("sequence", flat=True).first()
    if last is not None and report["sequence"] <= last:
        raise Refused(409, "replay-sequence", sequence=report["sequence"], last=last)


# --- the whole intake --------------------------------------------------------------------------


def accept(content_type: str, body: bytes, now: dt.datetime | None = None) -> Report:
    """Run every check; the accepted report, or :class:`Refused`."""
    now = now or timezone.now()
    check_content_type(content_type)
    check_size(body)
    received = Received(body=body, sha256=hashlib.sha256(body).hexdigest())
    try:
        check_note(received)
        check_hub(received)
        check_signature(received)
        line = check_header(received)
        received.report = check_canonical(line)
        check_origin(received)
        check_format(received.report)
        check_schema(received.report)
        check_numbers(received.report, now)
        return store(received, now)
    except Refused as refusal:
        refusal.hub, refusal.sha256 = received.hub, received.sha256
        raise


def store(received: Received, now: dt.datetime) -> Report:
    report = received.report
    with transaction.atomic():
        hub = Hub.objects.select_for_update().get(pk=hub_of(received).pk)
        check_replay(hub, report, received.sha256)
        stored = Report.objects.create(
            hub=hub,
            sequence=report["sequence"],
            issued_at=dt.datetime.fromisoformat(report["issued_at"].replace("Z", "+00:00")),
            period_start=dt.date.fromisoformat(report["period"]["start"]),
            period_end=dt.date.fromisoformat(report["period"]["end"]),
            received_at=now,
            note=received.body.decode(),
            sha256=received.sha256,
            content=report,
        )
        record(
            REPORT_ACCEPTED,
            SYSTEM,
            details={"hub": hub.pk, "sequence": stored.sequence, "sha256": stored.sha256},
        )
    return stored


def receive(content_type: str, body: bytes) -> Report:
    """:func:`accept`, recording a refusal (hub if known, status, reason, SHA-256) before raising
    it again. A refusal changes no report."""
    try:
        return accept(content_type, body)
    except Refused as refusal:
        hub = refusal.hub
        sha256 = refusal.sha256 or hashlib.sha256(body).hexdigest()
        with transaction.atomic():
            Refusal.objects.create(
                hub=hub,
                status=refusal.status,
                code=refusal.code,
                params={key: str(value) for key, value in refusal.params.items()},
                sha256=sha256,
            )
            record(
                REPORT_REFUSED,
                SYSTEM,
                details={
                    "hub": hub.pk if hub is not None else None,
                    "status": refusal.status,
                    "code": refusal.code,
                    "sha256": sha256,
                },
            )
        raise
