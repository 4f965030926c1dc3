"""The board's obligations: DPIA screenings and the participation council's decisions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.contrib.auth.models import User as AuthUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from regie.audit.services import actor_for, record
from regie.core.models import Board

from .. import dpia, events
from ..models import (
    CouncilDecision,
    Dpia,
    DpiaOutcome,
    DpiaScreening,
    DpiaWaiver,
    Product,
)
from .common import Joined, Refused, full_clean_or_refuse

# --- DPIA screenings and the participation council -----------------------------------------------


@transaction.atomic
def screen_dpia(
    board: Board,
    product: Product,
    criteria: Iterable[str],
    *,
    notes: str = "",
    user: AuthUser | None,
    on: date | None = None,
) -> DpiaScreening:
    chosen = sorted(set(criteria))
    unknown = [key for key in chosen if key not in dpia.KEYS]
    if unknown:
        raise Refused(
            _("Onbekende criteria van de DPIA-toets: %(criteria)s."),
            field="criteria",
            criteria=", ".join(key[:40] for key in unknown),
        )
    screening, _created = DpiaScreening.objects.update_or_create(
        board=board,
        product=product,
        defaults={
            "criteria": chosen,
            "notes": notes.strip(),
            "screened_on": on or timezone.localdate(),
        },
    )
    record(
        events.DPIA_SCREENED,
        actor_for(user),
        f"product:{product.pk}",
        {"board": board.pk, "criteria": chosen, "dpia_required": screening.dpia_required},
    )
    return screening


def screening_for(board: Board, product: Product) -> DpiaScreening | None:
    return DpiaScreening.objects.filter(board=board, product=product).first()


# --- the DPIA as a step: recorded, or an explicit exception ---------------------------------------

DPIA_FIELDS = ("performed_on", "outcome", "reference", "reviewer_name", "reviewer_role", "notes")


@transaction.atomic
def record_dpia(
    board: Board, product: Product, values: Mapping[str, Any], *, user: AuthUser | None
) -> Dpia:
    """Record (or replace) the board's DPIA of ``product``: date, outcome, the document's
    reference and who reviewed it. Refused: an unknown outcome, a date in the future, a missing
    reference or reviewer."""
    unknown = set(values) - set(DPIA_FIELDS)
    if unknown:
        raise Refused(
            _("Onbekende velden van de DPIA: %(fields)s."), fields=", ".join(sorted(unknown))
        )
    cleaned = {
        name: value.strip() if isinstance(value, str) else value for name, value in values.items()
    }
    if cleaned.get("outcome") not in DpiaOutcome.values:
        raise Refused(_("Kies de uitkomst van de DPIA."), field="outcome")
    performed_on = cleaned.get("performed_on")
    if not isinstance(performed_on, date) or performed_on > timezone.localdate():
        raise Refused(
            _("De datum van de DPIA kan niet in de toekomst liggen."), field="performed_on"
        )
    for name in ("reference", "reviewer_name", "reviewer_role"):
        if not cleaned.get(name):
            raise Refused(
                _("Vul het kenmerk van het document en de beoordelaar (naam en functie) in."),
                field=name,
            )
    item = Dpia.objects.filter(board=board, product=product).first() or Dpia(
        board=board, product=product
    )
    for name, value in cleaned.items():
        setattr(item, name, value)
    item.recorded_by = user
    full_clean_or_refuse(item, exclude=("recorded_by",))
    item.save()
    record(
        events.DPIA_RECORDED,
        actor_for(user),
        f"product:{product.pk}",
        {"board": board.pk, "outcome": item.outcome, "on": item.performed_on.isoformat()},
    )
    return item


@transaction.atomic
def waive_dpia(board: Board, product: Product, reason: str, *, user: AuthUser) -> DpiaWaiver:
    """An explicit exception: the board takes ``product`` into use without a DPIA that allows it,
    for ``reason`` (required). Who and when are kept on the record and in the audit log."""
    reason = reason.strip()
    if not reason:
        raise Refused(_("Een uitzondering op de DPIA heeft een reden nodig."), field="reason")
    waiver, _created = DpiaWaiver.objects.update_or_create(
        board=board, product=product, defaults={"reason": reason, "granted_by": user}
    )
    record(events.DPIA_WAIVED, actor_for(user), f"product:{product.pk}", {"board": board.pk})
    return waiver


def dpia_states(board_id: int, product_ids: Iterable[int]) -> dict[int, dpia.State]:
    """Product → where the board stands with its DPIA (:func:`.dpia.state`), in three queries."""
    wanted = list(product_ids)
    screenings = dict(
        DpiaScreening.objects.filter(board_id=board_id, product_id__in=wanted).values_list(
            "product_id", "criteria"
        )
    )
    outcomes = dict(
        Dpia.objects.filter(board_id=board_id, product_id__in=wanted).values_list(
            "product_id", "outcome"
        )
    )
    waived = set(
        DpiaWaiver.objects.filter(board_id=board_id, product_id__in=wanted).values_list(
            "product_id", flat=True
        )
    )
    return {
        product_id: dpia.state(
            frozenset(screenings[product_id]) if product_id in screenings else None,
            outcomes.get(product_id),
            product_id in waived,
        )
        for product_id in wanted
    }


def require_dpias(board_id: int, products: Iterable[Product]) -> None:
    """Refuse (in the user's language) when a product needs a DPIA the board has not recorded
    with an outcome that allows use, and no exception: the one place this rule is checked."""
    by_id = {product.pk: product for product in products}
    blocked = [
        by_id[product_id].name
        for product_id, found in dpia_states(board_id, by_id).items()
        if found.blocks_use
    ]
    if blocked:
        raise Refused(
            _(
                "Volgens de DPIA-toets is voor %(products)s een DPIA nodig. Leg eerst een DPIA "
                "vast met de uitkomst ‘aanvaardbaar’ of ‘aanvaardbaar met maatregelen’, of een "
                "uitzondering met een reden. Er is niets gewijzigd."
            ),
            products=", ".join(sorted(blocked)),
        )


@transaction.atomic
def record_council_decision(
    board: Board,
    *,
    document_title: str,
    document_version: str,
    decided_on: date,
    decision: str,
    notes: str = "",
    user: AuthUser | None,
) -> CouncilDecision:
    if decision not in CouncilDecision.Decision.values:
        raise Refused(
            _("Het besluit is een van: %(choices)s."),
            field="decision",
            choices=Joined(CouncilDecision.Decision.labels),
        )
    if not document_version.strip():
        raise Refused(
            _("Noem de versie van het document waarover de raad heeft besloten."),
            field="version",
        )
    if decided_on > timezone.localdate():
        raise Refused(_("Een besluit kan niet in de toekomst liggen."), field="decided_on")
    item = CouncilDecision.objects.create(
        board=board,
        document_title=document_title.strip() or "Privacyreglement",
        document_version=document_version.strip(),
        decided_on=decided_on,
        decision=decision,
        notes=notes.strip(),
    )
    record(
        events.COUNCIL_DECISION_RECORDED,
        actor_for(user),
        f"board:{board.pk}",
        {"version": item.document_version, "decision": decision, "on": decided_on.isoformat()},
    )
    return item
