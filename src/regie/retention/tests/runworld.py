"""A board for the retention run's tests: a school with pupils, two suppliers with agreements
(pupil data kept 12 months after leaving), each with a registered client, an order endpoint
served by a live stub and a pseudonym of every pupil."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass

from django.utils import timezone
from joserfc.jwk import ECKey

from regie.agreements.models import Processing, Product, Supplier
from regie.agreements.tests.register import make_agreement, make_product, make_supplier
from regie.core.models import Board
from regie.gateway import keys
from regie.gateway.models import SupplierPseudonym
from regie.gateway.services import register_client
from regie.orders.models import SupplierEndpoint
from regie.orders.tests.supplier_stub import SupplierStub, serving
from regie.roster.models import Student, StudentStatus
from regie.roster.tests.exports import load_school, make_board


@dataclass
class Holder:
    supplier: Supplier
    product: Product
    stub: SupplierStub


@dataclass
class RunWorld:
    board: Board
    students: list[Student]
    holders: list[Holder]

    def leave(self, student: Student, on: dt.date | None = None) -> None:
        Student.objects.filter(pk=student.pk).update(
            status=StudentStatus.LEFT, left_on=on or timezone.localdate()
        )

    def set_rule(self, holder: Holder, period: int, unit: str, trigger: str) -> None:
        Processing.objects.filter(schedule__product=holder.product).update(
            retention_period=period, retention_unit=unit, retention_trigger=trigger
        )


def make_run_world(rng: random.Random, pupils: int = 6, suppliers: int = 2) -> Iterator[RunWorld]:
    board = make_board("41016", "Stichting Bewaren (fictief)")
    school = load_school(board, rng, "99RA", "R", pupils=pupils)
    students = list(Student.objects.filter(school=school).order_by("pk"))
    holders = []
    with ExitStack() as stack:
        for number in range(suppliers):
            supplier = make_supplier(f"Leverancier {number} B.V. (fictief)", f"9901600{number}")
            product = make_product(supplier, f"Leerwereld{number}")
            make_agreement(board, supplier, [product])
            supplier_key = ECKey.generate_key(
                "P-256", parameters={"kid": f"leverancier-{number}"}, private=True
            )
            client, _ = register_client(
                supplier,
                name=f"Leerwereld {number} (fictief)",
                redirect_uris=[f"https://leerwereld{number}.example/callback"],
                jwks={"keys": [supplier_key.as_dict(private=False)]},
            )
            stub = SupplierStub(
                hub_jwks=keys.public_jwks,
                client_id=client.client_id,
                jwk=supplier_key.as_dict(private=True),
            )
            stack.enter_context(serving(stub))
            SupplierEndpoint.objects.create(supplier=supplier, url=stub.url)
            SupplierPseudonym.objects.bulk_create(
                SupplierPseudonym(
                    student=student,
                    supplier=supplier,
                    value=f"https://nv.example/lp/{number}/{index:0128x}",
                )
                for index, student in enumerate(students)
            )
            holders.append(Holder(supplier, product, stub))
        yield RunWorld(board, students, holders)
