"""The board's obligations: DPIA screenings and the participation council's decisions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.contrib.auth.models import User as AuthUser
from django.db import transaction
from django.utils import timezone

from regie.audit.services import actor_for, record
from regie.core.models import Board

from .. import dpia, events
from ..models import (
    CouncilDecision,
    DpiaScreening,
    Product,
)
from .common import Refused

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
        raise Refused(f"unknown DPIA criteria: {', '.join(unknown)}", field="criteria")
    screening, _ = DpiaScreening.objects.update_or_create(
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
            f"the decision is one of {', '.join(CouncilDecision.Decision.values)}",
            field="decision",
        )
    if not document_version.strip():
        raise Refused("name the version of the document the council decided on", field="version")
    if decided_on > timezone.localdate():
        raise Refused("a decision cannot lie in the future", field="decided_on")
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
