"""The board's page about legacy named data (motion 9): per supplier, what it registered, what
was converted, whether its destruction statement came, and what is still outstanding."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from regie.roster import services as roster

from . import legacy
from .views import board_register_page


@board_register_page
def legacy_overview(request: HttpRequest) -> HttpResponse:
    boards = sorted(roster.access_for(request.user).register_boards)
    lines = legacy.overview(boards)
    rows = [
        (line, [(item, legacy.statement(item)) for item in line.registrations]) for line in lines
    ]
    return render(request, "retention/legacy.html", {"rows": rows})
