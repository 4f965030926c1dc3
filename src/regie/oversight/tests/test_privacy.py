"""Done-when of issue 17: no personal data in a report. The demo board (the demo generator,
through the real importer) gets releases beyond the pseudonym, consents and requests; the
report's signed note is scanned for every pupil's, guardian's and staff member's name, e-mail,
LAS key, ECK iD, pseudonym and the PGNs the export carried: none may appear."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from regie.agreements.tests.register import make_agreement, make_product, make_supplier
from regie.audit.services import record
from regie.gateway import events as gateway_events
from regie.gateway.models import SupplierPseudonym
from regie.portal.models import RequestState, RightsRequest
from regie.roster.demo_board import generate_demo_board
from regie.roster.importing.plan import apply_export
from regie.roster.models import Guardian, Staff, Student

from .. import reports

pytestmark = pytest.mark.django_db


def test_a_report_of_the_demo_board_names_nobody() -> None:
    demo = generate_demo_board(pupils=80, pgn_pupils=3)
    from regie.core.models import Board

    board = Board.objects.create(bestuursnummer=demo.bestuursnummer, name=demo.name, kvk=demo.kvk)
    with transaction.atomic():
        apply_export(demo.export, board, actor="test", pseudonyms={})
    pupils = list(Student.objects.filter(school__board=board).order_by("pk"))
    assert len(pupils) > 40
    supplier = make_supplier("Rekenwereld B.V. (fictief)", "99017009")
    product = make_product(supplier, "Rekenwereld")
    make_agreement(board, supplier, [product])
    SupplierPseudonym.objects.bulk_create(
        SupplierPseudonym(
            student=pupil, supplier=supplier, value=f"https://nv.example/lp/{pupil.pk:0128x}"
        )
        for pupil in pupils
    )
    now = timezone.now()
    for pupil in pupils:
        record(
            gateway_events.RELEASE,
            f"client:{supplier.pk}",
            f"student:{pupil.pk}",
            {
                "channel": "oidc",
                "supplier": supplier.pk,
                "product": product.pk,
                "attributes": ["supplier_pseudonym", "first_name", "groups"],
            },
        )
    for days, pupil in enumerate(pupils[:6], start=1):
        RightsRequest.objects.create(
            board=board,
            student=pupil,
            kind="access",
            filed_as="guardian",
            received_at=now - dt.timedelta(days=days),
            deadline=timezone.localdate() + dt.timedelta(days=20),
            state=RequestState.COMPLETED,
            closed_at=now,
        )
    today = timezone.localdate()
    report = reports.make(today - dt.timedelta(days=6), today, now=now)
    text = report.note
    # The report has content: every pupil's first name and groups went out.
    assert f'"attribute":"first_name","category":"user.name.first","pupils":{len(pupils)}' in text

    identifiers: set[str] = set()
    for record_ in demo.export.students:
        identifiers |= {record_.key, record_.eck_id, record_.pgn, record_.roepnaam}
        identifiers |= {record_.voornamen, record_.achternaam}
    for guardian in demo.export.guardians:
        identifiers |= {guardian.key, guardian.email, guardian.voornamen, guardian.achternaam}
    for staff in demo.export.staff:
        identifiers |= {staff.key, staff.email, staff.voornamen, staff.achternaam}
    for pupil in Student.with_canaries.filter(school__board=board):
        identifiers |= {pupil.las_key, pupil.eck_id, pupil.stampseudonym, pupil.achternaam}
    for guardian_row in Guardian.objects.filter(school__board=board):
        identifiers |= {guardian_row.las_key, guardian_row.email, guardian_row.achternaam}
    for staff_row in Staff.objects.filter(board=board):
        identifiers |= {staff_row.las_key, staff_row.email, staff_row.achternaam}
    identifiers |= set(SupplierPseudonym.objects.values_list("value", flat=True))
    identifiers.discard("")
    assert sum(1 for record_ in demo.export.students if record_.pgn) == 3
    assert len(identifiers) > 200
    found = sorted(value for value in identifiers if value in text)
    assert found == []
