"""The school's decisions: licences, the switches per product, pupils' consent records, and the
participation council's decision on the privacy regulation.

Licences, switches and consent are for the school-level editors of the school (its privacy
officer and admins, the board's privacy officers and admins); the council's decisions are the
board's (privacy officers and board admins). Teachers get 403; a school, pupil or licence of
another board (or of a school the user does not edit) is a 404.

Pupil names never go into a URL: the pupil search is a POST whose results link by record id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.contrib import messages
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from regie.core.models import School, SchoolYear
from regie.roster import services as roster
from regie.roster.models import Group, Student, StudentStatus

from .. import catalogue, policy, services
from ..forms_school import (
    ConsentForm,
    CouncilDecisionForm,
    LicenceForm,
    SchoolChoiceForm,
    SwitchesForm,
    add_refusal,
)
from ..models import AgreementStatus, Consent, CouncilDecision, Licence, Product
from .common import (
    board_register_page,
    register_page,
    school_or_404,
    student_or_404,
    user_of,
)

SEARCH_LIMIT = 50
PREVIEW_LIMIT = 200  # pupils the switches page evaluates the release policy for


def _id(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


# --- licences ------------------------------------------------------------------------------------


def _search_pupils(pupils: QuerySet[Student], query: str) -> QuerySet[Student]:
    pupils = pupils.filter(status=StudentStatus.ACTIVE)
    for word in query.split():
        pupils = pupils.filter(
            Q(roepnaam__icontains=word)
            | Q(voornamen__icontains=word)
            | Q(achternaam__icontains=word)
            | Q(las_key__iexact=word)
        )
    return pupils.select_related("school").order_by("achternaam", "roepnaam", "pk")


@register_page
def licence_list(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    schools = services.editable_schools(user).order_by("name")
    years = SchoolYear.objects.filter(licences__school__in=schools).distinct().order_by("-start")
    school_id, year_id = _id(request.GET.get("school")), _id(request.GET.get("year"))
    licences = services.visible_licences(user).annotate(pupil_count=Count("students"))
    if school_id is not None:
        licences = licences.filter(school_id=school_id)
    if year_id is not None:
        licences = licences.filter(school_year_id=year_id)
    licences = licences.order_by("school__name", "-school_year__start", "product__name", "pk")
    query, hits = "", None
    if request.method == "POST":  # a search by name: POST, so that no name ends up in a URL
        query = request.POST.get("q", "").strip()[:100]
        if query:
            found = _search_pupils(roster.register_students(user), query)
            hits = list(found[: SEARCH_LIMIT + 1])
    context = {
        "licences": licences,
        "schools": schools,
        "years": years,
        "school_id": school_id,
        "year_id": year_id,
        "q": query,
        "hits": hits[:SEARCH_LIMIT] if hits is not None else None,
        "more_hits": hits is not None and len(hits) > SEARCH_LIMIT,
        "undos": _undos(request, schools),
    }
    return render(request, "agreements/licences.html", context)


@register_page
def licence_create(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    schools = services.editable_schools(user).order_by("name")
    school: School | None = None
    if "school" in request.GET:
        school_id = _id(request.GET["school"])
        if school_id is None:
            raise Http404
        school = school_or_404(request, school_id)
    elif schools.count() == 1:
        school = schools.first()
    choose = SchoolChoiceForm(schools=schools, initial={"school": school})
    form = None
    if school is not None:
        year = policy.current_school_year()
        form = LicenceForm(
            request.POST if request.method == "POST" else None,
            school=school,
            initial={"school_year": year},
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                services.grant_licence(
                    data["product"],
                    school,
                    data["school_year"],
                    group=data["group"],
                    students=data["students"],
                    user=user,
                )
            except services.Refused as error:
                add_refusal(form, error)
            else:
                messages.success(request, _("De licentie is vastgelegd."))
                return redirect(f"{reverse('agreements:licences')}?school={school.pk}")
    context = {"choose": choose, "school": school, "form": form}
    return render(request, "agreements/licence_form.html", context)


REVOKED_KEY = "agreements.revoked_licences"  # the session's list of today's revocations


def _revoked_today(request: HttpRequest) -> list[services.RevokedLicence]:
    """The revocations this session made today (older ones can no longer be undone)."""
    stored = request.session.get(REVOKED_KEY, [])
    revoked = [services.RevokedLicence.from_json(item) for item in stored]
    return [item for item in revoked if item.restorable()]


def _keep_revoked(request: HttpRequest, revoked: list[services.RevokedLicence]) -> None:
    request.session[REVOKED_KEY] = [item.as_json() for item in revoked[-10:]]


@dataclass(frozen=True)
class Undo:
    """A revocation the licence list offers to undo."""

    revoked: services.RevokedLicence
    product: Product
    holder: str


def _undos(request: HttpRequest, schools: QuerySet[School]) -> list[Undo]:
    revoked = [item for item in _revoked_today(request) if schools.filter(pk=item.school).exists()]
    products = Product.objects.in_bulk([item.product for item in revoked])
    groups = Group.objects.in_bulk([item.group for item in revoked if item.group is not None])
    undos = []
    for item in reversed(revoked):
        group = groups.get(item.group) if item.group is not None else None
        if item.product not in products or (item.group is not None and group is None):
            continue
        count = len(item.students)
        holder = (
            group.name
            if group is not None
            else ngettext("%(count)d genoemde leerling", "%(count)d genoemde leerlingen", count)
            % {"count": count}
        )
        undos.append(Undo(item, products[item.product], holder))
    return undos


def _losing_pupils(licence: Licence) -> tuple[list[Student], int]:
    """The licence's active pupils that no other licence of the product covers this school year
    (they lose access), and the number that keep it through another licence."""
    if licence.group_id is not None:
        covered = Student.objects.filter(groups=licence.group_id)
    else:
        covered = licence.students.all()
    covered = covered.filter(status=StudentStatus.ACTIVE, school_id=licence.school_id)
    others = Licence.objects.filter(
        product_id=licence.product_id,
        school_id=licence.school_id,
        school_year_id=licence.school_year_id,
    ).exclude(pk=licence.pk)
    keeping = covered.filter(Q(licences__in=others) | Q(groups__licences__in=others)).distinct()
    losing = covered.exclude(pk__in=keeping.values("pk")).order_by("achternaam", "roepnaam", "pk")
    return list(losing.distinct()), keeping.count()


@register_page
def licence_revoke(request: HttpRequest, licence_id: int) -> HttpResponse:
    """GET: what revoking the licence means (nothing changes); POST: revoke it, undoable today."""
    user = user_of(request)
    licence = get_object_or_404(
        services.visible_licences(user).select_related(
            "product__supplier", "school", "school_year", "group"
        ),
        pk=licence_id,
    )
    if request.method == "POST":
        school_id = licence.school_id
        try:
            revoked = services.revoke_licence(licence, user=user)
        except services.Refused as error:
            messages.error(request, error.reason)
        else:
            _keep_revoked(request, [*_revoked_today(request), revoked])
            messages.success(
                request,
                _(
                    "De licentie is ingetrokken. U kunt dit vandaag nog ongedaan maken "
                    "met de knop ‘Ongedaan maken’ hieronder."
                ),
            )
        return redirect(f"{reverse('agreements:licences')}?school={school_id}")
    losing, keeping = _losing_pupils(licence)
    context = {"licence": licence, "losing": losing, "keeping": keeping}
    return render(request, "agreements/licence_revoke.html", context)


@register_page
@require_POST
def licence_restore(request: HttpRequest, licence_id: int) -> HttpResponse:
    """Undo a revocation of today from this session (``licence_id`` is the revoked licence's)."""
    user = user_of(request)
    revoked_today = _revoked_today(request)
    revoked = next((item for item in revoked_today if item.licence == licence_id), None)
    if revoked is None or not services.editable_schools(user).filter(pk=revoked.school).exists():
        raise Http404
    try:
        services.restore_licence(revoked, user=user)
    except services.Refused as error:
        messages.error(
            request,
            _("De licentie is niet hersteld: %(reason)s. Leg zo nodig een nieuwe licentie vast.")
            % {"reason": error.reason},
        )
    else:
        messages.success(request, _("De licentie is hersteld, voor dezelfde groep of leerlingen."))
    _keep_revoked(request, [item for item in revoked_today if item is not revoked])
    return redirect(f"{reverse('agreements:licences')}?school={revoked.school}")


# --- switches ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SwitchRow:
    attribute: catalogue.Attribute
    in_schedule: bool
    on: bool
    always_on: bool
    receiving: int | None  # licensed pupils of the preview who would receive it now

    @property
    def category_label(self) -> str:
        category = self.attribute.category
        return category.label_en if (get_language() or "").startswith("en") else category.label_nl

    @property
    def has_control(self) -> bool:
        """A checkbox: on the schedule, or still switched on after the schedule dropped it."""
        return not self.always_on and (self.in_schedule or self.on)


def _licensed_pupils(school: School, product: Product, day: date) -> QuerySet[Student]:
    licences = Licence.objects.in_force_on(day).filter(product=product, school=school)
    return (
        Student.objects.filter(school=school, status=StudentStatus.ACTIVE)
        .filter(Q(licences__in=licences) | Q(groups__licences__in=licences))
        .distinct()
        .order_by("pk")
    )


def _preview(
    school: School, product: Product, schedule: frozenset[str]
) -> tuple[dict[str, int], int, int]:
    """Per attribute, how many of (at most PREVIEW_LIMIT) licensed pupils would receive it now."""
    pupils = _licensed_pupils(school, product, timezone.localdate())
    total = pupils.count()
    receiving = dict.fromkeys(schedule, 0)
    sample = list(pupils.select_related("school")[:PREVIEW_LIMIT])
    for pupil in sample:
        for key in policy.decide(product, pupil, sorted(schedule)).allowed:
            receiving[key] += 1
    return receiving, len(sample), total


def _switch_rows(school: School, product: Product) -> tuple[list[SwitchRow], int, int]:
    schedule = services.schedule_attributes(school.board_id, product)
    on = services.switched_on(school, product)
    receiving, sampled, total = _preview(school, product, schedule)
    rows = [
        SwitchRow(
            attribute=attribute,
            in_schedule=attribute.key in schedule,
            on=attribute.key in on,
            always_on=attribute.key in catalogue.DEFAULT_ON and attribute.key in schedule,
            receiving=receiving.get(attribute.key),
        )
        for attribute in catalogue.ATTRIBUTES
    ]
    return rows, sampled, total


def _save_switches(school: School, product: Product, wanted: set[str], user: User) -> int:
    """Every change in one transaction; a refusal of any of them undoes all (raises Refused).

    The attributes with a checkbox are those on the schedule (but the default) and those still
    switched on; a posted attribute outside them goes to the service too, which refuses it.
    """
    schedule = services.schedule_attributes(school.board_id, product) - catalogue.DEFAULT_ON
    controllable = schedule | services.switched_on(school, product)
    changed = 0
    with transaction.atomic():
        for key in sorted(controllable | wanted):
            if services.set_switch(school, product, key, key in wanted, user=user):
                changed += 1
    return changed


@register_page
def switches(request: HttpRequest, school_id: int, product_id: int) -> HttpResponse:
    user = user_of(request)
    school = school_or_404(request, school_id)
    product = get_object_or_404(
        Product.objects.filter(schedules__agreement__board_id=school.board_id)
        .select_related("supplier")
        .distinct(),
        pk=product_id,
    )
    form = SwitchesForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            changed = _save_switches(school, product, set(form.cleaned_data["on"]), user)
        except services.Refused as error:
            add_refusal(form, error)
        else:
            if changed:
                messages.success(request, _("De schakelaars zijn opgeslagen."))
            else:
                messages.success(request, _("Er is niets veranderd."))
            return redirect("agreements:switches", school_id=school.pk, product_id=product.pk)
    agreement = services.current_agreement(school.board_id, product)
    rows, sampled, total = _switch_rows(school, product)
    context = {
        "school": school,
        "product": product,
        "agreement": agreement,
        "agreement_active": agreement is not None and agreement.status == AgreementStatus.ACTIVE,
        "rows": rows,
        "form": form,
        "sampled": sampled,
        "total": total,
    }
    return render(request, "agreements/switches.html", context)


# --- consent -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentState:
    attribute: catalogue.Attribute
    state: str  # "given", "withdrawn" or "never"
    latest: Consent | None


@dataclass(frozen=True)
class ProductConsents:
    product: Product
    states: list[ConsentState]
    decision: policy.Decision

    def allowed_labels(self) -> list[str]:
        return [str(a.label) for a in catalogue.ATTRIBUTES if a.key in self.decision.allowed]

    def refusals(self) -> list[tuple[str, str]]:
        return [
            (str(catalogue.CATALOGUE[refusal.attribute].label), refusal.explanation)
            for refusal in self.decision.refused
            if refusal.attribute in catalogue.CATALOGUE
        ]


def _licensed_products(student: Student, day: date) -> QuerySet[Product]:
    covering = Licence.objects.in_force_on(day).covering(student)
    return (
        Product.objects.filter(licences__in=covering)
        .select_related("supplier")
        .distinct()
        .order_by("supplier__name", "name")
    )


def _consent_overview(student: Student, history: list[Consent]) -> list[ProductConsents]:
    latest: dict[tuple[int, str], Consent] = {}
    for item in sorted(history, key=lambda c: (c.decided_at, c.pk), reverse=True):
        latest.setdefault((item.product_id, item.attribute), item)
    overview = []
    for product in _licensed_products(student, timezone.localdate()):
        schedule = services.schedule_attributes(student.school.board_id, product)
        gated = [a for a in catalogue.ATTRIBUTES if a.consent_gated and a.key in schedule]
        states = []
        for attribute in gated:
            record = latest.get((product.pk, attribute.key))
            state = "never" if record is None else ("given" if record.given else "withdrawn")
            states.append(ConsentState(attribute, state, record))
        # What the schedule names; without a schedule the pseudonym alone, to show why not.
        requested = [a.key for a in catalogue.ATTRIBUTES if a.key in schedule]
        decision = policy.decide(product, student, requested or [catalogue.SUPPLIER_PSEUDONYM])
        overview.append(ProductConsents(product, states, decision))
    return overview


def _consent_products(student: Student) -> QuerySet[Product]:
    """Products a decision can be recorded for: those with a running agreement of the board."""
    running = [
        AgreementStatus.DRAFT,
        AgreementStatus.OFFERED,
        AgreementStatus.SIGNED,
        AgreementStatus.ACTIVE,
    ]
    return (
        Product.objects.filter(
            schedules__agreement__board_id=student.school.board_id,
            schedules__agreement__status__in=running,
        )
        .select_related("supplier")
        .distinct()
        .order_by("supplier__name", "name")
    )


@register_page
def consents(request: HttpRequest, student_id: int) -> HttpResponse:
    user = user_of(request)
    student = student_or_404(request, student_id)
    history = list(services.consent_history(student).select_related("recorded_by"))
    overview = _consent_overview(student, history)
    form = ConsentForm(
        request.POST if request.method == "POST" else None,
        student=student,
        products=_consent_products(student),
        needed={
            item.product: [s.attribute for s in item.states] for item in overview if item.states
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.record_consent(
                student,
                data["product"],
                data["attribute"],
                data["decision"] == ConsentForm.GIVEN,
                guardian=data["guardian"],
                user=user,
            )
        except services.Refused as error:
            add_refusal(form, error)
        else:
            messages.success(request, _("Het besluit over toestemming is vastgelegd."))
            return redirect("agreements:consents", student_id=student.pk)
    history.sort(key=lambda item: (item.decided_at, item.pk), reverse=True)
    context = {
        "student": student,
        "pupil_decides": services.decides_own_consent(student),
        "age": student.age_on(timezone.localdate()),
        "overview": overview,
        "history": history,
        "form": form,
    }
    return render(request, "agreements/consents.html", context)


# --- the participation council -------------------------------------------------------------------


@board_register_page
def council(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    boards = services.editable_boards(user).order_by("name")
    form = CouncilDecisionForm(
        request.POST if request.method == "POST" else None,
        boards=boards,
        initial={"board": boards.first()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.record_council_decision(
                data["board"],
                document_title=data["document_title"],
                document_version=data["document_version"],
                decided_on=data["decided_on"],
                decision=data["decision"],
                notes=data["notes"],
                user=user,
            )
        except services.Refused as error:
            add_refusal(form, error)
        else:
            messages.success(request, _("Het besluit van de medezeggenschapsraad is vastgelegd."))
            return redirect("agreements:council")
    decisions = (
        CouncilDecision.objects.filter(board__in=boards)
        .select_related("board")
        .order_by("board__name", "-decided_on", "-pk")
    )
    context = {"form": form, "decisions": decisions, "several_boards": boards.count() > 1}
    return render(request, "agreements/council.html", context)
