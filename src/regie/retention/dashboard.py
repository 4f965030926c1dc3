"""Retention's lines on the privacy officer's dashboard (``agreements``' "what needs doing"):
pupils the hub deletes in the next 30 days, the legal holds in force, and the suppliers that
named a canary after confirming its deletion (a breach of the agreement) — counts, linked to
retention's pages. Registered in :class:`regie.retention.apps.RetentionConfig`."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from regie.agreements.services import TodoLine
from regie.agreements.services import User as Login
from regie.roster import services as roster

from . import clock, due
from .models import CanarySighting, LegalHold

COMING_DAYS = 30


def pupils_coming(board_id: int, today: dt.date) -> int:
    """Pupils the hub deletes by ``today`` + 30 days (not held, not deleted yet)."""
    until = today + dt.timedelta(days=COMING_DAYS)
    return sum(
        1
        for item in due.pupils(board_id, today=today, until=until)
        if not item.blocked and not item.hub_done and item.due_on <= until
    )


def breaching_suppliers(boards: list[int]) -> int:
    """How many suppliers named a canary of ``boards`` after confirming its deletion."""
    return (
        CanarySighting.objects.filter(canary__board_id__in=boards, breach=True)
        .values("supplier_id")
        .distinct()
        .count()
    )


def dashboard_lines(user: Login) -> list[TodoLine]:
    boards = sorted(roster.access_for(user).register_boards)
    if not boards:
        return []
    today = clock.today()
    return [
        TodoLine(
            _("Leerlingen die de hub de komende 30 dagen verwijdert"),
            reverse("retention:overview"),
            sum(pupils_coming(board_id, today) for board_id in boards),
        ),
        TodoLine(
            _("Bewaarplichten (legal holds) die gelden"),
            reverse("retention:holds"),
            LegalHold.objects.filter(board_id__in=boards, lifted_at__isnull=True).count(),
        ),
        TodoLine(
            _("Leveranciers die een verwijderd controlegeval nog gebruikten (schending)"),
            reverse("retention:canaries"),
            breaching_suppliers(boards),
        ),
    ]
