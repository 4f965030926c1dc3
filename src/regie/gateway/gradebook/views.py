"""The teacher's results page: what suppliers sent back for the pupils of the teacher's groups."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from regie.roster import services as roster

from ..models import Result


@roster.access_required(roster.Access.teaches)
def results(request: HttpRequest) -> HttpResponse:
    """Results of pupils in the active groups the logged-in user teaches (teacher role in an
    active staff membership); nobody else's, and 403 for anyone who teaches no group."""
    found = (
        Result.objects.filter(student__groups__in=roster.taught_groups(request.user))
        .select_related("student", "product", "line_item")
        .distinct()
        .order_by("student__achternaam", "student__pk", "-score_date", "-pk")
    )
    return render(request, "gateway/results.html", {"results": found[:1000]})
