"""The portal's first page: the children whose rights this login exercises."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ..access import children, portal_required


@portal_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html", {"children": children(request)})
