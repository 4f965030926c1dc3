"""The register's pages: suppliers, products and their DPIA screening, processing agreements with
their data schedules, and suppliers' published offers.

Who sees what (see :mod:`.common`): every register user (privacy officers, board and school
admins) reads the supplier catalogue and the published offers; agreements, DPIA screenings and
every change are for the board's privacy officers and board admins, and show only their own
boards' records (another board's agreement is a 404). Bad input re-renders the form with the
reason (HTTP 400) and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from regie.core.models import Board

from .. import catalogue, dpia, services
from ..catalogue import Subject
from ..forms import (
    SENSITIVITY_SHORT,
    AgreementCreateForm,
    AgreementForm,
    DeviationForm,
    DpiaForm,
    ProcessingForm,
    ProductForm,
    ScheduleForm,
    SubprocessorForm,
    SupplierForm,
    add_refusal,
)
from ..models import (
    AgreementStatus,
    DataSchedule,
    DpiaScreening,
    Processing,
    ProcessingAgreement,
    Product,
    Subprocessor,
    Supplier,
)
from .common import (
    agreement_or_404,
    board_or_404,
    refused,
    register_user,
    require_board_editor,
)

STATUS_ORDER = list(AgreementStatus.values)


# --- helpers -------------------------------------------------------------------------------------


def _data(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None


def _form_page(
    request: HttpRequest, template: str, form: forms.Form, context: dict[str, Any]
) -> HttpResponse:
    """A form page; 400 when the submitted form has errors (nothing was changed)."""
    status = 400 if form.is_bound and form.errors else 200
    return render(request, template, {"form": form, **context}, status=status)


def _board(request: HttpRequest, raw: str | None) -> Board:
    """One of the user's boards from a submitted id (the first one when none is given)."""
    if raw not in (None, "") and not str(raw).isdigit():
        raise Http404
    return board_or_404(request, raw)


def _schedule_or_404(request: HttpRequest, schedule_id: int) -> DataSchedule:
    agreements = services.visible_agreements(require_board_editor(request))
    return get_object_or_404(
        DataSchedule.objects.select_related("agreement", "product"),
        pk=schedule_id,
        agreement__in=agreements,
    )


@dataclass(frozen=True)
class AttributeRow:
    label: str
    sensitivity: str
    consent_gated: bool


@dataclass(frozen=True)
class ProcessingRow:
    processing: Processing
    subjects: list[str]
    attributes: list[AttributeRow]
    retention: str


@dataclass(frozen=True)
class ScheduleRow:
    schedule: DataSchedule
    processings: list[ProcessingRow]
    subprocessors: list[Subprocessor]


def _attribute_row(key: str) -> AttributeRow:
    attribute = catalogue.CATALOGUE.get(key)
    if attribute is None:  # never stored through the services; shown as it is
        return AttributeRow(key, "", False)
    return AttributeRow(
        str(attribute.label), str(SENSITIVITY_SHORT[attribute.sensitivity]), attribute.consent_gated
    )


def _processing_row(processing: Processing) -> ProcessingRow:
    subjects = [
        str(Subject(key).label) if key in Subject.values else key for key in processing.subjects
    ]
    retention = processing.retention_in_words()
    attributes = [_attribute_row(key) for key in processing.attributes]
    return ProcessingRow(processing, subjects, attributes, retention)


def schedule_rows(schedules: QuerySet[DataSchedule]) -> list[ScheduleRow]:
    """The schedules with their processings and subprocessors, ready to show."""
    rows = []
    for schedule in schedules.select_related("product", "agreement__board").prefetch_related(
        "processings", "subprocessors"
    ):
        processings = [_processing_row(item) for item in schedule.processings.all()]
        rows.append(ScheduleRow(schedule, processings, list(schedule.subprocessors.all())))
    return rows


# --- overview ------------------------------------------------------------------------------------


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    user = register_user(request)
    access = services.access_for(user)
    counts = dict(
        services.visible_agreements(user)
        .order_by()
        .values("status")
        .annotate(count=Count("pk"))
        .values_list("status", "count")
    )
    statuses = [(value, label, counts.get(value, 0)) for value, label in AgreementStatus.choices]
    context = {
        "board_level": bool(access.boards),
        "boards": services.editable_boards(user).order_by("name"),
        "statuses": statuses,
        "offer_count": services.offers().count(),
        "schools": services.editable_schools(user).order_by("name"),
    }
    return render(request, "agreements/overview.html", context)


# --- suppliers and products ----------------------------------------------------------------------


@login_required
def supplier_list(request: HttpRequest) -> HttpResponse:
    user = register_user(request)
    suppliers = Supplier.objects.annotate(product_count=Count("products")).order_by("name")
    may_edit = bool(services.access_for(user).boards)
    return render(
        request, "agreements/suppliers.html", {"suppliers": suppliers, "may_edit": may_edit}
    )


@login_required
def supplier_create(request: HttpRequest) -> HttpResponse:
    user = require_board_editor(request)
    form = SupplierForm(_data(request))
    if form.is_bound and form.is_valid():
        try:
            supplier = services.save_supplier(form.cleaned_data, user=user)
        except services.Refused as error:
            add_refusal(form, error)
        else:
            messages.success(request, _("De leverancier is opgeslagen."))
            return redirect("agreements:supplier", supplier_id=supplier.pk)
    return _form_page(request, "agreements/supplier_form.html", form, {"supplier": None})


@login_required
def supplier_detail(request: HttpRequest, supplier_id: int) -> HttpResponse:
    user = register_user(request)
    supplier = get_object_or_404(Supplier, pk=supplier_id)
    boards = list(services.editable_boards(user).order_by("name"))
    screenings = {
        (item.board_id, item.product_id): item
        for item in DpiaScreening.objects.filter(board__in=boards, product__supplier=supplier)
    }
    products = [
        (product, [(board, screenings.get((board.pk, product.pk))) for board in boards])
        for product in supplier.products.order_by("name")
    ]
    agreements = services.visible_agreements(user).filter(supplier=supplier).order_by("-created_at")
    context = {
        "supplier": supplier,
        "products": products,
        "agreements": agreements,
        "may_edit": bool(boards),
    }
    return render(request, "agreements/supplier.html", context)


@login_required
def supplier_edit(request: HttpRequest, supplier_id: int) -> HttpResponse:
    user = require_board_editor(request)
    supplier = get_object_or_404(Supplier, pk=supplier_id)
    form = SupplierForm(_data(request), initial=SupplierForm.initial_for(supplier))
    if form.is_bound and form.is_valid():
        try:
            services.save_supplier(form.cleaned_data, supplier=supplier, user=user)
        except services.Refused as error:
            add_refusal(form, error)
            supplier.refresh_from_db()
        else:
            messages.success(request, _("De leverancier is opgeslagen."))
            return redirect("agreements:supplier", supplier_id=supplier.pk)
    return _form_page(request, "agreements/supplier_form.html", form, {"supplier": supplier})


@login_required
def product_create(request: HttpRequest, supplier_id: int) -> HttpResponse:
    user = require_board_editor(request)
    supplier = get_object_or_404(Supplier, pk=supplier_id)
    form = ProductForm(_data(request))
    if form.is_bound and form.is_valid():
        try:
            product = services.save_product(supplier, form.cleaned_data, user=user)
        except services.Refused as error:
            add_refusal(form, error)
        else:
            messages.success(request, _("Het product is opgeslagen."))
            return redirect("agreements:product", product_id=product.pk)
    context = {"supplier": supplier, "product": None}
    return _form_page(request, "agreements/product_form.html", form, context)


def _screening(board: Board, product: Product) -> tuple[Board, DpiaScreening | None, list[str]]:
    """The board's screening of the product, with the labels of the criteria that apply."""
    screening = services.screening_for(board, product)
    chosen = set(screening.criteria) if screening else set()
    return board, screening, [str(label) for key, label in dpia.CRITERIA if key in chosen]


@login_required
def product_detail(request: HttpRequest, product_id: int) -> HttpResponse:
    user = register_user(request)
    product = get_object_or_404(Product.objects.select_related("supplier"), pk=product_id)
    boards = list(services.editable_boards(user).order_by("name"))
    schedules = DataSchedule.objects.filter(
        product=product, agreement__in=services.visible_agreements(user)
    ).order_by("agreement__board__name", "-agreement__created_at")
    context = {
        "product": product,
        "rows": schedule_rows(schedules),
        "screenings": [_screening(board, product) for board in boards],
        "may_edit": bool(boards),
    }
    return render(request, "agreements/product.html", context)


@login_required
def product_edit(request: HttpRequest, product_id: int) -> HttpResponse:
    user = require_board_editor(request)
    product = get_object_or_404(Product.objects.select_related("supplier"), pk=product_id)
    form = ProductForm(_data(request), initial=ProductForm.initial_for(product))
    if form.is_bound and form.is_valid():
        try:
            services.save_product(product.supplier, form.cleaned_data, product=product, user=user)
        except services.Refused as error:
            add_refusal(form, error)
            product.refresh_from_db()
        else:
            messages.success(request, _("Het product is opgeslagen."))
            return redirect("agreements:product", product_id=product.pk)
    context = {"supplier": product.supplier, "product": product}
    return _form_page(request, "agreements/product_form.html", form, context)


@login_required
def product_dpia(request: HttpRequest, product_id: int) -> HttpResponse:
    user = require_board_editor(request)
    product = get_object_or_404(Product.objects.select_related("supplier"), pk=product_id)
    source = request.POST if request.method == "POST" else request.GET
    board = _board(request, source.get("board"))
    existing = services.screening_for(board, product)
    initial = {"criteria": existing.criteria, "notes": existing.notes} if existing else None
    form = DpiaForm(_data(request), initial=initial)
    if form.is_bound and form.is_valid():
        try:
            screening = services.screen_dpia(
                board,
                product,
                form.cleaned_data["criteria"],
                notes=form.cleaned_data["notes"],
                user=user,
            )
        except services.Refused as error:
            add_refusal(form, error)
        else:
            if screening.dpia_required:
                messages.success(request, _("De DPIA-toets is opgeslagen: een DPIA is vereist."))
            else:
                messages.success(request, _("De DPIA-toets is opgeslagen: geen DPIA vereist."))
            return redirect("agreements:product", product_id=product.pk)
    context = {
        "product": product,
        "board": board,
        "boards": services.editable_boards(user).order_by("name"),
        "existing": existing,
        "dpia_mode": True,
    }
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "agreements/product_form.html", {"form": form, **context}, status=status)


# --- agreements ----------------------------------------------------------------------------------


@login_required
def agreement_list(request: HttpRequest) -> HttpResponse:
    user = require_board_editor(request)
    agreements = services.visible_agreements(user).order_by("board__name", "supplier__name")
    status = request.GET.get("status", "")
    if status in AgreementStatus.values:
        agreements = agreements.filter(status=status)
    else:
        status = ""
    context = {"agreements": agreements, "status": status, "statuses": AgreementStatus.choices}
    return render(request, "agreements/agreements.html", context)


@login_required
def agreement_create(request: HttpRequest) -> HttpResponse:
    user = require_board_editor(request)
    form = AgreementCreateForm(_data(request), boards=services.editable_boards(user))
    if form.is_bound and form.is_valid():
        try:
            agreement = services.create_agreement(
                form.cleaned_data["board"], form.cleaned_data["supplier"], form.values(), user=user
            )
        except services.Refused as error:
            add_refusal(form, error)
        else:
            messages.success(request, _("De verwerkersovereenkomst is aangemaakt als concept."))
            return redirect("agreements:agreement", agreement_id=agreement.pk)
    return _form_page(request, "agreements/agreement_form.html", form, {"agreement": None})


def _next_statuses(agreement: ProcessingAgreement) -> list[tuple[str, str]]:
    allowed = services.TRANSITIONS.get(agreement.status, frozenset())
    return [(value, str(label)) for value, label in AgreementStatus.choices if value in allowed]


def _agreement_page(
    request: HttpRequest,
    agreement: ProcessingAgreement,
    *,
    error: services.Refused | None = None,
) -> HttpResponse:
    context = {
        "agreement": agreement,
        "deviations": agreement.deviations.all(),
        "rows": schedule_rows(agreement.schedules.order_by("product__name")),
        "next_statuses": _next_statuses(agreement),
        "error": error.reason if error else "",
    }
    return render(
        request, "agreements/agreement.html", context, status=400 if error is not None else 200
    )


@login_required
def agreement_detail(request: HttpRequest, agreement_id: int) -> HttpResponse:
    require_board_editor(request)
    return _agreement_page(request, agreement_or_404(request, agreement_id))


@login_required
def agreement_edit(request: HttpRequest, agreement_id: int) -> HttpResponse:
    user = require_board_editor(request)
    agreement = agreement_or_404(request, agreement_id)
    form = AgreementForm(_data(request), initial=AgreementForm.initial_for(agreement))
    if form.is_bound and form.is_valid():
        try:
            services.update_agreement(agreement, form.values(), user=user)
        except services.Refused as error:
            add_refusal(form, error)
        else:
            messages.success(request, _("De verwerkersovereenkomst is opgeslagen."))
            return redirect("agreements:agreement", agreement_id=agreement.pk)
    return _form_page(request, "agreements/agreement_form.html", form, {"agreement": agreement})


@login_required
def agreement_transition(request: HttpRequest, agreement_id: int) -> HttpResponse:
    user = require_board_editor(request)
    agreement = agreement_or_404(request, agreement_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    to = request.POST.get("to", "")
    try:
        agreement = services.transition(agreement, to, user=user)
    except services.Refused as error:
        return _agreement_page(request, agreement, error=error)
    messages.success(
        request, _("De status is nu: %(status)s.") % {"status": agreement.get_status_display()}
    )
    return redirect("agreements:agreement", agreement_id=agreement.pk)


@login_required
def deviation_add(request: HttpRequest, agreement_id: int) -> HttpResponse:
    user = require_board_editor(request)
    agreement = agreement_or_404(request, agreement_id)
    form = DeviationForm(_data(request))
    if form.is_bound and form.is_valid():
        try:
            services.add_deviation(agreement, **form.cleaned_data, user=user)
        except services.Refused as error:
            add_refusal(form, error)
        else:
            messages.success(request, _("De afwijking is toegevoegd."))
            return redirect("agreements:agreement", agreement_id=agreement.pk)
    return _form_page(request, "agreements/deviation_form.html", form, {"agreement": agreement})


@login_required
def schedule_add(request: HttpRequest, agreement_id: int) -> HttpResponse:
    user = require_board_editor(request)
    agreement = agreement_or_404(request, agreement_id)
    form = ScheduleForm(_data(request), agreement=agreement)
    if form.is_bound and form.is_valid():
        values = form.cleaned_data
        try:
            services.save_schedule(
                agreement,
                values["product"],
                breach_notification_hours=values["breach_notification_hours"],
                destruction_days=values["destruction_days"],
                user=user,
            )
        except services.Refused as error:
            add_refusal(form, error)
        else:
            messages.success(request, _("De privacybijsluiter is opgeslagen."))
            return redirect("agreements:agreement", agreement_id=agreement.pk)
    return _form_page(request, "agreements/schedule_form.html", form, {"agreement": agreement})


@login_required
def processing_add(request: HttpRequest, schedule_id: int) -> HttpResponse:
    user = require_board_editor(request)
    schedule = _schedule_or_404(request, schedule_id)
    form = ProcessingForm(_data(request))
    if form.is_bound and form.is_valid():
        try:
            services.add_processing(schedule, **form.cleaned_data, user=user)
        except services.Refused as error:
            add_refusal(form, error)
        else:
            messages.success(request, _("De verwerking is toegevoegd."))
            return redirect("agreements:agreement", agreement_id=schedule.agreement_id)
    context = {"schedule": schedule, "agreement": schedule.agreement}
    return _form_page(request, "agreements/processing_form.html", form, context)


@login_required
def subprocessor_add(request: HttpRequest, schedule_id: int) -> HttpResponse:
    user = require_board_editor(request)
    schedule = _schedule_or_404(request, schedule_id)
    form = SubprocessorForm(_data(request))
    if form.is_bound and form.is_valid():
        try:
            services.add_subprocessor(schedule, **form.cleaned_data, user=user)
        except services.Refused as error:
            add_refusal(form, error)
        else:
            messages.success(request, _("De subverwerker is toegevoegd."))
            return redirect("agreements:agreement", agreement_id=schedule.agreement_id)
    context = {"schedule": schedule, "agreement": schedule.agreement}
    return _form_page(request, "agreements/subprocessor_form.html", form, context)


@login_required
def processing_remove(request: HttpRequest, processing_id: int) -> HttpResponse:
    user = require_board_editor(request)
    processing = get_object_or_404(
        Processing.objects.select_related("schedule__agreement"),
        pk=processing_id,
        schedule__agreement__in=services.visible_agreements(user),
    )
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    agreement = processing.schedule.agreement
    try:
        services.remove_processing(processing, user=user)
    except services.Refused as error:
        return _agreement_page(request, agreement, error=error)
    messages.success(request, _("De verwerking is verwijderd."))
    return redirect("agreements:agreement", agreement_id=agreement.pk)


# --- offers --------------------------------------------------------------------------------------


def _offer_or_404(agreement_id: int) -> ProcessingAgreement:
    return get_object_or_404(services.offers(), pk=agreement_id)


@login_required
def offer_list(request: HttpRequest) -> HttpResponse:
    register_user(request)
    offers = services.offers().prefetch_related("schedules__product").order_by("supplier__name")
    return render(request, "agreements/offers.html", {"offers": offers})


@login_required
def offer_detail(request: HttpRequest, agreement_id: int) -> HttpResponse:
    user = register_user(request)
    offer = _offer_or_404(agreement_id)
    context = {
        "offer": offer,
        "deviations": offer.deviations.all(),
        "rows": schedule_rows(offer.schedules.order_by("product__name")),
        "boards": services.editable_boards(user).order_by("name"),
    }
    return render(request, "agreements/offer.html", context)


@login_required
def offer_adopt(request: HttpRequest, agreement_id: int) -> HttpResponse:
    user = require_board_editor(request)
    offer = _offer_or_404(agreement_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    board = _board(request, request.POST.get("board"))
    try:
        agreement = services.adopt_offer(offer, board, user=user)
    except services.Refused as error:
        refused(request, error)
        return redirect("agreements:offer", agreement_id=offer.pk)
    messages.success(
        request, _("Het aanbod is overgenomen voor %(board)s.") % {"board": board.name}
    )
    return redirect("agreements:agreement", agreement_id=agreement.pk)
