"""The ``regie-agreement/1`` format: pydantic models that refuse unknown keys and wrong types,
with the register's own rules (services, model validators) on every record, and the problems a
document can have.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal, Self

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from regie.core.models import Sector

from .. import catalogue, services
from ..catalogue import Subject
from ..models import (
    AgreementModel,
    AgreementStatus,
    ConvenantStatus,
    DataSchedule,
    Deviation,
    ProcessingAgreement,
    Product,
    ProductUsers,
    RetentionTrigger,
    RetentionUnit,
    Supplier,
    TransferMechanism,
)

FORMAT = "regie-agreement/1"
MAX_PROBLEMS = 100
SHOWN = 40  # characters of a key or value from the file shown in a problem


# --- problems ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One problem with a document: where (``schedules[0].processings[1].attributes[2]``), why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class DocumentRefused(Exception):
    """The document was refused; ``problems`` lists every problem found. Nothing was changed."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        shown = list(problems[:MAX_PROBLEMS])
        if len(problems) > MAX_PROBLEMS:
            shown.append(Problem("…", f"and {len(problems) - MAX_PROBLEMS} more problems"))
        self.problems: tuple[Problem, ...] = tuple(shown)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def refusal(path: str, reason: str) -> DocumentRefused:
    """A refusal with one problem."""
    return DocumentRefused([Problem(path, reason)])


def shown(value: object) -> str:
    """A value from the file, short and printable, for a problem text."""
    text = "".join(char if char.isprintable() else "?" for char in str(value))
    return repr(text if len(text) <= SHOWN else text[: SHOWN - 1] + "…")


def short_key(value: object) -> str:
    text = "".join(char if char.isprintable() else "?" for char in str(value))
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


def path_of(loc: Iterable[object]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + short_key(part)
    return path or "(document)"


# --- the format ----------------------------------------------------------------------------------


def _iso_date(value: object) -> object:
    if isinstance(value, str):
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise PydanticCustomError("date_format", "expected a date as YYYY-MM-DD")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise PydanticCustomError("date_format", "not a date in the calendar") from None
    return value


def _catalogued(key: str) -> str:
    if key not in catalogue.CATALOGUE:
        raise PydanticCustomError(
            "unknown_attribute", "unknown attribute {key}", {"key": shown(key)}
        )
    return key


def _distinct(items: list[Any]) -> list[Any]:
    seen: set[Any] = set()
    for item in items:
        if item in seen:
            raise PydanticCustomError("duplicate", "{item} is named twice", {"item": shown(item)})
        seen.add(item)
    return items


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


Day = Annotated[date, BeforeValidator(_iso_date)]
AttributeKey = Annotated[str, AfterValidator(_catalogued)]
Lax = Field(strict=False)  # enums: the TextChoices' values, as text


def _rule(reason: str, field: str | None = None) -> PydanticCustomError:
    """A rule of the register that a record of the document breaks (``field``: where in it)."""
    return PydanticCustomError("rule", "{reason}", {"reason": reason, "field": field or ""})


def _refused(error: services.Refused, fields: Mapping[str, str]) -> PydanticCustomError:
    return _rule(error.reason, fields.get(error.field or "", error.field))


def _model_rules(instance: models.Model, fields: Mapping[str, str], exclude: Sequence[str]) -> None:
    """The model's own field rules (lengths, choices, KvK, URL, e-mail), as one problem."""
    try:
        instance.full_clean(
            exclude=list(exclude), validate_unique=False, validate_constraints=False
        )
    except DjangoValidationError as error:
        found = [
            (fields.get(name, name), " ".join(str(message) for message in messages))
            for name, messages in error.message_dict.items()
        ]
        if len(found) == 1:
            raise _rule(found[0][1], found[0][0]) from None
        raise _rule("; ".join(f"{name}: {message}" for name, message in found)) from None


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True, frozen=True)


class ContactDoc(Strict):
    name: str = ""
    email: str = ""


SUPPLIER_PATHS = {"contact_name": "contact.name", "contact_email": "contact.email"}


class SupplierDoc(Strict):
    name: str
    kvk: str
    website: str = ""
    contact: ContactDoc = ContactDoc()
    convenant_status: Annotated[ConvenantStatus, Lax] = ConvenantStatus.NONE
    certifications: Annotated[list[str], AfterValidator(_distinct)] = []

    def values(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kvk": self.kvk,
            "website": self.website,
            "contact_name": self.contact.name,
            "contact_email": self.contact.email,
            "convenant_status": self.convenant_status.value,
            "certifications": list(self.certifications),
        }

    @model_validator(mode="after")
    def _rules(self) -> Self:
        _model_rules(Supplier(**self.values()), SUPPLIER_PATHS, ())
        return self


class ProductDoc(Strict):
    name: str
    url: str = ""
    sector: Annotated[Sector, Lax]
    users: Annotated[ProductUsers, Lax] = ProductUsers.PUPILS
    description: str = ""

    def values(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "sector": self.sector.value,
            "users": self.users.value,
            "description": self.description,
        }

    @model_validator(mode="after")
    def _rules(self) -> Self:
        _model_rules(Product(**self.values()), {}, ("supplier",))
        return self


class SignatoryDoc(Strict):
    name: str
    role: str = ""
    signed_on: Day | None = None


class SignatoriesDoc(Strict):
    board: SignatoryDoc | None = None
    supplier: SignatoryDoc | None = None


AGREEMENT_PATHS = {
    "board_signatory": "signatories.board.name",
    "board_signatory_role": "signatories.board.role",
    "board_signed_on": "signatories.board.signed_on",
    "supplier_signatory": "signatories.supplier.name",
    "supplier_signatory_role": "signatories.supplier.role",
    "supplier_signed_on": "signatories.supplier.signed_on",
}


class AgreementDoc(Strict):
    title: str
    model: Annotated[AgreementModel, Lax] = AgreementModel.MVO4
    version: str = "1"
    status: Annotated[AgreementStatus, Lax] | None = None  # written on export, ignored on import
    signatories: SignatoriesDoc = SignatoriesDoc()
    start_date: Day | None = None
    end_date: Day | None = None

    def values(self) -> dict[str, Any]:
        """The fields :func:`services.create_agreement` takes."""
        board = self.signatories.board or SignatoryDoc(name="")
        supplier = self.signatories.supplier or SignatoryDoc(name="")
        return {
            "title": self.title,
            "model": self.model.value,
            "version": self.version,
            "board_signatory": board.name,
            "board_signatory_role": board.role,
            "board_signed_on": board.signed_on,
            "supplier_signatory": supplier.name,
            "supplier_signatory_role": supplier.role,
            "supplier_signed_on": supplier.signed_on,
            "start_date": self.start_date,
            "end_date": self.end_date,
        }

    @model_validator(mode="after")
    def _rules(self) -> Self:
        agreement = ProcessingAgreement(**self.values())
        _model_rules(agreement, AGREEMENT_PATHS, ("board", "supplier", "adopted_from"))
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise _rule("the end date lies before the start date", "end_date")
        return self


class DeviationDoc(Strict):
    clause: str
    text: str
    reason: str

    @model_validator(mode="after")
    def _rules(self) -> Self:
        deviation = Deviation(clause=self.clause, text=self.text, reason=self.reason)
        _model_rules(deviation, {}, ("agreement",))
        return self


class RetentionDoc(Strict):
    period: int
    unit: Annotated[RetentionUnit, Lax] = RetentionUnit.MONTHS
    trigger: Annotated[RetentionTrigger, Lax]


PROCESSING_PATHS = {
    "retention_period": "retention.period",
    "retention_unit": "retention.unit",
    "retention_trigger": "retention.trigger",
}


class ProcessingDoc(Strict):
    purpose: str
    subjects: Annotated[list[Annotated[Subject, Lax]], AfterValidator(_distinct)]
    attributes: Annotated[list[AttributeKey], AfterValidator(_distinct)]
    sources: str = ""
    retention: RetentionDoc

    @model_validator(mode="after")
    def _rules(self) -> Self:
        try:
            services.validate_processing(
                self.purpose,
                [subject.value for subject in self.subjects],
                self.attributes,
                self.retention.period,
                self.retention.unit.value,
                self.retention.trigger.value,
            )
        except services.Refused as error:
            raise _refused(error, PROCESSING_PATHS) from None
        return self


class SubprocessorDoc(Strict):
    name: str
    kvk: str = ""
    location: Annotated[str, BeforeValidator(_upper)]
    transfer_mechanism: Annotated[TransferMechanism, Lax] = TransferMechanism.NONE

    @model_validator(mode="after")
    def _rules(self) -> Self:
        try:
            services.validate_subprocessor(
                self.name, self.kvk, self.location, self.transfer_mechanism.value
            )
        except services.Refused as error:
            raise _refused(error, {}) from None
        return self


class ScheduleDoc(Strict):
    product: str
    breach_notification_hours: int = 24
    destruction_days: int = 90
    processings: list[ProcessingDoc] = []
    subprocessors: list[SubprocessorDoc] = []

    @model_validator(mode="after")
    def _rules(self) -> Self:
        schedule = DataSchedule(
            breach_notification_hours=self.breach_notification_hours,
            destruction_days=self.destruction_days,
        )
        _model_rules(schedule, {}, ("agreement", "product"))
        return self


class AgreementDocument(Strict):
    """One agreement, format ``regie-agreement/1``."""

    format: Literal["regie-agreement/1"]
    supplier: SupplierDoc
    products: list[ProductDoc]
    agreement: AgreementDoc
    deviations: list[DeviationDoc] = []
    schedules: list[ScheduleDoc]

    def normalised(self) -> dict[str, Any]:
        """The document as :func:`dump_agreement` writes it (defaults filled in, no nulls)."""
        data: dict[str, Any] = self.model_dump(mode="json", exclude_none=True)
        return data


def cross_check(document: AgreementDocument) -> list[Problem]:
    """Products and schedules name each other: one schedule per product, every product used."""
    problems = []
    names: dict[str, int] = {}
    for index, product in enumerate(document.products):
        if product.name in names:
            problems.append(Problem(f"products[{index}].name", "this product is listed twice"))
        names.setdefault(product.name, index)
    scheduled: set[str] = set()
    for index, schedule in enumerate(document.schedules):
        path = f"schedules[{index}].product"
        if schedule.product not in names:
            problems.append(Problem(path, f"{shown(schedule.product)} is not in products"))
        elif schedule.product in scheduled:
            problems.append(Problem(path, "this product already has a schedule"))
        scheduled.add(schedule.product)
    for name, index in names.items():
        if name not in scheduled:
            problems.append(Problem(f"products[{index}]", "no schedule names this product"))
    if not document.schedules:
        problems.append(Problem("schedules", "an agreement has a data schedule for a product"))
    return problems
