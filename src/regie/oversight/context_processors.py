"""The 72-hour banner on the privacy officer's pages (``/privacy/…``): while a data breach of the
login's boards needs a decision or a notification to the AP, every page there says so, with the
nearest deadline. One query: the login's staff memberships with, per board, the open incidents'
count and nearest deadline; the board counts only where the membership may keep the board's
register (``roster.access``'s rule)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Min, OuterRef, Subquery
from django.http import HttpRequest

from regie.roster.access import BOARD_REGISTER_ROLES
from regie.roster.models import Staff

from .incidents import OPEN
from .models import Incident

PREFIX = "/privacy/"


def incident_banner(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not request.path.startswith(PREFIX):
        return {}
    per_board = Incident.objects.filter(OPEN, board_id=OuterRef("board_id")).values("board_id")
    rows = Staff.objects.filter(user_id=user.pk, is_active=True).values_list(
        "roles",
        Subquery(per_board.annotate(n=Count("pk")).values("n")[:1]),
        Subquery(per_board.annotate(first=Min("deadline")).values("first")[:1]),
    )
    count = 0
    deadlines: list[dt.datetime] = []
    for roles, waiting, deadline in rows:
        if BOARD_REGISTER_ROLES & set(roles) and waiting:
            count += waiting
            deadlines.append(deadline)
    if not count:
        return {}
    return {"incident_banner": {"count": count, "deadline": min(deadlines)}}
