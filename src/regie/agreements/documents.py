"""Documents generated from the register: the privacy statement per school and the art. 30 register.

- :func:`privacy_statement` — what a school tells parents and pupils (AVG art. 12–14): what the
  hub holds, which products receive what (only products with a licence this school year *and* an
  active processing agreement: the others receive nothing), which suppliers receive the ECK iD
  (the same number at each, so they can link a pupil's data), retention in words, subprocessors,
  the rights and how to exercise them, the privacy officer and the participation council's
  decision in force. A tree of dataclasses with texts in the current language; no HTML.
- :func:`processing_register` — the register of processing activities (AVG art. 30(1)) of a
  board: one :class:`Art30Row` per processing of every signed or active agreement's schedule, plus
  the hub's own processing; :func:`as_csv` and :func:`as_json` serialise it.

Nothing here changes the register; it only reads it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import date
from typing import Final

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from regie.core import datacategories as dc
from regie.core.models import Board, School
from regie.lib import csvsafe
from regie.roster.models import Guardian, Staff, StaffRole, Student

from . import catalogue, services
from .models import (
    AgreementStatus,
    ConvenantStatus,
    CouncilDecision,
    DataSchedule,
    Processing,
    ProcessingAgreement,
    Subprocessor,
    Supplier,
    TransferMechanism,
)

# --- wording shared by both documents ------------------------------------------------------------


def _subject_labels(keys: Iterable[str]) -> tuple[str, ...]:
    labels = []
    for key in keys:
        try:
            labels.append(str(catalogue.Subject(key).label))
        except ValueError:
            labels.append(key)
    return tuple(labels)


def _category_label(category: dc.DataCategory) -> str:
    """The label in the current language, lower-cased for use in a sentence (``ECK iD`` stays)."""
    language = translation.get_language() or "nl"
    label = category.label_en if language.startswith("en") else category.label_nl
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def _held_categories(*models: type[Student] | type[Guardian]) -> tuple[str, ...]:
    """The distinct data categories the hub holds in these roster models (annotation order)."""
    seen: dict[str, str] = {}
    for model in models:
        for category in model.DATA_CATEGORIES.values():
            if isinstance(category, dc.DataCategory) and category.key not in seen:
                seen[category.key] = _category_label(category)
    return tuple(seen.values())


# --- the privacy statement -----------------------------------------------------------------------


@dataclass(frozen=True)
class Organisation:
    name: str
    kvk: str


@dataclass(frozen=True)
class SupplierFacts:
    name: str
    kvk: str
    convenant_status: str  # key: deelnemer / medestander / none
    convenant_label: str
    website: str


@dataclass(frozen=True)
class Purpose:
    purpose: str
    subjects: tuple[str, ...]
    retention: str  # in words


@dataclass(frozen=True)
class ReleasedData:
    key: str
    label: str
    consent_gated: bool  # "alleen met uw toestemming"
    default: bool  # the supplier pseudonym: released without a switch


@dataclass(frozen=True)
class SubprocessorFacts:
    name: str
    country: str
    outside_eea: bool
    transfer_mechanism: str  # key
    transfer_label: str


@dataclass(frozen=True)
class ProductStatement:
    name: str
    url: str
    supplier: SupplierFacts
    purposes: tuple[Purpose, ...]
    data: tuple[ReleasedData, ...]
    subprocessors: tuple[SubprocessorFacts, ...]
    breach_notification_hours: int
    destruction_days: int


@dataclass(frozen=True)
class HubFacts:
    """What regie itself holds at the board, and what it never stores."""

    pupil_data: tuple[str, ...]
    guardian_data: tuple[str, ...]
    never_stored: str


@dataclass(frozen=True)
class Right:
    key: str
    title: str
    text: str


@dataclass(frozen=True)
class Contact:
    name: str
    email: str


@dataclass(frozen=True)
class CouncilFacts:
    document_title: str
    document_version: str
    decided_on: date


@dataclass(frozen=True)
class PrivacyStatement:
    day: date
    school_name: str
    school_code: str
    board: Organisation
    hub: HubFacts
    products: tuple[ProductStatement, ...]
    # The suppliers that receive the pupil's ECK iD (the same number at each of them), by name.
    eck_id_suppliers: tuple[str, ...]
    rights: tuple[Right, ...]
    answer_within: str
    complaint: str
    contacts: tuple[Contact, ...]  # empty: see ``no_contact``
    no_contact: str
    council: CouncilFacts | None


def privacy_statement(school: School, day: date | None = None) -> PrivacyStatement:
    """The school's privacy statement on ``day`` (today), in the current language."""
    day = day or timezone.localdate()
    board = school.board
    products = []
    for product in services.licensed_products(school, day).select_related("supplier"):
        agreement = ProcessingAgreement.objects.governing_for(board.pk, product, day)
        if agreement is None:
            continue  # no active agreement: the product receives nothing
        schedule = (
            DataSchedule.objects.filter(agreement=agreement, product=product)
            .prefetch_related("processings", "subprocessors")
            .get()
        )
        products.append(_product_statement(school, schedule))
    eck_id_suppliers = dict.fromkeys(
        product.supplier.name
        for product in products
        if any(item.key == services.ECK_ID for item in product.data)
    )
    return PrivacyStatement(
        day=day,
        school_name=school.name,
        school_code=school.code,
        board=Organisation(board.name, board.kvk),
        hub=_hub_facts(),
        products=tuple(products),
        eck_id_suppliers=tuple(eck_id_suppliers),
        rights=_rights(),
        answer_within=_(
            "De school beantwoordt uw verzoek binnen een maand. Is een verzoek ingewikkeld, of "
            "komen er veel verzoeken, dan kan die termijn met twee maanden worden verlengd; dat "
            "hoort u dan binnen de eerste maand, met de reden."
        ),
        complaint=_(
            "Bent u het niet eens met hoe de school met uw gegevens omgaat, neem dan eerst contact "
            "op met de functionaris gegevensbescherming. U kunt ook een klacht indienen bij de "
            "Autoriteit Persoonsgegevens (autoriteitpersoonsgegevens.nl)."
        ),
        contacts=_privacy_officers(school),
        no_contact=_(
            "Er is nog geen functionaris gegevensbescherming vastgelegd. Neem contact op met de "
            "directie van de school; die stuurt uw vraag door."
        ),
        council=_council_facts(board),
    )


def _product_statement(school: School, schedule: DataSchedule) -> ProductStatement:
    product = schedule.product
    named = schedule.attributes()
    going = named & (catalogue.DEFAULT_ON | services.switched_on(school, product))
    data = tuple(
        ReleasedData(
            key=attribute.key,
            label=str(attribute.label),
            consent_gated=attribute.consent_gated,
            default=attribute.key in catalogue.DEFAULT_ON,
        )
        for attribute in catalogue.ATTRIBUTES
        if attribute.key in going
    )
    purposes = tuple(
        Purpose(
            purpose=processing.purpose,
            subjects=_subject_labels(processing.subjects),
            retention=processing.retention_in_words(),
        )
        for processing in schedule.processings.all()
    )
    return ProductStatement(
        name=product.name,
        url=product.url,
        supplier=_supplier_facts(product.supplier),
        purposes=purposes,
        data=data,
        subprocessors=tuple(_subprocessor_facts(item) for item in schedule.subprocessors.all()),
        breach_notification_hours=schedule.breach_notification_hours,
        destruction_days=schedule.destruction_days,
    )


def _supplier_facts(supplier: Supplier) -> SupplierFacts:
    return SupplierFacts(
        name=supplier.name,
        kvk=supplier.kvk,
        convenant_status=supplier.convenant_status,
        convenant_label=str(ConvenantStatus(supplier.convenant_status).label),
        website=supplier.website,
    )


def _subprocessor_facts(subprocessor: Subprocessor) -> SubprocessorFacts:
    return SubprocessorFacts(
        name=subprocessor.name,
        country=subprocessor.location,
        outside_eea=subprocessor.location not in services.EEA,
        transfer_mechanism=subprocessor.transfer_mechanism,
        transfer_label=str(TransferMechanism(subprocessor.transfer_mechanism).label),
    )


def _hub_facts() -> HubFacts:
    return HubFacts(
        pupil_data=_held_categories(Student),
        guardian_data=_held_categories(Guardian),
        never_stored=_(
            "Het burgerservicenummer (BSN) of onderwijsnummer van uw kind wordt maar één keer "
            "gebruikt: om er een pseudoniem (stampseudoniem en ECK iD) van te maken. Het nummer "
            "zelf wordt nooit bewaard en gaat nooit naar een leverancier."
        ),
    )


def _rights() -> tuple[Right, ...]:
    return (
        Right(
            "access",
            _("Inzage"),
            _("U mag zien welke gegevens de school over uw kind heeft en aan wie ze gaan."),
        ),
        Right(
            "correction",
            _("Correctie"),
            _("Kloppen gegevens niet, dan laat u ze verbeteren of aanvullen."),
        ),
        Right(
            "erasure",
            _("Verwijdering"),
            _(
                "U kunt vragen gegevens te verwijderen die niet (meer) nodig zijn; de school "
                "laat ze dan ook bij de leveranciers verwijderen."
            ),
        ),
        Right(
            "objection",
            _("Bezwaar"),
            _("U kunt bezwaar maken tegen een verwerking van de gegevens van uw kind."),
        ),
        Right(
            "withdraw_consent",
            _("Toestemming intrekken"),
            _(
                "Toestemming die u gaf, kunt u altijd intrekken. Vanaf het eerstvolgende moment "
                "dat gegevens worden doorgegeven, gaat dat gegeven dan niet meer naar de "
                "leverancier."
            ),
        ),
        Right(
            "pupils_16",
            _("Leerlingen van 16 jaar en ouder"),
            _(
                "Vanaf 16 jaar oefent een leerling deze rechten zelf uit en beslist de leerling "
                "zelf over toestemming."
            ),
        ),
    )


def _privacy_officers(school: School) -> tuple[Contact, ...]:
    """The school's own privacy officer(s); else the board's (board-level first)."""
    candidates = Staff.objects.filter(
        board_id=school.board_id,
        is_active=True,
        roles__icontains=f'"{StaffRole.PRIVACY_OFFICER.value}"',  # narrows; has_role decides
    ).order_by("achternaam", "voornamen", "pk")
    staff = [member for member in candidates if member.has_role(StaffRole.PRIVACY_OFFICER)]
    for level in (
        [member for member in staff if member.school_id == school.pk],
        [member for member in staff if member.school_id is None],
        staff,
    ):
        if level:
            return tuple(Contact(str(member), member.email) for member in level)
    return ()


def _council_facts(board: Board) -> CouncilFacts | None:
    decision = (
        CouncilDecision.objects.filter(board=board, decision=CouncilDecision.Decision.CONSENT)
        .order_by("-decided_on", "-pk")
        .first()
    )
    if decision is None:
        return None
    return CouncilFacts(decision.document_title, decision.document_version, decision.decided_on)


# --- the register of processing activities (AVG art. 30(1)) --------------------------------------


REGISTERED_STATUSES: Final = (AgreementStatus.SIGNED, AgreementStatus.ACTIVE)
LIST_SEPARATOR: Final = "; "


@dataclass(frozen=True)
class Art30Row:
    """One processing activity. Field order is the column order of the CSV export."""

    controller: str
    controller_kvk: str
    processor: str
    processor_kvk: str
    product: str
    purpose: str
    data_subjects: tuple[str, ...]
    data_categories: tuple[str, ...]  # "taxonomy.key (Dutch label of the attribute)"
    recipients: tuple[str, ...]
    third_country_transfers: tuple[str, ...]
    retention: str
    security_measures: tuple[str, ...]
    agreement_title: str
    agreement_version: str
    agreement_status: str
    agreement_start: date | None


COLUMNS: Final = tuple(field.name for field in fields(Art30Row))


def processing_register(board: Board) -> list[Art30Row]:
    """The board's art. 30 register: the hub's own processing, then every agreement's processings.

    The register is a Dutch document (the controller's own record): labels are in Dutch.
    """
    with translation.override("nl"):
        rows = [_hub_row(board)]
        agreements = (
            ProcessingAgreement.objects.filter(board=board, status__in=REGISTERED_STATUSES)
            .select_related("supplier")
            .prefetch_related("schedules__product", "schedules__processings")
            .prefetch_related("schedules__subprocessors")
            .order_by("supplier__name", "start_date", "pk")
        )
        for agreement in agreements:
            for schedule in sorted(agreement.schedules.all(), key=lambda item: item.product.name):
                rows.extend(
                    _processing_row(board, agreement, schedule, processing)
                    for processing in schedule.processings.all()
                )
        return rows


def _attribute_categories(keys: Sequence[str]) -> tuple[str, ...]:
    labelled = []
    for key in keys:
        attribute = catalogue.CATALOGUE.get(key)
        if attribute is None:
            labelled.append(key)
        else:
            labelled.append(f"{attribute.category.key} ({attribute.label})")
    return tuple(labelled)


def _security_measures(supplier: Supplier) -> tuple[str, ...]:
    measures = [str(item) for item in supplier.certifications]
    status = ConvenantStatus(supplier.convenant_status)
    measures.append(
        _("Privacyconvenant: %(status)s") % {"status": status.label}
        if status != ConvenantStatus.NONE
        else _("Privacyconvenant: niet ondertekend")
    )
    return tuple(measures)


def _processing_row(
    board: Board,
    agreement: ProcessingAgreement,
    schedule: DataSchedule,
    processing: Processing,
) -> Art30Row:
    supplier = agreement.supplier
    subprocessors = list(schedule.subprocessors.all())
    recipients = [f"{supplier.name} (KvK {supplier.kvk})"]
    recipients += [
        f"{item.name} ({item.location})" + (f" (KvK {item.kvk})" if item.kvk else "")
        for item in subprocessors
    ]
    transfers = tuple(
        f"{item.name}: {item.location}, {TransferMechanism(item.transfer_mechanism).label}"
        for item in subprocessors
        if item.location not in services.EEA
    )
    return Art30Row(
        controller=board.name,
        controller_kvk=board.kvk,
        processor=supplier.name,
        processor_kvk=supplier.kvk,
        product=schedule.product.name,
        purpose=processing.purpose,
        data_subjects=_subject_labels(processing.subjects),
        data_categories=_attribute_categories(processing.attributes),
        recipients=tuple(recipients),
        third_country_transfers=transfers,
        retention=processing.retention_in_words(),
        security_measures=_security_measures(supplier),
        agreement_title=agreement.title,
        agreement_version=agreement.version,
        agreement_status=agreement.status,
        agreement_start=agreement.start_date,
    )


def _hub_row(board: Board) -> Art30Row:
    """The board's own processing in regie: the pupil administration and the release policy."""
    categories: dict[str, str] = {}
    for model in (Student, Guardian, Staff):
        for category in model.DATA_CATEGORIES.values():
            if isinstance(category, dc.DataCategory):
                categories.setdefault(category.key, f"{category.key} ({category.label_nl})")
    return Art30Row(
        controller=board.name,
        controller_kvk=board.kvk,
        processor=_("regie (in eigen beheer van het bestuur)"),
        processor_kvk="",
        product="regie",
        purpose=_(
            "Leerlingadministratie en regie over leerlinggegevens: pseudoniemen maken, licenties, "
            "toestemmingen en het doorgeven van gegevens volgens de verwerkersovereenkomsten"
        ),
        data_subjects=_subject_labels(
            (catalogue.Subject.PUPILS, catalogue.Subject.GUARDIANS, catalogue.Subject.TEACHERS)
        ),
        data_categories=tuple(categories.values()),
        recipients=(
            _("leveranciers met een actieve verwerkersovereenkomst, alleen wat die toestaat"),
        ),
        third_country_transfers=(),
        retention=_(
            "zolang de leerling ingeschreven is, daarna volgens de bewaartermijnen van het bestuur"
        ),
        security_measures=(
            _("BSN en onderwijsnummer worden niet bewaard (alleen pseudoniemen)"),
            _("een apart pseudoniem per leverancier"),
            _("toegang op need-to-know-basis per rol"),
            _("manipulatiebestendig logboek van elke verstrekking en wijziging"),
        ),
        agreement_title="",
        agreement_version="",
        agreement_status="",
        agreement_start=None,
    )


def _cell(value: object) -> str:
    if value is None:
        text = ""
    elif isinstance(value, tuple | list):
        text = LIST_SEPARATOR.join(str(item) for item in value)
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        text = str(value)
    return text


def as_csv(rows: Iterable[Art30Row]) -> str:
    """A header row and one line per processing; lists joined with ``; ``, injection-safe."""
    buffer = io.StringIO()
    writer = csvsafe.writer(buffer)  # no cell is read as a formula
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(getattr(row, column)) for column in COLUMNS])
    return buffer.getvalue()


def _json_value(value: object) -> object:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def as_json(rows: Iterable[Art30Row]) -> str:
    """A JSON array of objects with the CSV's columns as keys (lists stay lists)."""
    items: list[Mapping[str, object]] = [
        {name: _json_value(value) for name, value in asdict(row).items()} for row in rows
    ]
    return json.dumps(items, ensure_ascii=False, indent=2)
