"""Rights requests in the portal: a child's requests and the form to file one, one request (its
status, deadline, each supplier's part, the hub's own outcome, the steps) and an access
request's export.

Every request is loaded and then its child through :func:`regie.portal.access.child_for`: a
request about a child this login does not act for is a 404.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from regie.agreements.services import Refused
from regie.audit.models import AuditEvent
from regie.orders.models import OrderState
from regie.roster.models import Student

from .. import presentation, requests
from ..access import child_for, portal_required
from ..models import RequestKind, RequestState, RightsRequest


class RequestForm(forms.Form):
    kind = forms.ChoiceField(choices=RequestKind.choices)
    explanation = forms.CharField(required=False, max_length=5000)


def _is_pupil(request: HttpRequest) -> bool:
    from regie.accounts import guardians

    return not guardians.is_guardian(request.user)


@portal_required
def request_list(request: HttpRequest, student_id: int) -> HttpResponse:
    child = child_for(request, student_id)
    form = RequestForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                rr = requests.file(
                    child,
                    form.cleaned_data["kind"],
                    request.user,
                    form.cleaned_data["explanation"],
                )
            except Refused as error:
                messages.error(request, error.reason)
                status = 400
            else:
                messages.success(request, _("Het verzoek is ontvangen."))
                return redirect("portal:request", request_id=rr.pk)
        else:
            messages.error(request, _("Kies een recht."))
            status = 400
    context = {
        "child": child,
        "requests": RightsRequest.objects.filter(student=child).order_by("-received_at"),
        "kinds": presentation.kinds(_is_pupil(request)),
        "chosen": form.data.get("kind", ""),
        "explanation": form.data.get("explanation", ""),
        "is_pupil": _is_pupil(request),
        "today": timezone.localdate(),
    }
    return render(request, "portal/requests.html", context, status=status)


def _request_for(request: HttpRequest, request_id: object) -> RightsRequest:
    rr: RightsRequest = get_object_or_404(
        RightsRequest.objects.select_related("student"), pk=request_id
    )
    child_for(request, rr.student_id)
    return rr


@portal_required
def request_detail(request: HttpRequest, request_id: object) -> HttpResponse:
    rr = _request_for(request, request_id)
    context = {
        "rr": rr,
        "child": rr.student,
        "parts": requests.parts(rr),
        "steps": presentation.step_lines(rr),
        "hub": presentation.hub_lines(rr),
        "overdue": requests.is_overdue(rr),
        "is_open": rr.state in (RequestState.RECEIVED, RequestState.IN_PROGRESS),
        "has_export": _has_export(rr),
        "has_mail": requests.requester_address(rr) is not None,
        "is_pupil": _is_pupil(request),
        "rectification": rr.kind == RequestKind.RECTIFICATION,
    }
    return render(request, "portal/request.html", context)


def _has_export(rr: RightsRequest) -> bool:
    return rr.kind == RequestKind.ACCESS and rr.state == RequestState.COMPLETED


def hub_holds(student: Student) -> dict[str, Any]:
    """What the hub holds about ``student``: the roster record, the guardians' links, consents,
    licences, results and releases."""
    from regie.agreements.models import Consent, Licence
    from regie.gateway.models import Result

    record = {
        field.name: getattr(student, field.attname)
        for field in Student._meta.concrete_fields
        if field.name not in ("previous",)
    }
    record["school"] = student.school.name
    record["groups"] = [group.name for group in student.groups.all()]
    return {
        "pupil": record,
        "guardians": [
            {"name": str(guardian), "relation": guardian.relation, "active": guardian.is_active}
            for guardian in student.guardians.all()
        ],
        "consents": [
            {
                "product": consent.product.name,
                "attribute": consent.attribute,
                "given": consent.given,
                "given_by": consent.given_by,
                "decided_at": consent.decided_at,
            }
            for consent in Consent.objects.filter(student=student).select_related("product")
        ],
        "licences": [
            {"product": licence.product.name, "school_year": str(licence.school_year)}
            for licence in Licence.objects.covering(student)
            .select_related("product", "school_year")
            .distinct()
        ],
        "results": [
            {
                "supplier": result.supplier.name,
                "line_item": str(result.line_item),
                "score": result.score,
                "status": result.score_status,
                "date": result.score_date,
                "comment": result.comment,
            }
            for result in Result.objects.filter(student=student).select_related(
                "supplier", "line_item"
            )
        ],
        "releases": [
            {"at": event.occurred_at, **event.details}
            for event in AuditEvent.objects.filter(
                event_type="gateway.release", subject=f"student:{student.pk}"
            ).order_by("occurred_at", "pk")
        ],
    }


@portal_required
def request_export(request: HttpRequest, request_id: object) -> HttpResponse:
    rr = _request_for(request, request_id)
    if not _has_export(rr):
        raise Http404
    answers = [
        {
            "supplier": part.supplier.name,
            "state": part.order.state if part.order else "not_sent",
            "statement": part.statement,
            "data": part.data,
        }
        for part in requests.parts(rr)
        if part.order is None
        or part.order.state in (OrderState.COMPLETED, OrderState.REFUSED)
        or part.officer_refusal
    ]
    export = {
        "request": {"id": str(rr.pk), "kind": rr.kind, "received_at": rr.received_at},
        "hub": hub_holds(rr.student),
        "suppliers": answers,
    }
    response = HttpResponse(
        json.dumps(export, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="inzage-{rr.pk}.json"'
    return response
