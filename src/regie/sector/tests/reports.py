"""Builders for the sector's tests: a valid aggregate report (the design's format), its signed
note, and a registered hub with its signing key. All data is fictional."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import rfc8785
from django.utils import timezone

from regie.audit import signed_note
from regie.sector import services
from regie.sector.intake import FORMAT, HEADER
from regie.sector.models import Hub

REKENWERELD = "90000001"
LEESLAND = "90000002"


def make_report(origin: str, sequence: int = 1, **overrides: Any) -> dict[str, Any]:
    issued = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=1)
    report: dict[str, Any] = {
        "format": FORMAT,
        "hub": origin,
        "sequence": sequence,
        "issued_at": issued.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "period": {"start": "2026-11-30", "end": "2026-12-06"},
        "suppression": {
            "method": "threshold",
            "k": 5,
            "rule": "counts of persons from 1 to k-1 are null; 0 and counts of k or more are exact",
        },
        "boards": [
            {
                "board": {"name": "Stichting Voorbeeld", "number": "41XY", "sectors": ["po"]},
                "pupils": {"active": 120, "with_pseudonym": 110},
                "agreements": [
                    {"supplier": REKENWERELD, "status": "active", "count": 2},
                    {"supplier": LEESLAND, "status": "draft", "count": 1},
                ],
                "releases_beyond_pseudonym": [
                    {
                        "supplier": REKENWERELD,
                        "attribute": "givenName",
                        "category": "user.name",
                        "pupils": 37,
                    },
                    {
                        "supplier": LEESLAND,
                        "attribute": "birthDate",
                        "category": "user.demographic.date_of_birth",
                        "pupils": None,
                    },
                ],
                "consents": {"in_force": 12, "withdrawn_in_period": None},
                "requests": {"open": 6, "closed_in_period": 5, "overdue": 2, "median_days": 12.5},
                "retention": {
                    "runs_in_period": 1,
                    "pupils_deleted_in_period": 8,
                    "receipts_outstanding": 3,
                    "receipts_overdue": 1,
                },
                "receipts": [
                    {
                        "supplier": REKENWERELD,
                        "orders_in_period": 9,
                        "on_time": 5,
                        "late": 3,
                        "outstanding": 1,
                        "overdue": 1,
                    }
                ],
                "canaries": [{"supplier": REKENWERELD, "failures": 1}],
                "incidents": {
                    "registered_in_period": 3,
                    "open": 1,
                    "notified": 2,
                    "notified_in_time": 1,
                    "not_notified": 1,
                    "by_source": [
                        {"supplier": REKENWERELD, "count": 2},
                        {"supplier": None, "count": 1},
                    ],
                },
            }
        ],
        "suppliers": [
            {"kvk": REKENWERELD, "name": "Rekenwereld B.V.", "convenant": "joined"},
            {"kvk": LEESLAND, "name": "Leesland B.V.", "convenant": "not_joined"},
        ],
    }
    for path, value in overrides.items():
        set_path(report, path, value)
    return report


def set_path(report: dict[str, Any], path: str, value: Any) -> None:
    """Set ``boards.0.pupils.active`` (dotted, list indexes as numbers) to ``value``."""
    *parents, last = path.split(".")
    target: Any = report
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value


def note_text(report: dict[str, Any]) -> bytes:
    return f"{HEADER}\n{rfc8785.dumps(report).decode()}\n".encode()


def sign(report: dict[str, Any], signer: signed_note.Signer) -> bytes:
    return signed_note.sign_note(note_text(report), signer)


def register(
    name: str = "Hub Voorbeeld", origin: str = "hub-a.example/log"
) -> tuple[Hub, signed_note.Signer]:
    signer = signed_note.generate_signer(origin)
    return services.register_hub(name, signer.verifier.vkey), signer


def with_report(report: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    changed = copy.deepcopy(report)
    for path, value in overrides.items():
        set_path(changed, path, value)
    return changed
