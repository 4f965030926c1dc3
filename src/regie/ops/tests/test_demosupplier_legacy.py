"""The demo supplier's legacy conversion against a live hub: Rekenwereld's back office registers
its old named records (a button), replaces its old numbers by the pseudonyms of the table, and on
the hub's ``legacy-conversion`` order destroys the named records and answers with a signed
statement that confirms the destruction on the board's page."""

from __future__ import annotations

import html
from collections.abc import Iterator

import httpx
import pytest

from regie.demosupplier import legacy, server
from regie.demosupplier.legacy import NamedRecord
from regie.demosupplier.suppliers import REKENWERELD
from regie.gateway import pseudonyms
from regie.gateway.tests.conftest import Launchable
from regie.ops import supplier_registration as registration
from regie.ops.tests.test_demosupplier_rostering import csrf_of
from regie.orders.jobs import deliver
from regie.orders.models import Order, OrderState
from regie.retention.models import LegacyRegistration, LegacyState
from regie.roster.demo_board import PO_SCHOOL, VO_SCHOOL, generate_demo_board
from regie.roster.importing.records import StaffRole
from regie.roster.tests.exports import client_for, make_staff


@pytest.fixture
def rekenwereld(launchable: Launchable) -> Iterator[server.Running]:
    hub = launchable
    item = server.start(REKENWERELD, f"{hub.base}/oidc", port=0)
    registration.register_clients(item.app, hub.supplier, {"": hub.product})
    yield item
    item.stop()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_demo_supplier_converts_and_destroys_its_legacy_named_data(
    launchable: Launchable, rekenwereld: server.Running
) -> None:
    hub = launchable
    book = rekenwereld.app.legacy
    assert book is not None
    assert book.named > 0
    pupils = list(hub.group.students.order_by("pk"))[:3]
    book.school = hub.school.code
    book.records = [
        *(
            NamedRecord(f"RW-{number}", pupil.las_key, f"Leerling {number} (oud)")
            for number, pupil in enumerate(pupils, start=1)
        ),
        NamedRecord("RW-9001", name="Pim Verhoeven", birth_date="2016-02-29"),
    ]
    browser = httpx.Client(base_url=rekenwereld.url, follow_redirects=False, timeout=60)
    page = browser.get("/rooster")
    assert "Nog 4 oude record(s) met namen." in page.text
    sent = browser.post("/rooster/oude-gegevens", data={"csrf": csrf_of(page.text)})
    assert sent.status_code == 303, sent.text[:500]

    expected = {
        f"RW-{number}": pseudonyms.for_student(pupil, hub.supplier)
        for number, pupil in enumerate(pupils, start=1)
    }
    assert book.pseudonyms == expected  # the old numbers now lead to the pseudonyms
    assert book.counts == {"converted": 3, "not_found": 1}
    registered = LegacyRegistration.objects.get()
    assert book.registration == registered.pk
    assert (registered.records, registered.converted, registered.not_found) == (4, 3, 1)
    assert "regie vraagt ze te vernietigen" in browser.get("/rooster").text
    again = browser.post("/rooster/oude-gegevens", data={"csrf": csrf_of(page.text)})
    assert again.status_code == 400  # registered once
    assert LegacyRegistration.objects.count() == 1

    order = registered.order
    assert order is not None
    deliver(order=str(order.pk), attempt=1)  # the worker's job, here in the test's thread
    assert Order.objects.get(pk=order.pk).state == OrderState.COMPLETED
    assert book.named == 0
    assert book.pseudonyms == {}
    assert sorted(book.kept) == sorted(value for value in expected.values() if value)
    assert LegacyRegistration.objects.get().state == LegacyState.CONFIRMED

    shown = browser.get("/rooster").text
    assert "Vernietigingsverklaring" in shown
    assert "Leerling 1 (oud)" not in shown
    assert "Omzetting van oude nummers" in browser.get("/opdrachten").text
    user, _ = make_staff(hub.school.board, None, StaffRole.PRIVACY_OFFICER)
    board_page = client_for(user).get("/privacy/bewaren/oude-gegevens/").content.decode()
    assert "vernietiging bevestigd" in board_page
    assert html.escape(book.statement) in board_page


def test_the_demo_records_follow_the_demo_boards_pupils() -> None:
    """Rekenwereld's old records name the demo board's pupils (no database): the licensed ones
    are in the groups the demo register licenses, the others where the docstring says."""
    export = generate_demo_board().export
    where = {item.key: (item.school_key, set(item.group_keys)) for item in export.students}
    for key in legacy.LICENSED:
        school, groups = where[key]
        assert school == PO_SCHOOL.key
        assert groups & {"GR-PO-1A", "GR-PO-1B"}
    for key in legacy.UNLICENSED:
        school, groups = where[key]
        assert school == PO_SCHOOL.key
        assert not groups & {"GR-PO-1A", "GR-PO-1B", "GR-PO-1C"}
    assert {where[key][0] for key in legacy.OTHER_SCHOOL} == {VO_SCHOOL.key}
    assert PO_SCHOOL.brin + PO_SCHOOL.vestiging == legacy.DEMO_SCHOOL
