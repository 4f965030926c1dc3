"""A small fictional hub for the report's tests: one board with a school of pupils (through the
real importer), two suppliers (one with an active agreement and a product, one with a draft),
pseudonyms of every pupil at the first, and a fake sector (a local HTTP server)."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from regie.agreements.models import AgreementStatus, Product, Supplier
from regie.agreements.tests.register import make_agreement, make_product, make_supplier
from regie.core.models import Board
from regie.gateway.models import SupplierPseudonym
from regie.roster.models import Student
from regie.roster.tests.exports import load_school, make_board


@dataclass
class World:
    board: Board
    students: list[Student]
    supplier: Supplier
    product: Product
    other: Supplier


def make_world(rng: random.Random, pupils: int = 7) -> World:
    board = make_board("41017", "Stichting Rapport (fictief)")
    school = load_school(board, rng, "99RB", "Q", pupils=pupils)
    students = list(Student.objects.filter(school=school).order_by("pk"))
    supplier = make_supplier("Rekenwereld B.V. (fictief)", "99017001")
    product = make_product(supplier, "Rekenwereld")
    make_agreement(board, supplier, [product], ("supplier_pseudonym", "groups", "first_name"))
    other = make_supplier("Taalhuis B.V. (fictief)", "99017002")
    make_agreement(board, other, [make_product(other, "Taalhuis")], status=AgreementStatus.DRAFT)
    SupplierPseudonym.objects.bulk_create(
        SupplierPseudonym(
            student=student, supplier=supplier, value=f"https://nv.example/lp/{index:0128x}"
        )
        for index, student in enumerate(students)
    )
    return World(board, students, supplier, product, other)


@dataclass
class Sector:
    """The sector dashboard as seen from the hub: answers ``status`` (with a problem body for
    an error) and keeps every body it was sent."""

    url: str = ""
    status: int = 201
    bodies: list[bytes] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)


@contextmanager
def sector_server() -> Iterator[Sector]:
    sector = Sector()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            sector.bodies.append(self.rfile.read(length))
            sector.content_types.append(self.headers.get("content-type", ""))
            if sector.status == 201:
                body = b'{"accepted": 1}'
                kind = "application/json"
            else:
                body = (
                    b'{"type": "about:blank", "title": "Refused", "status": %d, '
                    b'"detail": "the sector says no"}' % sector.status
                )
                kind = "application/problem+json"
            self.send_response(sector.status)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    sector.url = f"http://127.0.0.1:{server.server_address[1]}/sector/api/reports"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sector
    finally:
        server.shutdown()
        server.server_close()
