"""The register's pages: suppliers, products and their DPIA screening, processing agreements with
their data schedules, and suppliers' published offers.

Who sees what (see :mod:`.common`): every register user (privacy officers, board and school
admins) reads the supplier catalogue and the published offers; agreements, DPIA screenings and
every change are for the board's privacy officers and board admins, and show only their own
boards' records (another board's agreement is a 404). Bad input re-renders the form with the
reason (HTTP 400) and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.db.models import Count, Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from regie.core.models import Board
from regie.roster import services as roster

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
    Dpia,
    DpiaScreening,
    DpiaWaiver,
    Licence,
    Processing,
    ProcessingAgreement,
    Product,
    Subprocessor,
    Supplier,
)
from .common import (
    agreement_or_404,
    board_or_404,
    board_register_page,
    refused,
    register_page,
    user_of,
)

STATUS_ORDER = list(AgreementStatus.values)
T = TypeVar("T")


# --- helpers -------------------------------------------------------------------------------------


def _data(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None


def _form_page(
    request: HttpRequest, template: str, form: forms.Form, context: dict[str, Any]
) -> HttpResponse:
    """A form page; 400 when the submitted form has errors (nothing was changed)."""
    status = 400 if form.is_bound and form.errors else 200
    return render(request, template, {"form": form, **context}, status=status)


def _form_flow(
    request: HttpRequest,
    form: forms.Form,
    template: str,
    context: dict[str, Any],
    *,
    save: Callable[[], T],
    saved: str,
    then: Callable[[T], HttpResponse],
    edited: Model | None = None,
) -> HttpResponse:
    """The register's form pages in one flow: a valid form is saved through the service, with a
    success message and ``then``'s redirect; an invalid form or the service's refusal re-renders
    the page with the reason (400) and changes nothing. ``edited`` is the object a form edits,
    reloaded after a refusal so the page shows what is stored."""
    if form.is_bound and form.is_valid():
        try:
            result = save()
        except services.Refused as error:
            add_refusal(form, error)
            if edited is not None:
                edited.refresh_from_db()
        else:
            messages.success(request, saved)
            return then(result)
    return _form_page(request, template, form, context)


def _to_supplier(supplier: Supplier) -> HttpResponse:
    return redirect("agreements:supplier", supplier_id=supplier.pk)


def _to_product(product: Product) -> HttpResponse:
    return redirect("agreements:product", product_id=product.pk)


def _to_agreement(agreement_id: int) -> Callable[[object], HttpResponse]:
    return lambda _saved: redirect("agreements:agreement", agreement_id=agreement_id)


def _board(request: HttpRequest, raw: str | None) -> Board:
    """One of the user's boards from a submitted id (the first one when none is given)."""
    if raw not in (None, "") and not str(raw).isdigit():
        raise Http404
    return board_or_404(request, raw)


def _schedule_or_404(request: HttpRequest, schedule_id: int) -> DataSchedule:
    agreements = services.visible_agreements(user_of(request))
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
    # Whether the schedule names the ECK iD, and (for a board's agreement) which other suppliers
    # of the board receive it: the ones that could link a pupil's data with this supplier.
    names_eck_id: bool = False
    eck_id_peers: list[services.EckIdRecipient] | None = None


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


def eck_id_peers(schedule: DataSchedule) -> list[services.EckIdRecipient] | None:
    """The board's other suppliers that receive the ECK iD; None for an offer (no board)."""
    agreement = schedule.agreement
    if agreement.board_id is None:
        return None
    return services.eck_id_recipients(
        agreement.board_id, excluding_supplier_id=agreement.supplier_id
    )


def schedule_rows(schedules: QuerySet[DataSchedule]) -> list[ScheduleRow]:
    """The schedules with their processings and subprocessors, ready to show."""
    rows = []
    for schedule in schedules.select_related("product", "agreement__board").prefetch_related(
        "processings", "subprocessors"
    ):
        processings = [_processing_row(item) for item in schedule.processings.all()]
        names_eck_id = services.ECK_ID in schedule.attributes()
        rows.append(
            ScheduleRow(
                schedule,
                processings,
                list(schedule.subprocessors.all()),
                names_eck_id=names_eck_id,
                eck_id_peers=eck_id_peers(schedule) if names_eck_id else None,
            )
        )
    return rows


# --- overview ------------------------------------------------------------------------------------


@register_page
def overview(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    access = roster.access_for(user)
    counts = dict(
        services.visible_agreements(user)
        .order_by()
        .values("status")
        .annotate(count=Count("pk"))
        .values_list("status", "count")
    )
    statuses = [(value, label, counts.get(value, 0)) for value, label in AgreementStatus.choices]
    context = {
        "board_level": access.edits_board_register(),
        "boards": services.editable_boards(user).order_by("name"),
        "statuses": statuses,
        "offer_count": services.offers().count(),
        "schools": services.editable_schools(user).order_by("name"),
    }
    return render(request, "agreements/overview.html", context)


# --- suppliers and products ----------------------------------------------------------------------


@register_page
def supplier_list(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    suppliers = Supplier.objects.annotate(product_count=Count("products")).order_by("name")
    may_edit = roster.access_for(user).edits_board_register()
    return render(
        request, "agreements/suppliers.html", {"suppliers": suppliers, "may_edit": may_edit}
    )


@board_register_page
def supplier_create(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    form = SupplierForm(_data(request))
    return _form_flow(
        request,
        form,
        "agreements/supplier_form.html",
        {"supplier": None},
        save=lambda: services.save_supplier(form.cleaned_data, user=user),
        saved=_("De leverancier is opgeslagen."),
        then=_to_supplier,
    )


@register_page
def supplier_detail(request: HttpRequest, supplier_id: int) -> HttpResponse:
    user = user_of(request)
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


@board_register_page
def supplier_edit(request: HttpRequest, supplier_id: int) -> HttpResponse:
    user = user_of(request)
    supplier = get_object_or_404(Supplier, pk=supplier_id)
    form = SupplierForm(_data(request), initial=SupplierForm.initial_for(supplier))
    return _form_flow(
        request,
        form,
        "agreements/supplier_form.html",
        {"supplier": supplier},
        save=lambda: services.save_supplier(form.cleaned_data, supplier=supplier, user=user),
        saved=_("De leverancier is opgeslagen."),
        then=_to_supplier,
        edited=supplier,
    )


@board_register_page
def product_create(request: HttpRequest, supplier_id: int) -> HttpResponse:
    user = user_of(request)
    supplier = get_object_or_404(Supplier, pk=supplier_id)
    form = ProductForm(_data(request))
    return _form_flow(
        request,
        form,
        "agreements/product_form.html",
        {"supplier": supplier, "product": None},
        save=lambda: services.save_product(supplier, form.cleaned_data, user=user),
        saved=_("Het product is opgeslagen."),
        then=_to_product,
    )


@dataclass(frozen=True)
class DpiaSection:
    """The board's screening of the product, the labels of the criteria that apply, and where
    the board stands with the DPIA itself (recorded, or an exception)."""

    board: Board
    screening: DpiaScreening | None
    criteria: list[str]
    state: dpia.State
    record: Dpia | None
    waiver: DpiaWaiver | None

    @property
    def label(self) -> str:
        return str(dpia.STATE_LABELS[self.state])


def _screening(board: Board, product: Product) -> DpiaSection:
    screening = services.screening_for(board, product)
    chosen = set(screening.criteria) if screening else set()
    return DpiaSection(
        board,
        screening,
        [str(label) for key, label in dpia.CRITERIA if key in chosen],
        services.dpia_states(board.pk, [product.pk])[product.pk],
        Dpia.objects.filter(board=board, product=product).first(),
        DpiaWaiver.objects.filter(board=board, product=product)
        .select_related("granted_by")
        .first(),
    )


@register_page
def product_detail(request: HttpRequest, product_id: int) -> HttpResponse:
    user = user_of(request)
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


@board_register_page
def product_edit(request: HttpRequest, product_id: int) -> HttpResponse:
    user = user_of(request)
    product = get_object_or_404(Product.objects.select_related("supplier"), pk=product_id)
    form = ProductForm(_data(request), initial=ProductForm.initial_for(product))
    return _form_flow(
        request,
        form,
        "agreements/product_form.html",
        {"supplier": product.supplier, "product": product},
        save=lambda: services.save_product(
            product.supplier, form.cleaned_data, product=product, user=user
        ),
        saved=_("Het product is opgeslagen."),
        then=_to_product,
        edited=product,
    )


@board_register_page
def product_dpia(request: HttpRequest, product_id: int) -> HttpResponse:
    user = user_of(request)
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


@board_register_page
def agreement_list(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    agreements = services.visible_agreements(user).order_by("board__name", "supplier__name")
    # ?status= (once or more: ?status=draft&status=offered), ?ending=<days> (active agreements
    # that end within that many days): the dashboard links here with them.
    statuses = [value for value in request.GET.getlist("status") if value in AgreementStatus.values]
    if statuses:
        agreements = agreements.filter(status__in=statuses)
    raw_ending = request.GET.get("ending", "")
    ending = int(raw_ending) if raw_ending.isdigit() and len(raw_ending) <= 4 else None
    if ending is not None:
        ending_soon = ProcessingAgreement.objects.ending_within(timezone.localdate(), ending)
        agreements = agreements.filter(pk__in=ending_soon.values("pk"))
    context = {
        "agreements": agreements,
        "status": statuses[0] if len(statuses) == 1 else "",
        "chosen": [str(label) for value, label in AgreementStatus.choices if value in statuses],
        "ending": ending,
        "statuses": AgreementStatus.choices,
    }
    return render(request, "agreements/agreements.html", context)


@board_register_page
def agreement_create(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    form = AgreementCreateForm(_data(request), boards=services.editable_boards(user))
    return _form_flow(
        request,
        form,
        "agreements/agreement_form.html",
        {"agreement": None},
        save=lambda: services.create_agreement(
            form.cleaned_data["board"], form.cleaned_data["supplier"], form.values(), user=user
        ),
        saved=_("De verwerkersovereenkomst is aangemaakt als concept."),
        then=lambda agreement: redirect("agreements:agreement", agreement_id=agreement.pk),
    )


@dataclass(frozen=True)
class NextStatus:
    """A next step of the lifecycle; ``refusal`` says why it cannot be taken now ('' if it can)."""

    value: str
    label: str
    refusal: str


def _next_statuses(agreement: ProcessingAgreement) -> list[NextStatus]:
    """The steps the lifecycle allows from here: the page offers those the rules accept now, and
    names the reason for the others (a crafted POST is still refused by the service)."""
    allowed = services.TRANSITIONS.get(agreement.status, frozenset())
    today = timezone.localdate()
    steps = []
    for value, label in AgreementStatus.choices:
        if value not in allowed:
            continue
        try:
            services.check_transition(agreement, value, today)
        except services.Refused as error:
            steps.append(NextStatus(value, str(label), error.reason))
        else:
            steps.append(NextStatus(value, str(label), ""))
    return steps


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
        "confirmed_steps": CONFIRMED_STEPS,
        "removed": removed_processings(request, agreement),
        "error": error.reason if error else "",
    }
    return render(
        request, "agreements/agreement.html", context, status=400 if error is not None else 200
    )


@board_register_page
def agreement_detail(request: HttpRequest, agreement_id: int) -> HttpResponse:
    return _agreement_page(request, agreement_or_404(request, agreement_id))


@board_register_page
def agreement_edit(request: HttpRequest, agreement_id: int) -> HttpResponse:
    user = user_of(request)
    agreement = agreement_or_404(request, agreement_id)
    form = AgreementForm(_data(request), initial=AgreementForm.initial_for(agreement))
    return _form_flow(
        request,
        form,
        "agreements/agreement_form.html",
        {"agreement": agreement},
        save=lambda: services.update_agreement(agreement, form.values(), user=user),
        saved=_("De verwerkersovereenkomst is opgeslagen."),
        then=_to_agreement(agreement.pk),
    )


# Steps that cannot be undone: they have their own confirmation page (GET shows what happens).
CONFIRMED_STEPS = frozenset({AgreementStatus.TERMINATED, AgreementStatus.DATA_DESTROYED})


@board_register_page
def agreement_transition(request: HttpRequest, agreement_id: int) -> HttpResponse:
    agreement = agreement_or_404(request, agreement_id)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    to = request.POST.get("to", "")
    if to in CONFIRMED_STEPS:  # never in one click: to the page that says what it means
        return redirect(reverse("agreements:agreement-confirm", args=[agreement.pk, to]))
    return _transition(request, agreement, to)


def _transition(request: HttpRequest, agreement: ProcessingAgreement, to: str) -> HttpResponse:
    try:
        agreement = services.transition(agreement, to, user=user_of(request))
    except services.Refused as error:
        return _agreement_page(request, agreement, error=error)
    messages.success(
        request, _("De status is nu: %(status)s.") % {"status": agreement.get_status_display()}
    )
    if services.declaration_pending():
        messages.warning(
            request,
            _(
                "De nummervoorziening kon niet worden bijgewerkt met de leveranciers van het "
                "bestuur: zij was niet bereikbaar. regie probeert het op de achtergrond opnieuw; "
                "de beheerder kan het ook meteen doen met ‘regie nv-suppliers sync’."
            ),
        )
    return redirect("agreements:agreement", agreement_id=agreement.pk)


@dataclass(frozen=True)
class Ending:
    """What terminating an agreement means, per product of its schedules."""

    schedule: DataSchedule
    licences: int  # licences in force today at the board's schools
    destroy_by: date


def _endings(agreement: ProcessingAgreement) -> list[Ending]:
    today = timezone.localdate()
    endings = []
    for schedule in agreement.schedules.select_related("product").order_by("product__name"):
        licences = (
            Licence.objects.in_force_on(today)
            .filter(product=schedule.product, school__board=agreement.board)
            .count()
        )
        destroy_by = today + timedelta(days=schedule.destruction_days)
        endings.append(Ending(schedule, licences, destroy_by))
    return endings


@board_register_page
def agreement_confirm(request: HttpRequest, agreement_id: int, to: str) -> HttpResponse:
    """A step that cannot be undone (terminate, data destroyed): GET says what it means and
    changes nothing; the page's POST takes the step."""
    agreement = agreement_or_404(request, agreement_id)
    if to not in CONFIRMED_STEPS:
        raise Http404
    if request.method == "POST":
        return _transition(request, agreement, to)
    allowed = to in services.TRANSITIONS.get(agreement.status, frozenset())
    context = {
        "agreement": agreement,
        "to": to,
        "to_label": AgreementStatus(to).label,
        "allowed": allowed,
        "endings": _endings(agreement) if to == AgreementStatus.TERMINATED else [],
        "was_active": agreement.status == AgreementStatus.ACTIVE,
    }
    return render(request, "agreements/agreement_confirm.html", context)


@board_register_page
def deviation_add(request: HttpRequest, agreement_id: int) -> HttpResponse:
    user = user_of(request)
    agreement = agreement_or_404(request, agreement_id)
    form = DeviationForm(_data(request))
    return _form_flow(
        request,
        form,
        "agreements/deviation_form.html",
        {"agreement": agreement},
        save=lambda: services.add_deviation(agreement, **form.cleaned_data, user=user),
        saved=_("De afwijking is toegevoegd."),
        then=_to_agreement(agreement.pk),
    )


@board_register_page
def schedule_add(request: HttpRequest, agreement_id: int) -> HttpResponse:
    user = user_of(request)
    agreement = agreement_or_404(request, agreement_id)
    form = ScheduleForm(_data(request), agreement=agreement)

    def save() -> DataSchedule:
        values = form.cleaned_data
        return services.save_schedule(
            agreement,
            values["product"],
            breach_notification_hours=values["breach_notification_hours"],
            destruction_days=values["destruction_days"],
            user=user,
        )

    return _form_flow(
        request,
        form,
        "agreements/schedule_form.html",
        {"agreement": agreement},
        save=save,
        saved=_("De privacybijsluiter is opgeslagen."),
        then=_to_agreement(agreement.pk),
    )


def _schedule_part_add(
    request: HttpRequest,
    schedule_id: int,
    form_class: type[forms.Form],
    add: Callable[..., object],
    template: str,
    saved: str,
    context: Callable[[DataSchedule], dict[str, Any]] | None = None,
) -> HttpResponse:
    """Add a processing or a subprocessor to one of the user's boards' data schedules."""
    user = user_of(request)
    schedule = _schedule_or_404(request, schedule_id)
    form = form_class(_data(request))
    return _form_flow(
        request,
        form,
        template,
        {
            "schedule": schedule,
            "agreement": schedule.agreement,
            **(context(schedule) if context else {}),
        },
        save=lambda: add(schedule, **form.cleaned_data, user=user),
        saved=saved,
        then=_to_agreement(schedule.agreement_id),
    )


@board_register_page
def processing_add(request: HttpRequest, schedule_id: int) -> HttpResponse:
    return _schedule_part_add(
        request,
        schedule_id,
        ProcessingForm,
        services.add_processing,
        "agreements/processing_form.html",
        _("De verwerking is toegevoegd."),
        context=lambda schedule: {"eck_id_peers": eck_id_peers(schedule)},
    )


@board_register_page
def subprocessor_add(request: HttpRequest, schedule_id: int) -> HttpResponse:
    return _schedule_part_add(
        request,
        schedule_id,
        SubprocessorForm,
        services.add_subprocessor,
        "agreements/subprocessor_form.html",
        _("De subverwerker is toegevoegd."),
    )


REMOVED_KEY = "agreements.removed_processings"  # the session's removals that can be undone
PROCESSING_VALUES = (
    "purpose",
    "subjects",
    "attributes",
    "sources",
    "retention_period",
    "retention_unit",
    "retention_trigger",
)


def _removed(request: HttpRequest) -> list[dict[str, Any]]:
    stored = request.session.get(REMOVED_KEY, [])
    return stored if isinstance(stored, list) else []


def _processing_or_404(request: HttpRequest, processing_id: int) -> Processing:
    return get_object_or_404(
        Processing.objects.select_related("schedule__agreement", "schedule__product"),
        pk=processing_id,
        schedule__agreement__in=services.visible_agreements(user_of(request)),
    )


@board_register_page
def processing_remove(request: HttpRequest, processing_id: int) -> HttpResponse:
    """GET: what removing the processing takes out of the schedule (nothing changes); POST:
    remove it, undoable while the agreement can still be edited."""
    user = user_of(request)
    processing = _processing_or_404(request, processing_id)
    agreement = processing.schedule.agreement
    if request.method == "POST":
        values = {name: getattr(processing, name) for name in PROCESSING_VALUES}
        try:
            services.remove_processing(processing, user=user)
        except services.Refused as error:
            return _agreement_page(request, agreement, error=error)
        undo = {"id": processing_id, "schedule": processing.schedule_id, "values": values}
        request.session[REMOVED_KEY] = [*_removed(request), undo][-10:]
        messages.success(
            request,
            _(
                "De verwerking is verwijderd. Zolang de overeenkomst nog niet is ondertekend, "
                "kunt u dit ongedaan maken met de knop ‘Ongedaan maken’ op deze pagina."
            ),
        )
        return redirect("agreements:agreement", agreement_id=agreement.pk)
    others = processing.schedule.processings.exclude(pk=processing.pk)
    remaining = {key for other in others for key in other.attributes}
    leaving = [_attribute_row(key) for key in processing.attributes if key not in remaining]
    context = {
        "processing": _processing_row(processing),
        "schedule": processing.schedule,
        "agreement": agreement,
        "leaving": leaving,
        "editable": agreement.is_editable,
    }
    return render(request, "agreements/processing_remove.html", context)


@board_register_page
def processing_restore(request: HttpRequest, processing_id: int) -> HttpResponse:
    """Undo a removal of this session: the same processing added again (audited as a change)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    removed = _removed(request)
    undo = next((item for item in removed if item.get("id") == processing_id), None)
    if undo is None:
        raise Http404
    schedule = _schedule_or_404(request, int(undo["schedule"]))
    request.session[REMOVED_KEY] = [item for item in removed if item is not undo]
    try:
        services.add_processing(schedule, **undo["values"], user=user_of(request))
    except services.Refused as error:
        return _agreement_page(request, schedule.agreement, error=error)
    messages.success(request, _("De verwerking is teruggezet."))
    return redirect("agreements:agreement", agreement_id=schedule.agreement_id)


def removed_processings(
    request: HttpRequest, agreement: ProcessingAgreement
) -> list[dict[str, Any]]:
    """The removals of this session the agreement page offers to undo (while it is editable)."""
    if not agreement.is_editable:
        return []
    schedules = set(agreement.schedules.values_list("pk", flat=True))
    return [item for item in _removed(request) if item.get("schedule") in schedules]


# --- offers --------------------------------------------------------------------------------------


def _offer_or_404(agreement_id: int) -> ProcessingAgreement:
    return get_object_or_404(services.offers(), pk=agreement_id)


@register_page
def offer_list(request: HttpRequest) -> HttpResponse:
    offers = services.offers().prefetch_related("schedules__product").order_by("supplier__name")
    return render(request, "agreements/offers.html", {"offers": offers})


@register_page
def offer_detail(request: HttpRequest, agreement_id: int) -> HttpResponse:
    user = user_of(request)
    offer = _offer_or_404(agreement_id)
    context = {
        "offer": offer,
        "deviations": offer.deviations.all(),
        "rows": schedule_rows(offer.schedules.order_by("product__name")),
        "boards": services.editable_boards(user).order_by("name"),
    }
    return render(request, "agreements/offer.html", context)


@board_register_page
def offer_adopt(request: HttpRequest, agreement_id: int) -> HttpResponse:
    user = user_of(request)
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
