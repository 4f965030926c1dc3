"""A small, fictional register for the agreements tests: boards with schools and pupils (through
the real importer), suppliers, products and agreements made through ``agreements.services``.

Personas (see :class:`World`): at board A a privacy officer, a board admin, a school admin of
school A1 and a teacher; at board B a privacy officer — for every cross-board check.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import date, timedelta

from django.utils import timezone

from regie.core.models import Board, School, SchoolYear, Sector
from regie.roster.importing.records import StaffRole
from regie.roster.models import Group, Student
from regie.roster.tests.exports import load_school, make_board, make_staff

from .. import services
from ..catalogue import SUPPLIER_PSEUDONYM
from ..models import AgreementStatus, Licence, ProcessingAgreement, Product, Supplier

# The kind of proof the register's tests give for "data destroyed" (see conftest.py).
TEST_PROOF = "register-test"


def destruction_proof(agreement: ProcessingAgreement) -> str:
    return f"{TEST_PROOF}:{agreement.pk}"


def make_supplier(name: str = "Rekenwereld B.V. (fictief)", kvk: str = "99000001") -> Supplier:
    return services.save_supplier(
        {
            "name": name,
            "kvk": kvk,
            "website": f"https://{kvk}.leverancier.example",
            "contact_name": "Jet de Wit",
            "contact_email": f"privacy@{kvk}.leverancier.example",
            "convenant_status": "deelnemer",
            "certifications": ["ISO 27001"],
        },
        user=None,
    )


def make_product(supplier: Supplier, name: str = "Rekenwereld", sector: str = Sector.PO) -> Product:
    return services.save_product(
        supplier,
        {"name": name, "url": f"https://{name.lower()}.leverancier.example", "sector": sector},
        user=None,
    )


def make_agreement(
    board: Board | None,
    supplier: Supplier,
    products: Iterable[Product],
    attributes: Iterable[str] = (SUPPLIER_PSEUDONYM, "groups", "first_name"),
    *,
    status: str = AgreementStatus.ACTIVE,
    title: str = "Verwerkersovereenkomst (fictief)",
) -> ProcessingAgreement:
    """An agreement with one processing per product, taken to ``status`` through the lifecycle."""
    agreement = services.create_agreement(
        board, supplier, {"title": title, "version": "1"}, user=None
    )
    for product in products:
        schedule = services.save_schedule(agreement, product, user=None)
        services.add_processing(
            schedule,
            purpose="Oefenen en voortgang volgen",
            subjects=["pupils"],
            attributes=list(attributes),
            sources="de school via regie",
            retention_period=12,
            retention_unit="months",
            retention_trigger="left_school",
            user=None,
        )
    if board is None:
        return agreement
    today = timezone.localdate()
    steps = [AgreementStatus.OFFERED, AgreementStatus.SIGNED, AgreementStatus.ACTIVE]
    steps += [AgreementStatus.TERMINATED, AgreementStatus.DATA_DESTROYED]
    target = list(AgreementStatus.values).index(status)
    for step in steps[: max(0, target)]:
        if step == AgreementStatus.SIGNED:
            services.update_agreement(
                agreement,
                {
                    "board_signatory": "A. Bestuurder",
                    "board_signatory_role": "voorzitter college van bestuur",
                    "board_signed_on": today - timedelta(days=30),
                    "supplier_signatory": "B. Directeur",
                    "supplier_signatory_role": "directeur",
                    "supplier_signed_on": today - timedelta(days=31),
                    "start_date": today - timedelta(days=30),
                },
                user=None,
            )
        proof = destruction_proof(agreement) if step == AgreementStatus.DATA_DESTROYED else ""
        agreement = services.transition(agreement, step, user=None, proof=proof)
    return agreement


def school_year() -> SchoolYear:
    today = timezone.localdate()
    return SchoolYear.objects.get(start__lte=today, end__gte=today)


def license_group(product: Product, group: Group) -> Licence:
    return services.grant_licence(product, group.school, school_year(), group=group, user=None)


class World:
    """Board A (schools A1 = 99XA, A2 = 99XB) and board B (B1 = 99XC), with personas, a supplier
    with two products, and at board A an active agreement for product one (pseudonym, groups and
    first name on its schedule)."""

    def __init__(self, rng: random.Random) -> None:
        self.board_a = make_board("41001", "Stichting A (fictief)")
        self.board_b = make_board("41002", "Stichting B (fictief)")
        self.a1 = load_school(self.board_a, rng, "99XA", "A")
        self.a2 = load_school(self.board_a, rng, "99XB", "B")
        self.b1 = load_school(self.board_b, rng, "99XC", "C")
        self.officer, _ = make_staff(
            self.board_a, self.a1, StaffRole.PRIVACY_OFFICER, username="fg-a"
        )
        self.board_admin, _ = make_staff(
            self.board_a, None, StaffRole.BOARD_ADMIN, username="bestuur-a"
        )
        self.school_admin, _ = make_staff(
            self.board_a, self.a1, StaffRole.SCHOOL_ADMIN, username="beheer-a1"
        )
        self.teacher, teacher = make_staff(
            self.board_a, self.a1, StaffRole.TEACHER, username="leerkracht-a"
        )
        self.group = Group.objects.get(school=self.a1, las_key="A-G5")
        teacher.groups.add(self.group)
        self.officer_b, _ = make_staff(
            self.board_b, self.b1, StaffRole.PRIVACY_OFFICER, username="fg-b"
        )
        self.supplier = make_supplier()
        self.product = make_product(self.supplier, "Rekenwereld")
        self.other_product = make_product(self.supplier, "Taalwereld")
        self.agreement = make_agreement(self.board_a, self.supplier, [self.product])

    def pupil(self, school: School | None = None) -> Student:
        return Student.objects.filter(school=school or self.a1, groups=self.group).order_by("pk")[0]


def birthday_for_age(age: int, today: date | None = None) -> date:
    today = today or timezone.localdate()
    return today.replace(year=today.year - age) - timedelta(days=1)
