"""The OneRoster 1.2 Gradebook Service, REST/JSON binding, minimal: suppliers put line items and
results (``PUT /lineItems/{sourcedId}``, ``PUT /results/{sourcedId}``).

Mounted at ``/ims/oneroster/gradebook/v1p2/`` (the binding's base path). Every request needs a
client-credentials bearer token with ``gradebook.createput``. What a supplier may write follows
what it may read (:class:`..oneroster.release.SupplierView`):

- a line item's class is the per-supplier keyed id of a class the supplier sees (licensed);
- a result's student is the supplier's own pseudonym of a pupil it sees today, and the release
  policy must allow ``results`` for that pupil and (one of) the client's product(s).

An unknown id and an id the supplier may not see get the same ``404 unknownobject``; a pupil whose
results the policy does not allow gets ``403 forbidden``; a body over :data:`MAX_BODY_BYTES` gets
``413``. A refused request stores nothing and is one ``gateway.request.refused`` event; an accepted
result is one ``gateway.result.received`` event. PUT is idempotent: the same ``sourcedId`` again
replaces the object.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError

from regie.agreements import policy
from regie.audit.services import record
from regie.nummervoorziening.client import NummervoorzieningClientError

from .. import events
from ..models import LineItem, OAuthClient, Result, SupplierPseudonym
from ..oneroster import api as roster_api
from ..oneroster import schemas as roster_schemas
from ..oneroster.errors import InvalidData, OneRosterError, UnknownObject
from ..oneroster.release import SupplierView, moment, ref
from ..scopes import GRADEBOOK_CREATEPUT
from . import schemas

ROOT_PATH = "/ims/oneroster/gradebook/v1p2"
ROSTER_ROOT = roster_api.ROOT_PATH
MAX_BODY_BYTES = 64 * 1024
RESULTS = "results"


class PayloadTooLarge(OneRosterError):
    """The body is larger than :data:`MAX_BODY_BYTES`."""

    code_minor = "invaliddata"
    status = 413


class ResultsNotAllowed(OneRosterError):
    """The release policy does not allow results of this pupil for this product."""

    code_minor = "forbidden"
    status = 403


class GradebookToken(roster_api.RosterToken):
    """A bearer token with ``gradebook.createput``, and a body no larger than the limit."""

    def __call__(self, request: HttpRequest) -> OAuthClient:
        client = super().__call__(request)
        request.auth = client  # type: ignore[attr-defined]  # the refusal audit names the client
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > MAX_BODY_BYTES or len(request.body) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"the body may be at most {MAX_BODY_BYTES} bytes")
        return client


GRADEBOOK = GradebookToken(GRADEBOOK_CREATEPUT)

api = NinjaAPI(
    title="regie OneRoster 1.2 gradebook (for suppliers)",
    version="1.2",
    description=(
        "The 1EdTech OneRoster 1.2 Gradebook Service (REST/JSON binding), minimal: a supplier "
        "puts line items for the classes it sees and results for its own pseudonyms of the "
        "pupils it sees, when the release policy allows results."
    ),
    urls_namespace="gradebook",
    auth=GRADEBOOK,
    docs_url=None,
)

api.add_exception_handler(OneRosterError, roster_api._on_oneroster_error)  # type: ignore[arg-type]
api.add_exception_handler(ValidationError, roster_api._on_validation)  # type: ignore[arg-type]
api.add_exception_handler(HttpError, roster_api._on_http_error)  # type: ignore[arg-type]
api.add_exception_handler(
    NummervoorzieningClientError,
    roster_api._on_number_service,  # type: ignore[arg-type]
)
api.add_exception_handler(Exception, roster_api._on_unexpected)  # type: ignore[arg-type]

R: dict[int, Any] = {
    400: roster_schemas.StatusInfo,
    401: roster_schemas.StatusInfo,
    403: roster_schemas.StatusInfo,
    404: roster_schemas.StatusInfo,
    413: roster_schemas.StatusInfo,
    503: roster_schemas.StatusInfo,
}


def _view(request: HttpRequest) -> SupplierView:
    client: OAuthClient = request.auth  # type: ignore[attr-defined]
    return SupplierView(client, request.build_absolute_uri(ROSTER_ROOT))


def _same_id(path_id: str, body_id: str | None) -> None:
    if body_id is not None and body_id != path_id:
        raise InvalidData("sourcedId in the body differs from the one in the path")


def _line_item_record(view: SupplierView, item: LineItem) -> dict[str, Any]:
    return {
        "sourcedId": item.sourced_id,
        "status": "active",
        "dateLastModified": moment(item.updated_at),
        "title": item.title,
        "class": ref(view.base, "class", "classes", view.keyed("class", item.group_id)),
    }


@api.put(
    "/lineItems/{sourced_id}",
    response={200: schemas.SingleLineItem, 201: schemas.SingleLineItem, **R},
    operation_id="putLineItem",
)
def put_line_item(request: HttpRequest, sourced_id: str, body: schemas.PutLineItem) -> HttpResponse:
    given = body.lineItem
    _same_id(sourced_id, given.sourcedId)
    view = _view(request)
    group = view.class_of(given.class_.sourcedId)
    if group is None:
        raise UnknownObject("there is no class with this sourcedId that you may see")
    item, created = LineItem.objects.update_or_create(
        supplier=view.supplier,
        sourced_id=sourced_id,
        defaults={"group": group, "title": given.title, "product": view.client.product},
    )
    answer = {"lineItem": _line_item_record(view, item)}
    return roster_api._json(answer) if not created else _created(answer)


def _created(body: Any) -> HttpResponse:
    response = roster_api._json(body)
    response.status_code = 201
    return response


@api.put(
    "/results/{sourced_id}",
    response={200: schemas.SingleResult, 201: schemas.SingleResult, **R},
    operation_id="putResult",
)
def put_result(request: HttpRequest, sourced_id: str, body: schemas.PutResult) -> HttpResponse:
    given = body.result
    _same_id(sourced_id, given.sourcedId)
    view = _view(request)
    item = LineItem.objects.filter(
        supplier=view.supplier, sourced_id=given.lineItem.sourcedId
    ).first()
    if item is None or item.group_id not in view.classes:
        raise UnknownObject("there is no lineItem with this sourcedId that you may see")
    known = (
        SupplierPseudonym.objects.filter(supplier=view.supplier, value=given.student.sourcedId)
        .select_related("student")
        .first()
    )
    if known is None or known.student_id not in view.decisions:
        raise UnknownObject("there is no student with this sourcedId that you may see")
    student = known.student
    product = next(
        (
            candidate
            for candidate in view.products
            if RESULTS in policy.decide(candidate, student, (RESULTS,), day=view.day).allowed
        ),
        None,
    )
    if product is None:
        raise ResultsNotAllowed("the release policy does not allow results of this student")
    with transaction.atomic():
        result, created = Result.objects.update_or_create(
            supplier=view.supplier,
            sourced_id=sourced_id,
            defaults={
                "product": product,
                "line_item": item,
                "student": student,
                "score": given.score,
                "score_status": given.scoreStatus,
                "score_date": given.scoreDate,
                "comment": given.comment or "",
            },
        )
        record(
            events.RESULT_RECEIVED,
            f"client:{view.client.pk}",
            f"student:{student.pk}",
            {
                "supplier": view.supplier.pk,
                "product": product.pk,
                "line_item": item.pk,
                "created": created,
            },
        )
    answer: dict[str, Any] = {
        "result": {
            "sourcedId": result.sourced_id,
            "status": "active",
            "dateLastModified": moment(result.updated_at),
            "lineItem": {
                "href": request.build_absolute_uri(f"{ROOT_PATH}/lineItems/{item.sourced_id}"),
                "sourcedId": item.sourced_id,
                "type": "lineItem",
            },
            "student": ref(view.base, "student", "students", known.value),
            "scoreStatus": result.score_status,
        }
    }
    if result.score is not None:
        answer["result"]["score"] = result.score
    if result.score_date is not None:
        answer["result"]["scoreDate"] = result.score_date.isoformat()
    if result.comment:
        answer["result"]["comment"] = result.comment
    return _created(answer) if created else roster_api._json(answer)
