"""The OneRoster 1.2 Gradebook Service, REST/JSON binding, for a supplier's own line items and
results: ``getAllLineItems``, ``getLineItem``, ``putLineItem``, ``deleteLineItem``,
``getAllResults``, ``getResult``, ``putResult``, ``deleteResult``, ``getLineItemsForClass``,
``getResultsForClass``, ``getResultsForLineItemForClass`` and ``getResultsForStudentForClass``.
No categories, score scales or assessment objects.

Mounted at ``/ims/oneroster/gradebook/v1p2/`` (the binding's base path). Every request needs a
client-credentials bearer token with the operation's scope: ``gradebook.readonly`` to read,
``gradebook.createput`` to put, ``gradebook.delete`` to delete. What a supplier may write follows
what it may read in the roster (:class:`..oneroster.release.SupplierView`):

- a line item's class is the per-supplier keyed id of a class the supplier sees (licensed);
- a result's student is the supplier's own pseudonym of a pupil it sees today who is enrolled in
  the line item's class, and the release policy must allow ``results`` for that pupil and (one
  of) the client's product(s).

It reads and deletes only what it put itself (:mod:`.records`). An unknown id, another supplier's
id and an id the supplier may not see get the same ``404 unknownobject``; a pupil not in the line
item's class ``422 invaliddata``; a pupil whose results the policy does not allow ``403
forbidden``; a body over :data:`MAX_BODY_BYTES` ``413``. A refused request stores nothing and is
one ``gateway.request.refused`` event; an accepted result is one ``gateway.result.received``
event, a deleted one ``gateway.result.deleted``; an answer with results is one
``gateway.release``. PUT is idempotent: the same ``sourcedId`` again replaces the object. DELETE
removes the object at once (a line item with its results) and answers ``204``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI, Query
from ninja.params.functions import Path

from regie.agreements import policy
from regie.audit.services import client_actor, record

from .. import events, pseudonyms
from ..models import LineItem, OAuthClient, Result, SupplierPseudonym
from ..oneroster import binding, paths, query
from ..oneroster import schemas as roster_schemas
from ..oneroster.errors import InvalidData, OneRosterError, UnknownObject
from ..oneroster.query import Record
from ..oneroster.release import SupplierView
from ..scopes import GRADEBOOK_CREATEPUT, GRADEBOOK_DELETE, GRADEBOOK_READ
from ..signals import RESULTS as RESULTS_CHANNEL
from ..signals import pseudonym_seen
from . import records, schemas
from .records import RESULTS

ROOT_PATH = "/ims/oneroster/gradebook/v1p2"
MAX_BODY_BYTES = 64 * 1024
MAX_ID = 255
STUDENT_ID = (
    "The pupil's sourcedId (your pseudonym) by its last segment, as in the `href` the hub gives, "
    "or in full: raw or percent-encoded. See docs/oneroster-rest.md, Ids in paths."
)


class PayloadTooLarge(OneRosterError):
    """The body is larger than :data:`MAX_BODY_BYTES`."""

    code_minor = "invaliddata"
    status = 413


class ResultsNotAllowed(OneRosterError):
    """The release policy does not allow results of this pupil for this product."""

    code_minor = "forbidden"
    status = 403


class Unprocessable(OneRosterError):
    """Well-formed, but against the gradebook's rules: a result for a pupil who is not enrolled
    in the line item's class, or moving a line item with results to another class."""

    code_minor = "invaliddata"
    status = 422


class GradebookToken(binding.RosterToken):
    """A bearer token with the operation's gradebook scope, and a body no larger than the limit."""

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
READ = GradebookToken(GRADEBOOK_READ)
DELETE = GradebookToken(GRADEBOOK_DELETE)

api = NinjaAPI(
    title="regie OneRoster 1.2 gradebook (for suppliers)",
    version="1.2",
    description=(
        "The 1EdTech OneRoster 1.2 Gradebook Service (REST/JSON binding), line items and "
        "results: a supplier puts line items for the classes it sees and results for its own "
        "pseudonyms of the pupils it sees in those classes, when the release policy allows "
        "results; it reads back and deletes only its own. See docs/oneroster-rest.md."
    ),
    urls_namespace="gradebook",
    auth=GRADEBOOK,
    docs_url=None,
)

binding.install_error_handlers(api)

R: dict[int, Any] = {
    400: roster_schemas.StatusInfo,
    401: roster_schemas.StatusInfo,
    403: roster_schemas.StatusInfo,
    404: roster_schemas.StatusInfo,
    413: roster_schemas.StatusInfo,
    503: roster_schemas.StatusInfo,
}
WRITE = {**R, 422: roster_schemas.StatusInfo}


def _path_id(max_length: int = MAX_ID, description: str | None = None) -> Any:
    """A path id: never NUL (no database stores it), at most as long as a stored id."""
    return Path(..., max_length=max_length, pattern=schemas.NO_NUL, description=description)


def _root(request: HttpRequest) -> str:
    return request.build_absolute_uri(ROOT_PATH)


def _same_id(path_id: str, body_id: str | None) -> None:
    if body_id is not None and body_id != path_id:
        raise InvalidData("sourcedId in the body differs from the one in the path")


def _created(body: Any) -> HttpResponse:
    return binding.json_response(body, status=201)


# Collections: paging, sorting, filtering and field selection exactly as the rostering service
# (``binding.collection``); single objects as its ``single``, looked up in the database.


def _single(
    request: HttpRequest,
    name: str,
    find: Callable[[SupplierView], Record | None],
    fields: tuple[str, ...],
) -> HttpResponse:
    selection = query.parse_selection(binding.params(request), fields)
    view = binding.view_for(request)
    found = find(view)
    if found is None:
        raise UnknownObject(f"there is no {name} with this sourcedId that you may see")
    binding.audit_release(request, view, [found], selection)
    return binding.json_response({name: query.select(found, selection)})


def _own_item(view: SupplierView, sourced_id: str) -> LineItem:
    item = records.own_line_items(view).filter(sourced_id=sourced_id).first()
    if item is None:
        raise UnknownObject("there is no lineItem with this sourcedId that you may see")
    return item


def _class(view: SupplierView, sourced_id: str) -> int:
    group_id = records.class_id_of(view, sourced_id)
    if group_id is None:
        raise UnknownObject("there is no class with this sourcedId that you may see")
    return group_id


def _results_of(
    request: HttpRequest, narrow: Callable[[SupplierView], dict[str, Any]]
) -> Callable[[SupplierView], list[Record]]:
    root = _root(request)

    def build(view: SupplierView) -> list[Record]:
        found = records.own_results(view).filter(**narrow(view))
        return records.result_records(view, root, found)

    return build


# --- line items ---------------------------------------------------------------------------------


@api.get(
    "/lineItems",
    response={200: schemas.LineItems, **R},
    operation_id="getAllLineItems",
    auth=READ,
    description=f"Needs the scope `{GRADEBOOK_READ.name}`.",
)
def get_all_line_items(request: HttpRequest, paging: Query[schemas.Paging]) -> HttpResponse:
    def build(view: SupplierView) -> list[Record]:
        return records.line_item_records(view, records.own_line_items(view))

    return binding.collection(
        request, "lineItems", build, records.LINE_ITEM_FIELDS, records.LINE_ITEM_FILTERABLE
    )


@api.get(
    "/lineItems/{path:sourced_id}",
    response={200: schemas.SingleLineItem, **R},
    operation_id="getLineItem",
    auth=READ,
    description=f"Needs the scope `{GRADEBOOK_READ.name}`.",
)
def get_line_item(
    request: HttpRequest, selection: Query[schemas.Selection], sourced_id: str = _path_id()
) -> HttpResponse:
    def find(view: SupplierView) -> Record | None:
        item = records.own_line_items(view).filter(sourced_id=sourced_id).first()
        return None if item is None else records.line_item_record(view, item)

    return _single(request, "lineItem", find, records.LINE_ITEM_FIELDS)


@api.put(
    "/lineItems/{path:sourced_id}",
    response={200: schemas.SingleLineItem, 201: schemas.SingleLineItem, **WRITE},
    operation_id="putLineItem",
    description=f"Needs the scope `{GRADEBOOK_CREATEPUT.name}`.",
)
def put_line_item(
    request: HttpRequest, body: schemas.PutLineItem, sourced_id: str = _path_id()
) -> HttpResponse:
    given = body.lineItem
    _same_id(sourced_id, given.sourcedId)
    view = binding.view_for(request)
    group = view.class_of(given.class_.sourcedId)
    if group is None:
        raise UnknownObject("there is no class with this sourcedId that you may see")
    with transaction.atomic():
        existing = (
            records.own_line_items(view).select_for_update().filter(sourced_id=sourced_id).first()
        )
        if existing is not None and existing.group_id != group.pk and existing.results.exists():
            raise Unprocessable("a lineItem with results cannot move to another class")
        item, created = LineItem.objects.update_or_create(
            supplier=view.supplier,
            sourced_id=sourced_id,
            defaults={"group": group, "title": given.title, "product": view.client.product},
        )
    answer = {"lineItem": records.line_item_record(view, item)}
    return _created(answer) if created else binding.json_response(answer)


@api.delete(
    "/lineItems/{path:sourced_id}",
    response={204: None, **R},
    operation_id="deleteLineItem",
    auth=DELETE,
    description=f"Needs the scope `{GRADEBOOK_DELETE.name}`.",
)
def delete_line_item(request: HttpRequest, sourced_id: str = _path_id()) -> HttpResponse:
    view = binding.view_for(request)
    with transaction.atomic():
        item = _own_item(view, sourced_id)
        for result in item.results.all():
            _audit_deleted(view, result, with_line_item=True)
        item.delete()
    return HttpResponse(status=204)


# --- results ------------------------------------------------------------------------------------


@api.get(
    "/results",
    response={200: schemas.Results, **R},
    operation_id="getAllResults",
    auth=READ,
    description=f"Needs the scope `{GRADEBOOK_READ.name}`.",
)
def get_all_results(request: HttpRequest, paging: Query[schemas.Paging]) -> HttpResponse:
    build = _results_of(request, lambda view: {})
    return binding.collection(
        request, "results", build, records.RESULT_FIELDS, records.RESULT_FILTERABLE
    )


@api.get(
    "/results/{path:sourced_id}",
    response={200: schemas.SingleResult, **R},
    operation_id="getResult",
    auth=READ,
    description=f"Needs the scope `{GRADEBOOK_READ.name}`.",
)
def get_result(
    request: HttpRequest, selection: Query[schemas.Selection], sourced_id: str = _path_id()
) -> HttpResponse:
    build = _results_of(request, lambda view: {"sourced_id": sourced_id})

    def find(view: SupplierView) -> Record | None:
        found = build(view)
        return found[0] if found else None

    return _single(request, "result", find, records.RESULT_FIELDS)


@api.put(
    "/results/{path:sourced_id}",
    response={200: schemas.SingleResult, 201: schemas.SingleResult, **WRITE},
    operation_id="putResult",
    description=f"Needs the scope `{GRADEBOOK_CREATEPUT.name}`.",
)
def put_result(
    request: HttpRequest, body: schemas.PutResult, sourced_id: str = _path_id()
) -> HttpResponse:
    given = body.result
    _same_id(sourced_id, given.sourcedId)
    view = binding.view_for(request)
    item = records.own_line_items(view).filter(sourced_id=given.lineItem.sourcedId).first()
    if item is None or item.group_id not in view.classes:
        raise UnknownObject("there is no lineItem with this sourcedId that you may see")
    known = pseudonyms.find(view.supplier, given.student.sourcedId)
    if known is not None:
        pseudonym_seen.send(
            sender=SupplierView,
            supplier=view.supplier,
            student_id=known.student_id,
            channel=RESULTS_CHANNEL,
        )
    if known is None or known.student_id not in view.decisions:
        raise UnknownObject("there is no student with this sourcedId that you may see")
    student = known.student
    if not view.enrolled(student.pk, item.group_id):  # as released: no membership is told
        raise Unprocessable("the student is not enrolled in the class of this lineItem")
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
            client_actor(view.client),
            f"student:{student.pk}",
            {
                "supplier": view.supplier.pk,
                "product": product.pk,
                "line_item": item.pk,
                "created": created,
            },
        )
    stored = records.result_record(view, _root(request), result, known.value)
    answer = {"result": query.select(stored, None)}
    return _created(answer) if created else binding.json_response(answer)


@api.delete(
    "/results/{path:sourced_id}",
    response={204: None, **R},
    operation_id="deleteResult",
    auth=DELETE,
    description=f"Needs the scope `{GRADEBOOK_DELETE.name}`.",
)
def delete_result(request: HttpRequest, sourced_id: str = _path_id()) -> HttpResponse:
    view = binding.view_for(request)
    with transaction.atomic():
        result = records.own_results(view).filter(sourced_id=sourced_id).first()
        if result is None:
            raise UnknownObject("there is no result with this sourcedId that you may see")
        _audit_deleted(view, result, with_line_item=False)
        result.delete()
    return HttpResponse(status=204)


def _audit_deleted(view: SupplierView, result: Result, *, with_line_item: bool) -> None:
    record(
        events.RESULT_DELETED,
        client_actor(view.client),
        f"student:{result.student_id}",
        {
            "supplier": view.supplier.pk,
            "product": result.product_id,
            "line_item": result.line_item_id,
            "with_line_item": with_line_item,
        },
    )


def _student(view: SupplierView, asked: str) -> SupplierPseudonym | None:
    """The kept pseudonym a path names: in full (raw, percent-encoded or with its slashes
    merged by a proxy) or in its path form (:mod:`..oneroster.paths`)."""
    known = pseudonyms.find(view.supplier, asked)
    if known is None and (tail := paths.tail(asked)) is not None:
        known = pseudonyms.find_ending(view.supplier, f"/{tail}")
    if known is None or not paths.matches(asked, known.value):
        return None
    pseudonym_seen.send(
        sender=SupplierView,
        supplier=view.supplier,
        student_id=known.student_id,
        channel=RESULTS_CHANNEL,
    )
    return known


# --- per class ----------------------------------------------------------------------------------


@api.get(
    "/classes/{class_sourced_id}/lineItems",
    response={200: schemas.LineItems, **R},
    operation_id="getLineItemsForClass",
    auth=READ,
    description=f"Needs the scope `{GRADEBOOK_READ.name}`.",
)
def get_line_items_for_class(
    request: HttpRequest, paging: Query[schemas.Paging], class_sourced_id: str = _path_id()
) -> HttpResponse:
    def build(view: SupplierView) -> list[Record]:
        group_id = _class(view, class_sourced_id)
        return records.line_item_records(view, records.own_line_items(view).filter(group=group_id))

    return binding.collection(
        request, "lineItems", build, records.LINE_ITEM_FIELDS, records.LINE_ITEM_FILTERABLE
    )


@api.get(
    "/classes/{class_sourced_id}/results",
    response={200: schemas.Results, **R},
    operation_id="getResultsForClass",
    auth=READ,
    description=f"Needs the scope `{GRADEBOOK_READ.name}`.",
)
def get_results_for_class(
    request: HttpRequest, paging: Query[schemas.Paging], class_sourced_id: str = _path_id()
) -> HttpResponse:
    build = _results_of(request, lambda view: {"line_item__group": _class(view, class_sourced_id)})
    return binding.collection(
        request, "results", build, records.RESULT_FIELDS, records.RESULT_FILTERABLE
    )


@api.get(
    "/classes/{class_sourced_id}/lineItems/{path:line_item_sourced_id}/results",
    response={200: schemas.Results, **R},
    operation_id="getResultsForLineItemForClass",
    auth=READ,
    description=f"Needs the scope `{GRADEBOOK_READ.name}`.",
)
def get_results_for_line_item_for_class(
    request: HttpRequest,
    paging: Query[schemas.Paging],
    class_sourced_id: str = _path_id(),
    line_item_sourced_id: str = _path_id(),
) -> HttpResponse:
    def narrow(view: SupplierView) -> dict[str, Any]:
        group_id = _class(view, class_sourced_id)
        item = _own_item(view, line_item_sourced_id)
        if item.group_id != group_id:
            raise UnknownObject("there is no lineItem with this sourcedId in this class")
        return {"line_item": item}

    build = _results_of(request, narrow)
    return binding.collection(
        request, "results", build, records.RESULT_FIELDS, records.RESULT_FILTERABLE
    )


@api.get(
    "/classes/{class_sourced_id}/students/{path:student_sourced_id}/results",
    response={200: schemas.Results, **R},
    operation_id="getResultsForStudentForClass",
    auth=READ,
    description=f"Needs the scope `{GRADEBOOK_READ.name}`.",
)
def get_results_for_student_for_class(
    request: HttpRequest,
    paging: Query[schemas.Paging],
    class_sourced_id: str = _path_id(),
    student_sourced_id: str = _path_id(300, STUDENT_ID),
) -> HttpResponse:
    def narrow(view: SupplierView) -> dict[str, Any]:
        group_id = _class(view, class_sourced_id)
        known = _student(view, student_sourced_id)
        if known is None:
            raise UnknownObject("there is no student with this sourcedId that you may see")
        return {"line_item__group": group_id, "student": known.student_id}

    build = _results_of(request, narrow)
    return binding.collection(
        request, "results", build, records.RESULT_FIELDS, records.RESULT_FILTERABLE
    )
