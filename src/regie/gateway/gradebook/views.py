"""The teacher's results page: what suppliers sent back for the pupils of the teacher's groups."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from regie.roster.models import Group

from ..models import Result
from ..teachers import teaching


@login_required
def results(request: HttpRequest) -> HttpResponse:
    """Results of pupils in the active groups the logged-in user teaches (teacher role in an
    active staff membership); nobody else's."""
    groups = Group.objects.filter(teachers__in=teaching(request.user), is_active=True)
    found = (
        Result.objects.filter(student__groups__in=groups)
        .select_related("student", "product", "line_item")
        .distinct()
        .order_by("student__achternaam", "student__pk", "-score_date", "-pk")
    )
    return render(request, "gateway/results.html", {"results": found[:1000]})
