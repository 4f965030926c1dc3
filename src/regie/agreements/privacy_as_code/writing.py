"""Writing an agreement of the register as a ``regie-agreement/1`` document."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import yaml

from ..models import DataSchedule, ProcessingAgreement
from .document import FORMAT


def _signatory(name: str, role: str, signed_on: date | None) -> dict[str, Any] | None:
    if not (name or role or signed_on):
        return None
    signatory: dict[str, Any] = {"name": name, "role": role}
    if signed_on is not None:
        signatory["signed_on"] = signed_on.isoformat()
    return signatory


def _agreement_fields(agreement: ProcessingAgreement) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "title": agreement.title,
        "model": str(agreement.model),
        "version": agreement.version,
    }
    if not agreement.is_offer:
        fields["status"] = str(agreement.status)
    signatories = {
        party: signatory
        for party, signatory in (
            (
                "board",
                _signatory(
                    agreement.board_signatory,
                    agreement.board_signatory_role,
                    agreement.board_signed_on,
                ),
            ),
            (
                "supplier",
                _signatory(
                    agreement.supplier_signatory,
                    agreement.supplier_signatory_role,
                    agreement.supplier_signed_on,
                ),
            ),
        )
        if signatory is not None
    }
    fields["signatories"] = signatories
    for name in ("start_date", "end_date"):
        day = getattr(agreement, name)
        if day is not None:
            fields[name] = day.isoformat()
    return fields


def _schedule(schedule: DataSchedule) -> dict[str, Any]:
    return {
        "product": schedule.product.name,
        "breach_notification_hours": schedule.breach_notification_hours,
        "destruction_days": schedule.destruction_days,
        "processings": [
            {
                "purpose": processing.purpose,
                "subjects": [str(subject) for subject in processing.subjects],
                "attributes": [str(key) for key in processing.attributes],
                "sources": processing.sources,
                "retention": {
                    "period": processing.retention_period,
                    "unit": str(processing.retention_unit),
                    "trigger": str(processing.retention_trigger),
                },
            }
            for processing in schedule.processings.order_by("pk")
        ],
        "subprocessors": [
            {
                "name": subprocessor.name,
                "kvk": subprocessor.kvk,
                "location": subprocessor.location,
                "transfer_mechanism": str(subprocessor.transfer_mechanism),
            }
            for subprocessor in schedule.subprocessors.order_by("name", "pk")
        ],
    }


def dump_agreement(agreement: ProcessingAgreement) -> dict[str, Any]:
    """The agreement as a ``regie-agreement/1`` document (plain data: text, numbers, lists)."""
    supplier = agreement.supplier
    schedules = list(agreement.schedules.select_related("product").order_by("pk"))
    return {
        "format": FORMAT,
        "supplier": {
            "name": supplier.name,
            "kvk": supplier.kvk,
            "website": supplier.website,
            "contact": {"name": supplier.contact_name, "email": supplier.contact_email},
            "convenant_status": str(supplier.convenant_status),
            "certifications": list(supplier.certifications),
        },
        "products": [
            {
                "name": schedule.product.name,
                "url": schedule.product.url,
                "sector": str(schedule.product.sector),
                "users": str(schedule.product.users),
                "description": schedule.product.description,
            }
            for schedule in schedules
        ],
        "agreement": _agreement_fields(agreement),
        "deviations": [
            {"clause": deviation.clause, "text": deviation.text, "reason": deviation.reason}
            for deviation in agreement.deviations.order_by("pk")
        ],
        "schedules": [_schedule(schedule) for schedule in schedules],
    }


def to_yaml(agreement: ProcessingAgreement) -> str:
    header = f"# {FORMAT}: a processing agreement as code (see docs/privacy-as-code.md)\n"
    return header + yaml.safe_dump(
        dump_agreement(agreement), sort_keys=False, allow_unicode=True, width=100
    )


def to_json(agreement: ProcessingAgreement) -> str:
    return json.dumps(dump_agreement(agreement), indent=2, ensure_ascii=False) + "\n"
