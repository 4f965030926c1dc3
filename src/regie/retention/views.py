"""Retention's pages for the board's register editors (privacy officers, board admins)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from regie.roster import services as roster

board_register_page = roster.access_required(roster.Access.edits_board_register)


@board_register_page
def overview(request: HttpRequest) -> HttpResponse:
    return render(request, "retention/overview.html", {})
