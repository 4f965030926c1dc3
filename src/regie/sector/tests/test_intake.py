"""The intake (``POST /sector/api/reports``): every refusal answers its status with a reason,
is recorded as a refusal and changes no report; a good report is accepted once."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Any

import orjson
import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from regie.audit import signed_note
from regie.audit.models import AuditEvent
from regie.sector import services
from regie.sector.intake import MAX_BYTES
from regie.sector.models import Hub, Refusal, Report

from .reports import LEESLAND, make_report, note_text, register, sign, with_report

pytestmark = pytest.mark.django_db

TEXT = "text/plain; charset=utf-8"


def post(body: bytes, content_type: str = TEXT) -> tuple[int, dict[str, Any]]:
    response = Client().post(reverse("sector:intake"), body, content_type=content_type)
    return response.status_code, orjson.loads(response.content)


def state() -> list[tuple[int, int, str]]:
    return list(Report.objects.values_list("hub_id", "sequence", "sha256").order_by("pk"))


def test_it_accepts_a_good_report_and_keeps_it_with_its_hash() -> None:
    hub, signer = register()
    body = sign(make_report(hub.origin, 1), signer)
    status, answer = post(body)
    assert (status, answer) == (201, {"accepted": 1})
    report = Report.objects.get()
    assert report.hub == hub
    assert report.sha256 == hashlib.sha256(body).hexdigest()
    assert report.note.encode() == body
    assert report.content["boards"][0]["pupils"]["active"] == 120
    assert (report.period_start, report.period_end) == (dt.date(2026, 11, 30), dt.date(2026, 12, 6))
    assert AuditEvent.objects.filter(event_type="sector.report.accepted").count() == 1
    status, answer = post(sign(make_report(hub.origin, 2), signer))
    assert (status, answer) == (201, {"accepted": 2})


def hand_signed_note(text: bytes, name: str, key: Ed25519PrivateKey) -> bytes:
    """C2SP signed-note, written out from the spec: the text, a blank line, and
    ``— <name> base64(key ID ‖ signature)``, the key ID being
    ``SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]``."""
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    key_id = hashlib.sha256(name.encode() + b"\n" + b"\x01" + public).digest()[:4]
    signature = base64.b64encode(key_id + key.sign(text)).decode()
    return text + b"\n" + f"\u2014 {name} {signature}\n".encode()


def test_it_accepts_a_note_signed_by_an_independent_signer_from_the_spec() -> None:
    key = Ed25519PrivateKey.generate()
    name = "hub-b.example/log"
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    key_id = hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4]
    material = base64.b64encode(bytes([1]) + public).decode()
    vkey = f"{name}+{key_id.hex()}+{material}"
    services.register_hub("Hub B", vkey)
    text = f"regie aggregate report v1\n{rfc8785.dumps(make_report(name)).decode()}\n".encode()
    assert post(hand_signed_note(text, name, key)) == (201, {"accepted": 1})
    # and a byte changed after signing is refused by the same intake
    tampered = hand_signed_note(text, name, key).replace(b'"active":120', b'"active":121')
    status, _answer = post(tampered)
    assert status == 403


# --- refusals: each changes nothing --------------------------------------------------------------

Case = Callable[[Hub, signed_note.Signer], tuple[bytes, str]]


def good(target: Hub, signer: signed_note.Signer, **overrides: Any) -> bytes:
    return sign(with_report(make_report(target.origin, 2), **overrides), signer)


def bad_signature(hub: Hub, signer: signed_note.Signer) -> tuple[bytes, str]:
    other = signed_note.generate_signer(hub.origin)  # the same name, another key
    return sign(make_report(hub.origin, 2), other), TEXT


def unknown_hub(hub: Hub, signer: signed_note.Signer) -> tuple[bytes, str]:
    stranger = signed_note.generate_signer("stranger.example/log")
    return sign(make_report("stranger.example/log", 2), stranger), TEXT


def deactivated_hub(hub: Hub, signer: signed_note.Signer) -> tuple[bytes, str]:
    services.deactivate_hub(hub.origin)
    return good(hub, signer), TEXT


def replayed_sequence(hub: Hub, signer: signed_note.Signer) -> tuple[bytes, str]:
    return sign(make_report(hub.origin, 1, **{"boards.0.pupils.active": 130}), signer), TEXT


def replayed_body(hub: Hub, signer: signed_note.Signer) -> tuple[bytes, str]:
    return Report.objects.get().note.encode(), TEXT


def older_sequence(hub: Hub, signer: signed_note.Signer) -> tuple[bytes, str]:
    assert post(sign(make_report(hub.origin, 2), signer))[0] == 201
    return sign(make_report(hub.origin, 1, **{"period.end": "2026-12-07"}), signer), TEXT


def not_canonical(hub: Hub, signer: signed_note.Signer) -> tuple[bytes, str]:
    spaced = orjson.dumps(make_report(hub.origin, 2), option=orjson.OPT_INDENT_2).decode()
    line = spaced.replace("\n", " ")
    return signed_note.sign_note(f"regie aggregate report v1\n{line}\n".encode(), signer), TEXT


def wrong_header(hub: Hub, signer: signed_note.Signer) -> tuple[bytes, str]:
    text = note_text(make_report(hub.origin, 2)).replace(b"report v1", b"report v2", 1)
    return signed_note.sign_note(text, signer), TEXT


def wrong_format(hub: Hub, signer: signed_note.Signer) -> tuple[bytes, str]:
    return good(hub, signer, format="regie-aggregate-report/2"), TEXT


def wrong_hub(hub: Hub, signer: signed_note.Signer) -> tuple[bytes, str]:
    return good(hub, signer, **{"hub": "hub-other.example/log"}), TEXT


def unknown_key(hub: Hub, signer: signed_note.Signer) -> tuple[bytes, str]:
    return good(hub, signer, **{"boards.0.pupils.names": 3}), TEXT


def too_large(hub: Hub, signer: signed_note.Signer) -> tuple[bytes, str]:
    report = make_report(hub.origin, 2)
    report["boards"] = report["boards"] * 600
    body = sign(report, signer)
    assert len(body) > MAX_BYTES
    return body, TEXT


def wrong_content_type(hub: Hub, signer: signed_note.Signer) -> tuple[bytes, str]:
    return good(hub, signer), "application/json"


def not_a_note(hub: Hub, signer: signed_note.Signer) -> tuple[bytes, str]:
    return note_text(make_report(hub.origin, 2)), TEXT


REFUSALS: list[tuple[str, Case, int, str]] = [
    ("bad signature", bad_signature, 403, "report-bad-signature"),
    ("unknown hub", unknown_hub, 403, "report-unknown-hub"),
    ("deactivated hub", deactivated_hub, 403, "report-unknown-hub"),
    ("replay by sequence", replayed_sequence, 409, "report-replay-sequence"),
    ("replay by identical body", replayed_body, 409, "report-replay-body"),
    ("replay of an older sequence", older_sequence, 409, "report-replay-sequence"),
    ("non-canonical JSON", not_canonical, 400, "report-not-canonical"),
    ("wrong header line", wrong_header, 400, "report-header"),
    ("wrong format", wrong_format, 400, "report-format"),
    ("hub is not the signer", wrong_hub, 403, "report-wrong-hub"),
    ("unknown key (strict schema)", unknown_key, 400, "report-schema"),
    ("too large", too_large, 413, "report-too-large"),
    ("wrong content type", wrong_content_type, 415, "report-content-type"),
    ("not a signed note", not_a_note, 400, "report-malformed-note"),
]


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [pytest.param(case, status, code, id=name) for name, case, status, code in REFUSALS],
)
def test_it_refuses_with_the_reason_and_changes_nothing(case: Case, status: int, code: str) -> None:
    hub, signer = register()
    assert post(sign(make_report(hub.origin, 1), signer))[0] == 201
    body, content_type = case(hub, signer)
    before = state()
    got, problem = post(body, content_type)
    assert (got, problem["type"]) == (status, f"urn:regie:problem:{code}"), problem
    assert problem["status"] == status
    assert problem["detail"]
    assert state() == before
    refusal = Refusal.objects.get()
    assert (refusal.status, f"report-{refusal.code}") == (status, code)
    # the hash of what was read: at most one byte past the limit
    assert refusal.sha256 == hashlib.sha256(body[: MAX_BYTES + 1]).hexdigest()
    assert AuditEvent.objects.filter(event_type="sector.report.refused").count() == 1


# --- impossible numbers: one case per rule --------------------------------------------------------

FUTURE = (timezone.now() + dt.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
IMPOSSIBLE: list[tuple[str, dict[str, Any], str]] = [
    ("negative count", {"boards.0.consents.in_force": -1}, "boards[0].consents.in_force"),
    ("non-integer count", {"boards.0.pupils.active": 12.5}, "boards[0].pupils.active"),
    ("count as text", {"boards.0.requests.open": "6"}, "boards[0].requests.open"),
    ("count as boolean", {"boards.0.requests.open": True}, "boards[0].requests.open"),
    (
        "with_pseudonym > active",
        {"boards.0.pupils.with_pseudonym": 121},
        "boards[0].pupils.with_pseudonym",
    ),
    ("requests overdue > open", {"boards.0.requests.overdue": 7}, "boards[0].requests.overdue"),
    (
        "notified_in_time > notified",
        {"boards.0.incidents.notified_in_time": 3},
        "boards[0].incidents.notified_in_time",
    ),
    (
        "receipts do not add up",
        {"boards.0.receipts.0.late": 4},
        "boards[0].receipts[0].orders_in_period",
    ),
    (
        "receipts overdue > outstanding",
        {"boards.0.receipts.0.overdue": 2},
        "boards[0].receipts[0].overdue",
    ),
    (
        "retention receipts overdue > outstanding",
        {"boards.0.retention.receipts_overdue": 4},
        "boards[0].retention.receipts_overdue",
    ),
    ("period start after end", {"period.start": "2026-12-07"}, "period.start"),
    ("issued in the future", {"issued_at": FUTURE}, "issued_at"),
    (
        "supplier missing from suppliers",
        {"suppliers": [{"kvk": LEESLAND, "name": "Leesland B.V.", "convenant": "joined"}]},
        "boards[0].agreements[0].supplier",
    ),
    (
        "incident source missing from suppliers",
        {"boards.0.incidents.by_source.0.supplier": "90000009"},
        "boards[0].incidents.by_source[0].supplier",
    ),
    ("a date that is no date", {"period.end": "2026-02-30"}, "period.end"),
    ("a sequence of 0", {"sequence": 0}, "sequence"),
]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [pytest.param(overrides, field, id=name) for name, overrides, field in IMPOSSIBLE],
)
def test_it_refuses_impossible_numbers_naming_the_field(
    overrides: dict[str, Any], field: str
) -> None:
    hub, signer = register()
    assert post(sign(make_report(hub.origin, 1), signer))[0] == 201
    before = state()
    status, problem = post(sign(with_report(make_report(hub.origin, 2), **overrides), signer))
    assert status == 400, problem
    assert f" {field} " in problem["detail"] or problem["detail"].endswith(f" {field}"), problem
    assert state() == before


def test_suppressed_counts_are_accepted_and_their_sums_skip_no_rule() -> None:
    hub, signer = register()
    report = with_report(
        make_report(hub.origin),
        **{"boards.0.pupils.active": None, "boards.0.receipts.0.late": None},
    )
    assert post(sign(report, signer)) == (201, {"accepted": 1})


def test_the_reason_is_english_for_an_english_client() -> None:
    hub, signer = register()
    response = Client().post(
        reverse("sector:intake"),
        sign(make_report(hub.origin, 1, **{"boards.0.requests.overdue": 9}), signer),
        content_type=TEXT,
        headers={"accept-language": "en"},
    )
    assert response.status_code == 400
    assert orjson.loads(response.content)["detail"] == (
        "The number in boards[0].requests.overdue is impossible: more than open."
    )
