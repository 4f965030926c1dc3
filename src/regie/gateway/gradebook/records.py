"""The supplier's own gradebook objects as records of the OneRoster 1.2 Gradebook REST binding.

A supplier reads back only the line items and results it put itself, whatever it may see in the
roster today (they are its own data); a result carries the supplier's own pseudonym of the pupil.
Records keep the hub's ``_`` keys for the release audit (:func:`..oneroster.binding.audit_release`):
which pupil, and which catalogue attribute each field releases.
"""

from __future__ import annotations

import hmac

from django.db.models import QuerySet

from regie.agreements.catalogue import SUPPLIER_PSEUDONYM

from .. import pseudonyms
from ..models import LineItem, Result
from ..oneroster.query import Record
from ..oneroster.release import SupplierView, moment, ref

RESULTS = "results"

LINE_ITEM_FILTERABLE = ("sourcedId", "status", "dateLastModified", "title")
LINE_ITEM_FIELDS = (*LINE_ITEM_FILTERABLE, "class")
RESULT_FILTERABLE = (
    "sourcedId",
    "status",
    "dateLastModified",
    "score",
    "scoreStatus",
    "scoreDate",
    "comment",
)
RESULT_FIELDS = (*RESULT_FILTERABLE, "lineItem", "student")

_RELEASED = {
    "sourcedId": (RESULTS,),
    "lineItem": (RESULTS,),
    "student": (SUPPLIER_PSEUDONYM, RESULTS),
    "score": (RESULTS,),
    "scoreStatus": (RESULTS,),
    "scoreDate": (RESULTS,),
    "comment": (RESULTS,),
}


def line_item_record(view: SupplierView, item: LineItem) -> Record:
    return {
        "sourcedId": item.sourced_id,
        "status": "active",
        "dateLastModified": moment(item.updated_at),
        "title": item.title,
        "class": ref(view.base, "class", "classes", view.keyed("class", item.group_id)),
    }


def result_record(view: SupplierView, root: str, result: Result, pseudonym: str | None) -> Record:
    """``root`` is the gradebook's root URL (for the line item's ``href``); the student's is the
    rostering service's, as for a class."""
    record: Record = {
        "sourcedId": result.sourced_id,
        "status": "active",
        "dateLastModified": moment(result.updated_at),
        "lineItem": ref(root, "lineItem", "lineItems", result.line_item.sourced_id),
        "scoreStatus": result.score_status,
    }
    if pseudonym is not None:
        record["student"] = ref(view.base, "student", "students", pseudonym)
    if result.score is not None:
        record["score"] = result.score
    if result.score_date is not None:
        record["scoreDate"] = result.score_date.isoformat()
    if result.comment:
        record["comment"] = result.comment
    record["_released"] = {name: _RELEASED[name] for name in record if name in _RELEASED}
    record["_pupil"] = result.student_id
    return record


def own_line_items(view: SupplierView) -> QuerySet[LineItem]:
    return LineItem.objects.filter(supplier=view.supplier)


def own_results(view: SupplierView) -> QuerySet[Result]:
    return Result.objects.filter(supplier=view.supplier).select_related("line_item")


def line_item_records(view: SupplierView, items: QuerySet[LineItem]) -> list[Record]:
    return [line_item_record(view, item) for item in items]


def result_records(view: SupplierView, root: str, results: QuerySet[Result]) -> list[Record]:
    known = dict(pseudonyms.stored(view.supplier, results.values("student_id")))
    return [result_record(view, root, result, known.get(result.student_id)) for result in results]


def class_id_of(view: SupplierView, sourced_id: str) -> int | None:
    """The group behind a class ``sourcedId``: a class of one of the supplier's own line items,
    or a class it sees today."""
    wanted = sourced_id.encode("utf-8", "replace")
    for group_id in own_line_items(view).values_list("group_id", flat=True).distinct():
        if hmac.compare_digest(view.keyed("class", group_id).encode(), wanted):
            return int(group_id)
    group = view.class_of(sourced_id)
    return None if group is None else group.pk
