"""The shapes of the OneRoster 1.2 gradebook objects a supplier puts, and what it gets back.

Text may not contain NUL (a database cannot store it); an id with one can never be known.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from ninja import Field, Schema
from typing_extensions import TypedDict

NO_NUL = r"^[^\x00]*$"


class Ref(Schema):
    """A GUIDRef as a supplier sends it; only ``sourcedId`` is read."""

    sourcedId: str = Field(min_length=1, max_length=255, pattern=NO_NUL)
    href: str | None = Field(default=None, max_length=2000)
    type: str | None = Field(default=None, max_length=50)


class LineItemIn(Schema):
    sourcedId: str | None = Field(default=None, max_length=255, pattern=NO_NUL)
    status: str | None = Field(default=None, max_length=30)
    title: str = Field(min_length=1, max_length=255, pattern=NO_NUL)
    class_: Ref = Field(alias="class")


class PutLineItem(Schema):
    lineItem: LineItemIn


class ResultIn(Schema):
    sourcedId: str | None = Field(default=None, max_length=255, pattern=NO_NUL)
    status: str | None = Field(default=None, max_length=30)
    lineItem: Ref
    student: Ref
    score: float | None = Field(default=None, allow_inf_nan=False)
    scoreStatus: Literal["exempt", "fully graded", "not submitted", "partially graded", "submitted"]
    scoreDate: date | None = None
    comment: str | None = Field(default=None, max_length=1000, pattern=NO_NUL)


class PutResult(Schema):
    result: ResultIn


class Paging(Schema):
    """The binding's query parameters of a collection (checked again by ``oneroster.query``)."""

    limit: int | None = Field(default=None, ge=1, le=999_999_999)
    offset: int | None = Field(default=None, ge=0, le=999_999_999)
    sort: str | None = Field(default=None, max_length=100)
    orderBy: Literal["asc", "desc"] | None = None
    filter: str | None = Field(default=None, max_length=2000)
    fields: str | None = Field(default=None, max_length=2000)


class Selection(Schema):
    """Field selection of a single object."""

    fields: str | None = Field(default=None, max_length=2000)


class GUIDRef(TypedDict, total=False):
    href: str
    sourcedId: str
    type: str


# ``class`` is a keyword: the functional form names the field as the binding does.
LineItem = TypedDict(
    "LineItem",
    {
        "sourcedId": str,
        "status": str,
        "dateLastModified": str,
        "title": str,
        "class": GUIDRef,
    },
    total=False,
)


class Result(TypedDict, total=False):
    sourcedId: str
    status: str
    dateLastModified: str
    lineItem: GUIDRef
    student: GUIDRef
    score: float
    scoreStatus: str
    scoreDate: str
    comment: str


class SingleLineItem(TypedDict):
    lineItem: LineItem


class SingleResult(TypedDict):
    result: Result


class LineItems(TypedDict):
    lineItems: list[LineItem]


class Results(TypedDict):
    results: list[Result]
