"""Creating a board's draft agreement, or a supplier's offer, from a document (one transaction)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from regie.core.models import Board

from .. import services
from ..models import ProcessingAgreement, Product, Supplier
from .document import (
    AgreementDocument,
    DocumentRefused,
    Problem,
    ScheduleDoc,
    SignatoriesDoc,
    refusal,
)


def import_agreement(
    document: AgreementDocument, board: Board, *, user: User | None
) -> ProcessingAgreement:
    """A new *draft* agreement of ``board`` from ``document`` (whatever status the file names)."""
    return _create(document, board, user)


def publish_offer(document: AgreementDocument, *, user: User | None) -> ProcessingAgreement:
    """A supplier's published offer (no board, status ``offered``) that any board can adopt."""
    problems = [
        Problem(
            f"agreement.{name}",
            _("een aanbod wordt pas na het overnemen door een bestuur ondertekend en gedateerd"),
        )
        for name, present in (
            ("signatories", document.agreement.signatories != SignatoriesDoc()),
            ("start_date", document.agreement.start_date is not None),
            ("end_date", document.agreement.end_date is not None),
        )
        if present
    ]
    if problems:
        raise DocumentRefused(problems)
    return _create(document, None, user)


def _create(
    document: AgreementDocument, board: Board | None, user: User | None
) -> ProcessingAgreement:
    where = "supplier"
    try:
        with transaction.atomic():
            supplier = Supplier.objects.filter(kvk=document.supplier.kvk).first()
            if supplier is None:
                supplier = services.save_supplier(document.supplier.values(), user=user)
            products: dict[str, Product] = {}
            for index, item in enumerate(document.products):
                where = f"products[{index}]"
                product = supplier.products.filter(name=item.name).first()
                products[item.name] = product or services.save_product(
                    supplier, item.values(), user=user
                )
            where = "agreement"
            agreement = services.create_agreement(
                board, supplier, document.agreement.values(), user=user, how="file"
            )
            for index, deviation in enumerate(document.deviations):
                where = f"deviations[{index}]"
                services.add_deviation(
                    agreement, deviation.clause, deviation.text, deviation.reason, user=user
                )
            for index, schedule in enumerate(document.schedules):
                where = f"schedules[{index}]"
                _create_schedule(agreement, products[schedule.product], schedule, where, user)
    except services.Refused as error:
        raise refusal(where, error.message, error.params) from None
    return agreement


def _create_schedule(
    agreement: ProcessingAgreement,
    product: Product,
    item: ScheduleDoc,
    where: str,
    user: User | None,
) -> None:
    schedule = services.save_schedule(
        agreement,
        product,
        breach_notification_hours=item.breach_notification_hours,
        destruction_days=item.destruction_days,
        user=user,
    )
    for processing in item.processings:
        services.add_processing(
            schedule,
            purpose=processing.purpose,
            subjects=[subject.value for subject in processing.subjects],
            attributes=list(processing.attributes),
            sources=processing.sources,
            retention_period=processing.retention.period,
            retention_unit=processing.retention.unit.value,
            retention_trigger=processing.retention.trigger.value,
            user=user,
        )
    for subprocessor in item.subprocessors:
        services.add_subprocessor(
            schedule,
            name=subprocessor.name,
            kvk=subprocessor.kvk,
            location=subprocessor.location,
            transfer_mechanism=subprocessor.transfer_mechanism.value,
            user=user,
        )
