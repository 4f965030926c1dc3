"""The privacy officer's dashboard (what needs doing, and a picture of what goes where), the list
of DPIAs, and recording a DPIA or an exception to it.

For the board-level register users only (privacy officers and board admins, as the register's
agreements): anyone else gets 403, another board's records are never counted or shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from regie.core import datacategories as dc
from regie.core.models import Board
from regie.jobs import services as jobs

from .. import dpia, services
from ..forms import DpiaRecordForm, DpiaWaiverForm, add_refusal
from ..models import AgreementStatus, Dpia, DpiaWaiver, Product, Supplier
from ..services.dashboard import Matrix
from .common import board_or_404, board_register_page, user_of

# The picture's geometry (SVG user units): a label column, then one column per data category.
LABEL_WIDTH = 220
CELL = 44
HEADER = 150
RADIUS = 14


def category_label(category: dc.DataCategory) -> str:
    return category.label_en if (get_language() or "").startswith("en") else category.label_nl


@dataclass(frozen=True)
class Cell:
    x: int
    y: int
    scheduled: bool
    pupils: int
    title: str


@dataclass(frozen=True)
class Picture:
    """The matrix laid out for the SVG template."""

    width: int
    height: int
    columns: list[tuple[int, str]]  # x of the column's centre, label
    rows: list[tuple[int, str, list[Cell]]]  # y of the row's centre, supplier, cells


def picture(matrix: Matrix) -> Picture:
    labels = [category_label(category) for category in matrix.categories]
    columns = [
        (LABEL_WIDTH + CELL * index + CELL // 2, label) for index, label in enumerate(labels)
    ]
    rows = []
    for index, row in enumerate(matrix.rows):
        y = HEADER + CELL * index + CELL // 2
        cells = []
        for (x, label), category in zip(columns, matrix.categories, strict=True):
            scheduled = category.key in row.cells
            pupils = row.cells.get(category.key, 0)
            if not scheduled:
                title = _("%(supplier)s: %(category)s niet in de privacybijsluiter")
            elif pupils:
                title = _("%(supplier)s: %(category)s van %(count)s leerlingen")
            else:
                title = _("%(supplier)s: %(category)s in de privacybijsluiter, nu aan niemand")
            values = {"supplier": row.supplier.name, "category": label, "count": pupils}
            cells.append(Cell(x, y, scheduled, pupils, title % values))
        rows.append((y, row.supplier.name, cells))
    width = LABEL_WIDTH + CELL * max(len(columns), 1)
    height = HEADER + CELL * max(len(rows), 1)
    return Picture(width, height, columns, rows)


@dataclass(frozen=True)
class TableRow:
    supplier: Supplier
    values: list[int | None]  # per category: pupils, or None when the schedules do not name it
    pupils: int


def table(matrix: Matrix) -> list[TableRow]:
    return [
        TableRow(
            row.supplier,
            [row.cells.get(category.key) for category in matrix.categories],
            row.pupils,
        )
        for row in matrix.rows
    ]


@board_register_page
def dashboard(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    matrix, consent = services.flows(user)
    context = {
        "todo": services.todo(user, consent),
        "ending_days": services.ENDING_DAYS,
        "matrix": matrix,
        "labels": [category_label(category) for category in matrix.categories],
        "picture": picture(matrix),
        "table": table(matrix),
        "Status": AgreementStatus,
        "failed_jobs": failed_jobs(),
        # The queue's page is the administrator's (the admin): a link for them only.
        "jobs_url": reverse("admin:jobs_queuedjob_changelist") if user.is_superuser else "",
    }
    return render(request, "agreements/dashboard.html", context)


def failed_jobs() -> int:
    """Background jobs that failed: waiting for a retry, or given up (dead)."""
    overview = jobs.overview()
    return overview.failed + overview.dead


@board_register_page
def dpia_list(request: HttpRequest) -> HttpResponse:
    rows = services.dpia_rows(user_of(request))
    state = request.GET.get("state", "")
    if state in {item.value for item in dpia.State}:
        rows = [row for row in rows if row.state == state]
    else:
        state = ""
    context = {
        "rows": rows,
        "state": state,
        "states": [(item.value, str(dpia.STATE_LABELS[item])) for item in dpia.State],
        "labels": dpia.STATE_LABELS,
    }
    return render(request, "agreements/dpias.html", context)


def _board(request: HttpRequest) -> Board:
    raw = request.POST.get("board") if request.method == "POST" else request.GET.get("board")
    if raw not in (None, "") and not str(raw).isdigit():
        raise Http404
    return board_or_404(request, raw)


@board_register_page
def dpia_record(request: HttpRequest, product_id: int) -> HttpResponse:
    user = user_of(request)
    product = get_object_or_404(Product.objects.select_related("supplier"), pk=product_id)
    board = _board(request)
    existing = Dpia.objects.filter(board=board, product=product).first()
    initial = {name: getattr(existing, name) for name in services.DPIA_FIELDS} if existing else {}
    form = DpiaRecordForm(request.POST if request.method == "POST" else None, initial=initial)
    if form.is_bound and form.is_valid():
        try:
            services.record_dpia(board, product, form.cleaned_data, user=user)
        except services.Refused as error:
            add_refusal(form, error)
        else:
            messages.success(request, _("De DPIA is vastgelegd."))
            return redirect("agreements:product", product_id=product.pk)
    status = 400 if form.is_bound and form.errors else 200
    context = {"form": form, "product": product, "board": board, "existing": existing}
    return render(request, "agreements/dpia_form.html", context, status=status)


@board_register_page
def dpia_waiver(request: HttpRequest, product_id: int) -> HttpResponse:
    user = user_of(request)
    product = get_object_or_404(Product.objects.select_related("supplier"), pk=product_id)
    board = _board(request)
    existing = DpiaWaiver.objects.filter(board=board, product=product).first()
    initial = {"reason": existing.reason} if existing else {}
    form = DpiaWaiverForm(request.POST if request.method == "POST" else None, initial=initial)
    if form.is_bound and form.is_valid():
        try:
            services.waive_dpia(board, product, form.cleaned_data["reason"], user=user)
        except services.Refused as error:
            add_refusal(form, error)
        else:
            messages.success(request, _("De uitzondering op de DPIA is vastgelegd."))
            return redirect("agreements:product", product_id=product.pk)
    status = 400 if form.is_bound and form.errors else 200
    context = {"form": form, "product": product, "board": board, "existing": existing}
    return render(request, "agreements/dpia_waiver_form.html", context, status=status)
