"""The ``regie-agreement/1`` format: pydantic models that refuse unknown keys and wrong types,
with the register's own rules (services, model validators) on every record, and the problems a
document can have.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, Literal, Self

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import get_language, ngettext_lazy
from django.utils.translation import gettext_lazy as _
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
    """One problem with a document: where (``schedules[0].processings[1].attributes[2]``, or the
    file's name with ``line`` and ``column``), why.

    ``message`` is a translatable text (Dutch msgid) with ``%(name)s`` placeholders filled from
    ``params``: :attr:`reason` and :attr:`location` render in the active language (the import page
    in the page's language; the CLI in English). ``detail`` is a parser's own (English) words,
    added to the reason in the English UI only.
    """

    path: str
    message: str | Promise
    params: Mapping[str, object] = field(default_factory=dict, hash=False)
    line: int | None = None
    column: int | None = None
    detail: str = ""

    @property
    def reason(self) -> str:
        """Why, in the active language."""
        text = str(self.message % self.params if self.params else self.message)
        if self.detail and (get_language() or "").startswith("en"):
            text = f"{text}: {self.detail}"
        return text

    @property
    def location(self) -> str:
        """Where, in the active language: the path, or the file's name with line and column."""
        if self.line is None:
            return self.path
        if self.column is None:
            return str(_("%(path)s, regel %(line)s") % {"path": self.path, "line": self.line})
        return str(
            _("%(path)s, regel %(line)s, kolom %(column)s")
            % {"path": self.path, "line": self.line, "column": self.column}
        )

    def __str__(self) -> str:
        return f"{self.location}: {self.reason}"


class DocumentRefused(Exception):
    """The document was refused; ``problems`` lists every problem found. Nothing was changed."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        shown = list(problems[:MAX_PROBLEMS])
        if len(problems) > MAX_PROBLEMS:
            more = ngettext_lazy("en nog %(count)s probleem", "en nog %(count)s problemen", "count")
            shown.append(Problem("…", more, {"count": len(problems) - MAX_PROBLEMS}))
        self.problems: tuple[Problem, ...] = tuple(shown)
        super().__init__()

    def __str__(self) -> str:
        """Every problem on a line, in the active language."""
        return "\n".join(str(problem) for problem in self.problems)


def refusal(
    path: str,
    message: str | Promise,
    params: Mapping[str, object] | None = None,
    *,
    line: int | None = None,
    column: int | None = None,
    detail: str = "",
) -> DocumentRefused:
    """A refusal with one problem (``message`` translatable, filled from ``params``)."""
    return DocumentRefused([Problem(path, message, params or {}, line, column, detail)])


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
            raise _rule(_("verwacht een datum als JJJJ-MM-DD"))
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise _rule(_("geen datum die in de kalender bestaat")) from None
    return value


def _catalogued(key: str) -> str:
    if key not in catalogue.CATALOGUE:
        raise _rule(_("onbekend gegeven %(key)s"), key=shown(key))
    return key


def _distinct(items: list[Any]) -> list[Any]:
    seen: set[Any] = set()
    for item in items:
        if item in seen:
            raise _rule(_("%(item)s staat er twee keer in"), item=shown(item))
        seen.add(item)
    return items


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


Day = Annotated[date, BeforeValidator(_iso_date)]
AttributeKey = Annotated[str, AfterValidator(_catalogued)]
Lax = Field(strict=False)  # enums: the TextChoices' values, as text


def _rule(
    message: str | Promise, where: str | None = None, **params: object
) -> PydanticCustomError:
    """A rule of the register that a record of the document breaks (``where``: where in it);
    ``message`` translatable, filled from ``params`` when the problem is shown."""
    return PydanticCustomError(
        "rule", "rule", {"message": message, "params": params, "field": where or ""}
    )


def _refused(error: services.Refused, fields: Mapping[str, str]) -> PydanticCustomError:
    return _rule(error.message, fields.get(error.field or "", error.field), **error.params)


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
        together = "; ".join(f"{name}: {message}" for name, message in found)  # Django's texts
        raise _rule(together) from None


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
            raise _rule(_("De einddatum ligt voor de begindatum."), "end_date")
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
            problems.append(
                Problem(f"products[{index}].name", _("dit product staat er twee keer in"))
            )
        names.setdefault(product.name, index)
    scheduled: set[str] = set()
    for index, schedule in enumerate(document.schedules):
        path = f"schedules[{index}].product"
        if schedule.product not in names:
            problems.append(
                Problem(
                    path,
                    _("%(product)s staat niet in products"),
                    {"product": shown(schedule.product)},
                )
            )
        elif schedule.product in scheduled:
            problems.append(Problem(path, _("dit product heeft al een privacybijsluiter")))
        scheduled.add(schedule.product)
    for name, index in names.items():
        if name not in scheduled:
            problems.append(
                Problem(f"products[{index}]", _("geen privacybijsluiter noemt dit product"))
            )
    if not document.schedules:
        problems.append(
            Problem("schedules", _("een overeenkomst heeft een privacybijsluiter voor een product"))
        )
    return problems
