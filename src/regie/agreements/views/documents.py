"""Documents from the register: the public privacy statement per school, and the art. 30 register.

The privacy statement is for parents and pupils: public, for any school, on the web and in a
print layout. The art. 30 register is the board's own record: board editors only, as a CSV or
JSON download.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from regie.core.models import School

from .. import documents
from .common import board_or_404, board_register_page

ART30_FORMATS: Final[dict[str, tuple[Callable[[list[documents.Art30Row]], str], str]]] = {
    "csv": (documents.as_csv, "text/csv; charset=utf-8"),
    "json": (documents.as_json, "application/json; charset=utf-8"),
}


@board_register_page
@require_safe
def art30_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The board's register of processing activities (``?board=`` among the user's boards)."""
    if fmt not in ART30_FORMATS:
        raise Http404
    board = board_or_404(request, request.GET.get("board"))
    serialise, content_type = ART30_FORMATS[fmt]
    body = serialise(documents.processing_register(board))
    name = f"verwerkingsregister-{board.bestuursnummer}-{timezone.localdate().isoformat()}.{fmt}"
    response = HttpResponse(body.encode("utf-8"), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _statement(school_id: int) -> dict[str, object]:
    school = get_object_or_404(School.objects.select_related("board"), pk=school_id)
    return {"school": school, "statement": documents.privacy_statement(school)}


@require_safe
def privacy_statement(request: HttpRequest, school_id: int) -> HttpResponse:
    """Public: parents and pupils read it without logging in."""
    return render(request, "agreements/privacy_statement.html", _statement(school_id))


@require_safe
def privacy_statement_print(request: HttpRequest, school_id: int) -> HttpResponse:
    """The same statement in a print layout: no navigation, nothing that opens by itself."""
    return render(request, "agreements/privacy_statement_print.html", _statement(school_id))
