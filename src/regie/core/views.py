from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from regie.core.models import School


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html", {"role": settings.ROLE})


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for load balancers. Says nothing else."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "role": settings.ROLE})


# The date of the accessibility statement: change it when the statement is reviewed.
ACCESSIBILITY_STATEMENT_DATE = date(2026, 12, 6)


@require_safe
def accessibility(request: HttpRequest) -> HttpResponse:
    """The accessibility statement (toegankelijkheidsverklaring): public, every deployable."""
    return render(
        request, "core/accessibility.html", {"statement_date": ACCESSIBILITY_STATEMENT_DATE}
    )


@require_safe
def privacy_statements(request: HttpRequest) -> HttpResponse:
    """Public: every school's privacy statement, by board (names of schools only)."""
    schools = School.objects.select_related("board").order_by("board__name", "name", "pk")
    return render(request, "core/privacy_statements.html", {"schools": schools})
