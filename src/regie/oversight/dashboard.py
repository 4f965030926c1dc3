"""Oversight's lines on the privacy officer's dashboard (``agreements``' "what needs doing"): the
data breaches that still need a decision or a notification to the AP, and those of them past the
72-hour deadline. Registered in :class:`regie.oversight.apps.OversightConfig`."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from regie.agreements.services import TodoLine
from regie.agreements.services import User as Login
from regie.roster import services as roster

from .incidents import open_incidents


def dashboard_lines(user: Login) -> list[TodoLine]:
    boards = sorted(roster.access_for(user).register_boards)
    if not boards:
        return []
    waiting = open_incidents(boards)
    return [
        TodoLine(
            _("Datalekken die wachten op een besluit of een melding bij de AP"),
            reverse("incidents:list"),
            waiting.count(),
        ),
        TodoLine(
            _("Datalekken waarvan de termijn van 72 uur verstreken is"),
            reverse("incidents:list"),
            waiting.filter(deadline__lt=timezone.now()).count(),
        ),
    ]
