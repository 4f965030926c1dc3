"""The demo register: fictional suppliers, agreements, licences, switches and consent for a board.

:func:`load_demo_register` gives a board (the demo board, or any board with a primary school that
has groups with pupils) what a privacy officer would have set up after a year of work:

- *Rekenwereld* — an **active** MVO 4.0 agreement: its schedule names the supplier pseudonym,
  groups, year level, first name (consent-gated) and results; two groups are licensed, the school
  switched first name on and a few guardians consented (one withdrew again);
- *Taalrijk* — a **draft** agreement (e-mail on its schedule, a subprocessor in the US under SCCs);
- *Topografie Oud* — a **terminated** agreement (nothing goes there any more);
- *Leesland* — a supplier's published **offer** that any board can adopt;
- DPIA screenings for two products and the participation council's consent to the privacy
  regulation.

Everything goes through :mod:`.services`, so it is validated and audited like a real register.
Loading twice changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from regie.core.models import Board, School, Sector
from regie.roster.models import Group, Student

from . import services
from .catalogue import SUPPLIER_PSEUDONYM
from .models import AgreementStatus, ProcessingAgreement, Product, Supplier
from .policy import current_school_year

REKENWERELD_KVK = "99000011"

SUPPLIERS: dict[str, dict[str, Any]] = {
    "rekenwereld": {
        "name": "Rekenwereld B.V. (fictief)",
        "kvk": REKENWERELD_KVK,
        "website": "https://www.rekenwereld.example",
        "contact_name": "Jet de Wit",
        "contact_email": "privacy@rekenwereld.example",
        "convenant_status": "deelnemer",
        "certifications": ["ISO 27001", "NEN 7510"],
    },
    "taalrijk": {
        "name": "Taalrijk Uitgevers (fictief)",
        "kvk": "99000022",
        "website": "https://www.taalrijk.example",
        "contact_name": "Ravi Baldew",
        "contact_email": "fg@taalrijk.example",
        "convenant_status": "medestander",
        "certifications": ["ISO 27001"],
    },
    "oud": {
        "name": "Oude Methode B.V. (fictief)",
        "kvk": "99000033",
        "website": "https://www.oudemethode.example",
        "contact_name": "",
        "contact_email": "info@oudemethode.example",
        "convenant_status": "none",
        "certifications": [],
    },
    "leesland": {
        "name": "Leesland (fictief)",
        "kvk": "99000044",
        "website": "https://www.leesland.example",
        "contact_name": "Mila Koster",
        "contact_email": "privacy@leesland.example",
        "convenant_status": "deelnemer",
        "certifications": ["ISO 27001"],
    },
}


def _supplier(key: str) -> Supplier:
    values = SUPPLIERS[key]
    existing = Supplier.objects.filter(kvk=values["kvk"]).first()
    return existing or services.save_supplier(values, user=None)


def _product(supplier: Supplier, name: str, url: str, description: str) -> Product:
    existing = Product.objects.filter(supplier=supplier, name=name).first()
    return existing or services.save_product(
        supplier,
        {"name": name, "url": url, "sector": Sector.PO, "description": description},
        user=None,
    )


def _processing(
    product_schedule: Any, purpose: str, attributes: list[str], **retention: Any
) -> None:
    services.add_processing(
        product_schedule,
        purpose=purpose,
        subjects=["pupils"],
        attributes=attributes,
        sources="de school, via regie; het gebruik van het leermiddel door de leerling",
        retention_period=retention.get("period", 12),
        retention_unit=retention.get("unit", "months"),
        retention_trigger=retention.get("trigger", "left_school"),
        user=None,
    )


def _signed(agreement: ProcessingAgreement, start: date, board_signed: date) -> None:
    services.update_agreement(
        agreement,
        {
            "board_signatory": "drs. H. Veenstra (fictief)",
            "board_signatory_role": "voorzitter college van bestuur",
            "board_signed_on": board_signed,
            "supplier_signatory": "ir. P. Mulder (fictief)",
            "supplier_signatory_role": "directeur",
            "supplier_signed_on": board_signed - timedelta(days=3),
            "start_date": start,
        },
        user=None,
    )


def _through(agreement: ProcessingAgreement, *steps: str) -> ProcessingAgreement:
    for step in steps:
        agreement = services.transition(agreement, step, user=None)
    return agreement


def demo_register_loaded(board: Board) -> bool:
    return ProcessingAgreement.objects.filter(board=board, supplier__kvk=REKENWERELD_KVK).exists()


@transaction.atomic
def load_demo_register(board: Board) -> None:
    """Set up the demo register for ``board`` (once)."""
    if demo_register_loaded(board):
        return
    today = timezone.localdate()
    school = _primary_school(board)
    year = current_school_year(today)
    if year is None:
        raise RuntimeError("the demo register needs a school year that includes today")
    season_start = min(today, year.start)

    # Rekenwereld: active, licensed, first name switched on, consent from some guardians.
    rekenwereld = _supplier("rekenwereld")
    product = _product(
        rekenwereld,
        "Rekenwereld",
        "https://app.rekenwereld.example",
        "Adaptief oefenen met rekenen voor groep 3 tot en met 8 (fictief).",
    )
    active = services.create_agreement(
        board,
        rekenwereld,
        {"title": "Verwerkersovereenkomst Rekenwereld", "model": "mvo4", "version": "4.0-2026"},
        user=None,
    )
    services.add_deviation(
        active,
        "artikel 7.3",
        "Meldingen van datalekken binnen 24 uur in plaats van 48 uur.",
        "Het bestuur wil binnen de 72 uur van de AP kunnen melden, ook in het weekend.",
        user=None,
    )
    schedule = services.save_schedule(active, product, breach_notification_hours=24, user=None)
    _processing(
        schedule,
        "Adaptief oefenen: opgaven afstemmen op het niveau van de leerling",
        [SUPPLIER_PSEUDONYM, "groups", "year_level", "first_name", "results"],
    )
    _processing(
        schedule,
        "Voortgang tonen aan de leerkracht",
        [SUPPLIER_PSEUDONYM, "groups", "results"],
        period=1,
        unit="years",
        trigger="end_of_school_year",
    )
    services.add_subprocessor(
        schedule, name="Wolkenhuis Hosting B.V. (fictief)", kvk="99000099", location="NL", user=None
    )
    _signed(active, season_start, season_start - timedelta(days=14))
    active = _through(
        active, AgreementStatus.OFFERED, AgreementStatus.SIGNED, AgreementStatus.ACTIVE
    )

    groups = list(
        Group.objects.filter(school=school, is_active=True, kind="group")
        .filter(students__status="active")
        .distinct()
        .order_by("year_level", "name")[:3]
    )
    for group in groups[:2]:
        services.grant_licence(product, school, year, group=group, user=None)
    if len(groups) > 2:
        named = list(Student.objects.filter(groups=groups[2], status="active").order_by("pk")[:2])
        if named:
            services.grant_licence(product, school, year, students=named, user=None)
    for attribute in ("groups", "year_level", "results", "first_name"):
        services.set_switch(school, product, attribute, True, user=None)
    _consents(product, groups[:1], today)

    # Taalrijk: a draft, not signed yet.
    taalrijk = _supplier("taalrijk")
    lezen = _product(
        taalrijk,
        "Taalrijk Lezen",
        "https://lezen.taalrijk.example",
        "Begrijpend lezen met teksten op niveau (fictief).",
    )
    draft = services.create_agreement(
        board,
        taalrijk,
        {"title": "Verwerkersovereenkomst Taalrijk", "model": "mvo4", "version": "4.0"},
        user=None,
    )
    draft_schedule = services.save_schedule(draft, lezen, breach_notification_hours=48, user=None)
    _processing(
        draft_schedule,
        "Leesvaardigheid oefenen en rapporteren",
        [SUPPLIER_PSEUDONYM, "groups", "first_name", "last_name", "email", "results"],
        period=2,
        unit="years",
        trigger="end_of_contract",
    )
    services.add_subprocessor(
        draft_schedule,
        name="Cloudcompute Inc. (fictief)",
        location="US",
        transfer_mechanism="scc",
        user=None,
    )

    # Oude Methode: was active last year, terminated since.
    oud = _supplier("oud")
    topografie = _product(
        oud,
        "Topografie Oud",
        "https://topo.oudemethode.example",
        "Topografie oefenen (fictief); de school is ermee gestopt.",
    )
    ended = services.create_agreement(
        board, oud, {"title": "Verwerkersovereenkomst Oude Methode", "model": "general"}, user=None
    )
    ended_schedule = services.save_schedule(ended, topografie, user=None)
    _processing(ended_schedule, "Topografie oefenen", [SUPPLIER_PSEUDONYM, "groups"])
    _signed(ended, season_start - timedelta(days=365), season_start - timedelta(days=380))
    _through(
        ended,
        AgreementStatus.OFFERED,
        AgreementStatus.SIGNED,
        AgreementStatus.ACTIVE,
        AgreementStatus.TERMINATED,
    )

    # Leesland: a published offer any board may adopt.
    leesland = _supplier("leesland")
    bieb = _product(
        leesland,
        "Leesland Bibliotheek",
        "https://bieb.leesland.example",
        "E-books en luisterboeken voor de klas (fictief).",
    )
    if not ProcessingAgreement.objects.offers().filter(supplier=leesland).exists():
        offer = services.create_agreement(
            None,
            leesland,
            {"title": "Aanbod verwerkersovereenkomst Leesland", "model": "mvo4", "version": "4.0"},
            user=None,
        )
        offer_schedule = services.save_schedule(offer, bieb, user=None)
        _processing(offer_schedule, "Boeken lenen en lezen", [SUPPLIER_PSEUDONYM, "groups"])

    services.screen_dpia(
        board,
        product,
        ["vulnerable_subjects", "evaluation_scoring"],
        notes="Kinderen; het leermiddel stemt opgaven af op hun resultaten.",
        user=None,
    )
    services.screen_dpia(board, lezen, ["vulnerable_subjects"], user=None)
    services.record_council_decision(
        board,
        document_title="Privacyreglement",
        document_version="2026-1",
        decided_on=min(today, date(2026, 6, 15)),
        decision="consent",
        notes="De GMR stemde unaniem in (fictief).",
        user=None,
    )


def _primary_school(board: Board) -> School:
    school = board.schools.filter(sector=Sector.PO).order_by("pk").first()
    if school is None:
        raise RuntimeError("the demo register needs a primary school on the board")
    return school


def _consents(product: Product, groups: list[Group], today: date) -> None:
    """Guardians of the first few pupils consent to the first name; the last one withdraws."""
    pupils = (
        Student.objects.filter(groups__in=groups, status="active", guardians__isnull=False)
        .distinct()
        .order_by("pk")[:5]
    )
    moment = timezone.make_aware(datetime.combine(today - timedelta(days=10), time(9)))
    for index, pupil in enumerate(pupils):
        guardian = pupil.guardians.filter(is_active=True).order_by("pk").first()
        own = services.decides_own_consent(pupil, today)
        who = None if own else guardian
        if who is None and not own:
            continue
        services.record_consent(
            pupil, product, "first_name", True, guardian=who, user=None, at=moment
        )
        if index == len(pupils) - 1:
            services.record_consent(
                pupil,
                product,
                "first_name",
                False,
                guardian=who,
                user=None,
                at=moment + timedelta(days=5),
            )
