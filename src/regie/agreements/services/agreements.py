"""Processing agreements: creating, changing, the lifecycle, deviations, offers and adoption."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.contrib.auth.models import User as AuthUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from regie.audit.services import actor_for, record
from regie.core.models import Board

from .. import events
from ..models import (
    AgreementStatus,
    DataSchedule,
    Deviation,
    Processing,
    ProcessingAgreement,
    Product,
    Subprocessor,
    Supplier,
)
from ..signals import agreement_status_changed
from .common import Joined, Refused, apply_changes, full_clean_or_refuse
from .declarations import DECLARING_TRANSITIONS, declare_after_commit
from .obligations import require_dpias
from .proofs import check_proof

AGREEMENT_FIELDS = (
    "title",
    "model",
    "version",
    "board_signatory",
    "board_signatory_role",
    "board_signed_on",
    "supplier_signatory",
    "supplier_signatory_role",
    "supplier_signed_on",
    "start_date",
    "end_date",
)


@transaction.atomic
def create_agreement(
    board: Board | None,
    supplier: Supplier,
    values: Mapping[str, Any],
    *,
    user: AuthUser | None,
    status: str = AgreementStatus.DRAFT,
    how: str = "form",
) -> ProcessingAgreement:
    """A new agreement in ``draft`` (or an offer, ``board`` None, in ``offered``)."""
    unknown = set(values) - set(AGREEMENT_FIELDS)
    if unknown:
        raise Refused(
            _("Onbekende velden van de overeenkomst: %(fields)s."),
            fields=", ".join(sorted(unknown)),
        )
    if board is None:
        status = AgreementStatus.OFFERED
    elif status not in {AgreementStatus.DRAFT, AgreementStatus.OFFERED}:
        raise Refused(
            _(
                "Een nieuwe overeenkomst begint als concept of aanbod. Daarna ondertekent u haar "
                "en zet u haar op actief."
            )
        )
    agreement = ProcessingAgreement(board=board, supplier=supplier, status=status)
    apply_changes(agreement, values)
    full_clean_or_refuse(agreement)
    _check_dates(agreement)
    agreement.save()
    record(
        events.AGREEMENT_CREATED,
        actor_for(user),
        f"agreement:{agreement.pk}",
        {"board": board.pk if board else None, "supplier": supplier.pk, "how": how},
    )
    return agreement


def _check_dates(agreement: ProcessingAgreement) -> None:
    if agreement.start_date and agreement.end_date and agreement.end_date < agreement.start_date:
        raise Refused(_("De einddatum ligt voor de begindatum."), field="end_date")


def require_editable(agreement: ProcessingAgreement) -> None:
    if not agreement.is_editable:
        raise Refused(
            _(
                "De overeenkomst heeft de status ‘%(status)s’. Alleen een concept of een aanbod "
                "kunt u wijzigen. Maak in plaats daarvan een nieuwe versie."
            ),
            status=AgreementStatus(agreement.status).label,
        )


# Signatures and dates may still be filled in on a signed agreement (before activation).
SIGNATURE_FIELDS = frozenset(
    {
        "board_signatory",
        "board_signatory_role",
        "board_signed_on",
        "supplier_signatory",
        "supplier_signatory_role",
        "supplier_signed_on",
        "start_date",
        "end_date",
    }
)


@transaction.atomic
def update_agreement(
    agreement: ProcessingAgreement, values: Mapping[str, Any], *, user: AuthUser | None
) -> list[str]:
    unknown = set(values) - set(AGREEMENT_FIELDS)
    if unknown:
        raise Refused(
            _("Onbekende velden van de overeenkomst: %(fields)s."),
            fields=", ".join(sorted(unknown)),
        )
    agreement = ProcessingAgreement.objects.select_for_update().get(pk=agreement.pk)
    changing = {name for name, value in values.items() if getattr(agreement, name) != value}
    if agreement.status == AgreementStatus.SIGNED and changing <= SIGNATURE_FIELDS:
        pass
    elif changing:
        require_editable(agreement)
    changed = apply_changes(agreement, values)
    full_clean_or_refuse(agreement)
    _check_dates(agreement)
    if changed:
        agreement.save()
        record(
            events.AGREEMENT_CHANGED,
            actor_for(user),
            f"agreement:{agreement.pk}",
            {"fields": sorted(changed)},
        )
    return changed


@transaction.atomic
def add_deviation(
    agreement: ProcessingAgreement, clause: str, text: str, reason: str, *, user: AuthUser | None
) -> Deviation:
    require_editable(agreement)
    if not clause.strip() or not text.strip():
        raise Refused(_("Een afwijking noemt het artikel en wat er afwijkt."), field="text")
    if not reason.strip():
        raise Refused(_("Een afwijking van het model heeft een reden nodig."), field="reason")
    deviation = Deviation.objects.create(
        agreement=agreement, clause=clause.strip(), text=text.strip(), reason=reason.strip()
    )
    record(
        events.AGREEMENT_CHANGED,
        actor_for(user),
        f"agreement:{agreement.pk}",
        {"deviation_added": deviation.pk},
    )
    return deviation


# The lifecycle: draft → offered → signed → active → terminated → data destroyed.
TRANSITIONS: Mapping[str, frozenset[str]] = {
    AgreementStatus.DRAFT: frozenset({AgreementStatus.OFFERED}),
    AgreementStatus.OFFERED: frozenset({AgreementStatus.DRAFT, AgreementStatus.SIGNED}),
    AgreementStatus.SIGNED: frozenset({AgreementStatus.ACTIVE, AgreementStatus.TERMINATED}),
    AgreementStatus.ACTIVE: frozenset({AgreementStatus.TERMINATED}),
    AgreementStatus.TERMINATED: frozenset({AgreementStatus.DATA_DESTROYED}),
    AgreementStatus.DATA_DESTROYED: frozenset(),
}


@transaction.atomic
def transition(
    agreement: ProcessingAgreement,
    to: str,
    *,
    user: AuthUser | None,
    on: date | None = None,
    proof: str = "",
) -> ProcessingAgreement:
    """Move the agreement one step along its lifecycle, or refuse with the reason.

    The step to "data destroyed" takes the ``proof`` that the supplier destroyed the data
    (``<kind>:<id>``, :mod:`.proofs`): its completed receipt, or a statement recorded otherwise;
    there is no such step by hand (retention takes it, as the system, on the receipt).

    A step that can change the suppliers the hub obtains pseudonyms for (to signed, active,
    terminated, data destroyed) declares them to the number service once committed
    (:mod:`.declarations`); a number service that is down does not stop the step. Every step is
    announced with :data:`regie.agreements.signals.agreement_status_changed`, in its transaction.
    """
    day = on or timezone.localdate()
    agreement = ProcessingAgreement.objects.select_for_update().get(pk=agreement.pk)
    before = agreement.status
    check_transition(agreement, to, day, proof=proof)
    if to == AgreementStatus.TERMINATED:
        agreement.terminated_on = day
        if agreement.end_date is None or agreement.end_date > day:
            agreement.end_date = day
    if to == AgreementStatus.DATA_DESTROYED:
        agreement.data_destroyed_on = day
    agreement.status = to
    agreement.save()
    details = {"from": before, "to": to, "on": day.isoformat()}
    if proof:
        details["proof"] = proof
    record(
        events.AGREEMENT_STATUS_CHANGED,
        actor_for(user),
        f"agreement:{agreement.pk}",
        details,
    )
    if to in DECLARING_TRANSITIONS:
        declare_after_commit()
    agreement_status_changed.send(
        sender=ProcessingAgreement, agreement=agreement, before=before, to=to
    )
    return agreement


def check_transition(
    agreement: ProcessingAgreement, to: str, day: date, *, proof: str = ""
) -> None:
    """The rules of one step along the lifecycle, checked without changing anything: raises
    :class:`Refused` with the reason when :func:`transition` would refuse it (pages offer only
    the steps that pass; "data destroyed" never passes there, for it takes the supplier's
    ``proof``)."""
    before = agreement.status
    if agreement.is_offer:
        raise Refused(
            _("Een aanbod wordt niet zelf ondertekend. Neem het eerst over voor uw bestuur.")
        )
    if to not in TRANSITIONS.get(before, frozenset()):
        raise Refused(
            _("Een overeenkomst kan niet van ‘%(before)s’ naar ‘%(to)s’."),
            before=_status_label(before),
            to=_status_label(to),
        )
    if to == AgreementStatus.OFFERED and not agreement.schedules.exists():
        raise Refused(_("Een aanbod heeft een privacybijsluiter voor ten minste één product."))
    if to in {AgreementStatus.SIGNED, AgreementStatus.ACTIVE}:
        _require_signatures(agreement)
        signed = [agreement.board_signed_on, agreement.supplier_signed_on]
        if any(when is not None and when > day for when in signed):
            raise Refused(
                _("De datum van een handtekening kan niet in de toekomst liggen."),
                field="board_signed_on",
            )
    if to == AgreementStatus.ACTIVE:
        _require_activatable(agreement, day)
    ended = agreement.terminated_on
    if to == AgreementStatus.DATA_DESTROYED and ended is not None and day < ended:
        raise Refused(
            _("De gegevens kunnen pas worden vernietigd als de overeenkomst is beëindigd.")
        )
    if to == AgreementStatus.DATA_DESTROYED:
        check_proof(agreement, proof)


def _status_label(status: str) -> object:
    """The status as a person reads it (its label), or the value when it is no status."""
    return AgreementStatus(status).label if status in AgreementStatus.values else status


def _require_signatures(agreement: ProcessingAgreement) -> None:
    missing = [
        label
        for label, value in (
            (_("ondertekenaar van het bestuur"), agreement.board_signatory),
            (_("datum van ondertekening door het bestuur"), agreement.board_signed_on),
            (_("ondertekenaar van de leverancier"), agreement.supplier_signatory),
            (_("datum van ondertekening door de leverancier"), agreement.supplier_signed_on),
        )
        if not value
    ]
    if missing:
        raise Refused(
            _("Niet ondertekend. Dit ontbreekt nog: %(missing)s."),
            field="board_signatory",
            missing=Joined(missing),
        )


def _require_activatable(agreement: ProcessingAgreement, day: date) -> None:
    if agreement.start_date is None:
        raise Refused(_("Een actieve overeenkomst heeft een begindatum."), field="start_date")
    if agreement.start_date > day:
        raise Refused(_("De overeenkomst begint later. Zet haar op actief op de begindatum."))
    if agreement.end_date is not None and agreement.end_date < day:
        raise Refused(_("De einddatum van de overeenkomst is voorbij."))
    if not agreement.schedules.exists():
        raise Refused(
            _("Een overeenkomst zonder privacybijsluiter kan niet op actief worden gezet.")
        )
    if agreement.board_id is not None:
        products = Product.objects.filter(schedules__agreement=agreement).distinct()
        require_dpias(agreement.board_id, products)
    other = (
        ProcessingAgreement.objects.filter(
            board=agreement.board, supplier=agreement.supplier, status=AgreementStatus.ACTIVE
        )
        .exclude(pk=agreement.pk)
        .first()
    )
    if other is not None:
        raise Refused(
            _(
                "Het bestuur heeft al een actieve overeenkomst met deze leverancier "
                "(%(title)s, versie %(version)s). Beëindig die eerst."
            ),
            title=other.title,
            version=other.version,
        )


# --- offers and adoption -------------------------------------------------------------------------


@transaction.atomic
def adopt_offer(
    offer: ProcessingAgreement, board: Board, *, user: AuthUser | None
) -> ProcessingAgreement:
    """Copy a supplier's published offer into an agreement of ``board`` (status ``offered``)."""
    if not offer.is_offer or offer.status != AgreementStatus.OFFERED:
        raise Refused(_("Alleen een gepubliceerd aanbod van een leverancier kunt u overnemen."))
    agreement = ProcessingAgreement.objects.create(
        board=board,
        supplier=offer.supplier,
        title=offer.title,
        model=offer.model,
        version=offer.version,
        status=AgreementStatus.OFFERED,
        adopted_from=offer,
    )
    copy_contents(offer, agreement)
    record(
        events.AGREEMENT_ADOPTED,
        actor_for(user),
        f"agreement:{agreement.pk}",
        {"offer": offer.pk, "board": board.pk},
    )
    return agreement


def copy_contents(source: ProcessingAgreement, target: ProcessingAgreement) -> None:
    """Deviations, schedules, processings and subprocessors of ``source``, onto ``target``."""
    for deviation in source.deviations.all():
        Deviation.objects.create(
            agreement=target, clause=deviation.clause, text=deviation.text, reason=deviation.reason
        )
    for schedule in source.schedules.prefetch_related("processings", "subprocessors"):
        copy = DataSchedule.objects.create(
            agreement=target,
            product=schedule.product,
            breach_notification_hours=schedule.breach_notification_hours,
            destruction_days=schedule.destruction_days,
        )
        Processing.objects.bulk_create(
            Processing(
                schedule=copy,
                purpose=item.purpose,
                subjects=item.subjects,
                attributes=item.attributes,
                sources=item.sources,
                retention_period=item.retention_period,
                retention_unit=item.retention_unit,
                retention_trigger=item.retention_trigger,
            )
            for item in schedule.processings.all()
        )
        Subprocessor.objects.bulk_create(
            Subprocessor(
                schedule=copy,
                name=item.name,
                kvk=item.kvk,
                location=item.location,
                transfer_mechanism=item.transfer_mechanism,
            )
            for item in schedule.subprocessors.all()
        )
