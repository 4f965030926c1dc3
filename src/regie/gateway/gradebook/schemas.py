"""The shapes of the OneRoster 1.2 gradebook objects a supplier puts, and what it gets back."""

from __future__ import annotations

from datetime import date
from typing import Literal

from ninja import Field, Schema
from typing_extensions import TypedDict


class Ref(Schema):
    """A GUIDRef as a supplier sends it; only ``sourcedId`` is read."""

    sourcedId: str = Field(min_length=1, max_length=255)
    href: str | None = Field(default=None, max_length=2000)
    type: str | None = Field(default=None, max_length=50)


class LineItemIn(Schema):
    sourcedId: str | None = Field(default=None, max_length=255)
    status: str | None = Field(default=None, max_length=30)
    title: str = Field(min_length=1, max_length=255)
    class_: Ref = Field(alias="class")


class PutLineItem(Schema):
    lineItem: LineItemIn


class ResultIn(Schema):
    sourcedId: str | None = Field(default=None, max_length=255)
    status: str | None = Field(default=None, max_length=30)
    lineItem: Ref
    student: Ref
    score: float | None = None
    scoreStatus: Literal["exempt", "fully graded", "not submitted", "partially graded", "submitted"]
    scoreDate: date | None = None
    comment: str | None = Field(default=None, max_length=1000)


class PutResult(Schema):
    result: ResultIn


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
