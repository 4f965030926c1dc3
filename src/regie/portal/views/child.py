"""The pages about one child: the overview (what the school holds, what went where with proofs,
under which agreement, what goes now, who at school sees it), its printable version and download,
the proof of one release, consent, and the page on checking the log yourself.

Every view about a child loads it through :func:`regie.portal.access.child_for` (404 for a child
this login does not act for today); a proof only for a release event of that child.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from regie.accounts import guardians
from regie.agreements import catalogue, policy
from regie.agreements import services as register
from regie.agreements.models import Consent, ConsentGivenBy, Product
from regie.roster.models import Student
from regie.transparency import keys
from regie.transparency import services as transparency

from .. import overview
from ..access import child_for, portal_required


def is_pupil(request: HttpRequest) -> bool:
    """The login is the pupil's own (the page says "je"), not a guardian's ("u")."""
    return not guardians.is_guardian(request.user)


def _context(request: HttpRequest, student: Student) -> dict[str, object]:
    return {
        "student": student,
        "view": overview.overview(student),
        "is_pupil": is_pupil(request),
        "view_day": timezone.localdate(),
    }


@portal_required
@require_GET
def child(request: HttpRequest, student_id: int) -> HttpResponse:
    student = child_for(request, student_id)
    return render(request, "portal/child.html", _context(request, student))


@portal_required
@require_GET
def child_print(request: HttpRequest, student_id: int) -> HttpResponse:
    student = child_for(request, student_id)
    return render(request, "portal/child_print.html", _context(request, student))


@portal_required
@require_GET
def child_download(request: HttpRequest, student_id: int) -> HttpResponse:
    student = child_for(request, student_id)
    body = overview.as_json(overview.overview(student))
    response = HttpResponse(
        orjson.dumps(body, option=orjson.OPT_INDENT_2), content_type="application/json"
    )
    day = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="regie-overzicht-{day}.json"'
    return response


@portal_required
@require_GET
def release_proof(request: HttpRequest, student_id: int, event_id: int) -> HttpResponse:
    """The proof bundle of one release of this child, for ``regie-verify bundle``."""
    student = child_for(request, student_id)
    event = overview.release_event(student, event_id)
    if event is None:
        raise Http404
    try:
        body = transparency.bundle(event)
    except keys.LogKeyError:
        return HttpResponse(
            _("Het bewijs kan nu niet worden gemaakt. Probeer het later opnieuw."),
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    except LookupError:
        raise Http404 from None
    response = HttpResponse(
        orjson.dumps(body, option=orjson.OPT_INDENT_2), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="regie-bewijs-{event.pk}.json"'
    return response


@portal_required
@require_GET
def verify(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/verify.html",
        {"is_pupil": is_pupil(request), "log_url": request.build_absolute_uri("/log/")},
    )


# --- Consent -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    given: bool
    who: str


@dataclass(frozen=True)
class ConsentLine:
    product: Product
    attribute: str
    label: str
    given: bool | None  # the decision in force; None: never decided
    goes_now: bool  # the release policy lets it go today
    history: list[HistoryLine]


def _who(request: HttpRequest, consent: Consent, mine: set[int]) -> str:
    pupil = is_pupil(request)
    if consent.given_by == ConsentGivenBy.PUPIL:
        return _("jij") if pupil else _("de leerling")
    if pupil:
        return _("je ouder of verzorger")
    if consent.recorded_by_id == request.user.pk:
        return _("u")
    if consent.guardian_id in mine:
        return _("de school, namens u")
    return _("de andere ouder of verzorger")


def consent_lines(request: HttpRequest, student: Student) -> list[ConsentLine]:
    """Per licensed product of the child's school and per consent-gated attribute its schedule
    names: the decision in force, whether it goes now, and every decision before."""
    account = guardians.account_of(request.user)
    mine = (
        set(guardians.guardian_records(account).values_list("pk", flat=True)) if account else set()
    )
    history = list(register.consent_history(student).order_by("-decided_at", "-pk"))
    lines = []
    products = register.licensed_products(student.school).select_related("supplier")
    for product in products.order_by("supplier__name", "name"):
        gated = register.schedule_attributes(student.school.board_id, product)
        gated &= catalogue.CONSENT_GATED
        if not gated:
            continue
        allowed = policy.decide(product, student).allowed
        for item in catalogue.ATTRIBUTES:
            if item.key not in gated:
                continue
            decisions = [
                c for c in history if c.product_id == product.pk and c.attribute == item.key
            ]
            lines.append(
                ConsentLine(
                    product,
                    item.key,
                    str(item.label),
                    decisions[0].given if decisions else None,
                    item.key in allowed,
                    [HistoryLine(c.decided_at, c.given, _who(request, c, mine)) for c in decisions],
                )
            )
    return lines


def _record(request: HttpRequest, student: Student) -> None:
    lines = consent_lines(request, student)
    wanted = (request.POST.get("product", ""), request.POST.get("attribute", ""))
    line = next((i for i in lines if (str(i.product.pk), i.attribute) == wanted), None)
    given = request.POST.get("given", "")
    if line is None or given not in ("1", "0"):
        messages.error(request, _("Kies een leermiddel en een gegeven uit de lijst."))
        return
    try:
        register.record_consent(
            student,
            line.product,
            line.attribute,
            given == "1",
            guardian=guardians.guardian_for(request.user, student),
            user=request.user,  # type: ignore[arg-type]
        )
    except register.Refused as refused:
        messages.error(request, refused.reason)
        return
    params = {"product": line.product.name, "attribute": line.label}
    if given == "1":
        text = _("Toestemming gegeven voor %(attribute)s bij %(product)s. Dit geldt meteen.")
    else:
        text = _("Toestemming ingetrokken voor %(attribute)s bij %(product)s. Dit geldt meteen.")
    messages.success(request, text % params)


@portal_required
@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest, student_id: int) -> HttpResponse:
    student = child_for(request, student_id)
    if request.method == "POST":
        _record(request, student)
        return redirect("portal:consent", student.pk)
    return render(
        request,
        "portal/consent.html",
        {
            "student": student,
            "lines": consent_lines(request, student),
            "is_pupil": is_pupil(request),
        },
    )
