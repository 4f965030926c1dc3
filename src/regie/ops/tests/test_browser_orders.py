"""Issue 13, "Done when", in a real browser: the privacy officer sends an erasure order for one
pupil to the demo supplier Rekenwereld; a real ``regie worker`` process delivers it (RFC 9421
signed, over real HTTP); Rekenwereld deletes what it holds and both signed receipts appear,
verified, on the order's page. With Rekenwereld stopped, the order waits (a failed attempt, the
next one scheduled) and completes once Rekenwereld is back on its port.

Rekenwereld is served and registered at the hub as ``regie demo`` does it
(:func:`regie.demosupplier.server.start`, :func:`regie.ops.supplier_registration.register_clients`,
which also registers its order endpoint); the pupil signs in there first, so that it holds data.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from regie.demosupplier import server
from regie.demosupplier.suppliers import REKENWERELD
from regie.gateway.tests.conftest import Launchable
from regie.logins import log_in_in_browser
from regie.ops.tests import live
from regie.ops.tests.live import registered_supplier, wait_for, worker_process
from regie.ops.tests.test_demosupplier import hub_session, launch, pseudonym_of
from regie.orders.models import DeliveryAttempt, Order, OrderState, SupplierEndpoint
from regie.roster.importing.records import StaffRole
from regie.roster.tests.exports import make_staff

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
]


@pytest.fixture
def worker(launchable: Launchable, keys_dir: Path, tmp_path: Path) -> Iterator[Path]:
    with worker_process(launchable.base, keys_dir, tmp_path / "worker.log", "orders-demo") as log:
        yield log


@pytest.fixture
def rekenwereld(launchable: Launchable) -> Iterator[server.Running]:
    """Rekenwereld served and registered at the hub, with the pupil signed in there once."""
    with registered_supplier(
        REKENWERELD, launchable.base, launchable.supplier, launchable.product
    ) as running:
        session = hub_session(launchable.base, launchable.pupil_user.username)
        assert launch(session, running, f"{launchable.base}/oidc").status_code == 200
        assert running.app.holdings.holds(pseudonym_of(launchable.pupil, launchable.supplier))
        yield running


@pytest.fixture
def officer(launchable: Launchable) -> User:
    user, _ = make_staff(
        launchable.school.board, launchable.school, StaffRole.PRIVACY_OFFICER, username="fg-a"
    )
    return user


def send_erasure(page: Page, launchable: Launchable, officer: User) -> Order:
    """As the privacy officer: open the pupil's page and send Rekenwereld an erasure order."""
    log_in_in_browser(page, launchable.base, officer.username)
    page.wait_for_url(f"{launchable.base}/privacy/overzicht/")
    page.goto(f"{launchable.base}/school/leerlingen/{launchable.pupil.pk}/gegevens/")
    supplier = launchable.supplier.name
    page.get_by_role("link", name=f"Verwijderopdracht sturen aan {supplier}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Opdracht tot verwijderen versturen?")
    expect(page.get_by_text("AVG art. 17 lid 1")).to_be_visible()
    page.get_by_role("button", name="Ja, verstuur de opdracht").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("gegevens verwijderen")
    order = Order.objects.get()
    assert page.url == f"{launchable.base}/privacy/opdrachten/{order.pk}/"
    return order


def state_shown(page: Page) -> str:
    return page.locator("dt:text-is('Status') + dd").inner_text()


def reload_until_completed(page: Page) -> None:
    """The officer reloads the order's page until it shows the order completed."""
    deadline = time.monotonic() + live.WAIT_SECONDS
    while state_shown(page) != "uitgevoerd":
        assert time.monotonic() < deadline, state_shown(page)
        time.sleep(0.2)
        page.reload()


def assert_receipts_verified(page: Page) -> None:
    rows = page.locator("table").first.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("th")).to_have_text("aanvaard")
    expect(rows.nth(1).locator("th")).to_have_text("uitgevoerd")
    for index in range(2):
        expect(rows.nth(index).locator("td").last).to_contain_text("geverifieerd")


def test_an_erasure_order_to_rekenwereld_is_carried_out_and_both_receipts_are_verified(
    launchable: Launchable,
    rekenwereld: server.Running,
    worker: Path,
    officer: User,
    page: Page,
) -> None:
    sub = pseudonym_of(launchable.pupil, launchable.supplier)
    assert SupplierEndpoint.objects.get(supplier=launchable.supplier).url == (
        f"{rekenwereld.url}/orders"  # registered as the demo registers it
    )
    order = send_erasure(page, launchable, officer)
    reload_until_completed(page)
    assert_receipts_verified(page)
    order.refresh_from_db()
    assert order.state == OrderState.COMPLETED
    assert [receipt.status for receipt in order.receipts.order_by("issued_at", "pk")] == [
        "accepted",
        "completed",
    ]

    # At Rekenwereld: the order is listed, and nothing is held for the pupil any more.
    assert not rekenwereld.app.holdings.holds(sub)
    page.goto(f"{rekenwereld.url}/opdrachten")
    row = page.locator(f'tr[data-order="{order.pk}"]')
    expect(row).to_contain_text("Wissen")
    expect(row.locator("td").last).to_have_text("1")  # received once, carried out once

    # The menu and the dashboard lead to it: the dashboard counts no order as outstanding now.
    page.goto(f"{launchable.base}/privacy/overzicht/")
    expect(
        page.get_by_role("row", name="Opdrachten aan leveranciers die nog lopen")
    ).to_contain_text("0")
    page.get_by_role("navigation").get_by_role("link", name="Opdrachten").click()
    expect(page.get_by_role("link", name="gegevens verwijderen")).to_have_count(1)


def test_an_order_to_a_stopped_rekenwereld_waits_and_completes_once_it_is_back(
    launchable: Launchable,
    rekenwereld: server.Running,
    worker: Path,
    officer: User,
    page: Page,
) -> None:
    sub = pseudonym_of(launchable.pupil, launchable.supplier)
    port = int(rekenwereld.url.rsplit(":", 1)[1])
    rekenwereld.stop()  # Rekenwereld is down

    order = send_erasure(page, launchable, officer)
    wait_for(
        lambda: (
            DeliveryAttempt.objects.filter(order=order, delivered=False)
            .exclude(finished_at=None)
            .exists()
        ),
        "a failed attempt",
    )
    order.refresh_from_db()
    assert order.state == OrderState.CREATED  # waiting: the next attempt is scheduled
    page.reload()
    assert state_shown(page) == "aangemaakt"
    expect(page.get_by_text("ConnectError").first).to_be_visible()  # the failed attempt's outcome
    assert rekenwereld.app.holdings.holds(sub)

    back = server.serve(rekenwereld.app, port=port)  # Rekenwereld is back, on its port
    try:
        reload_until_completed(page)
        assert_receipts_verified(page)
        attempts = list(order.attempts.order_by("number"))
        assert len(attempts) >= 2
        assert not attempts[0].delivered
        assert attempts[-1].delivered
        assert not rekenwereld.app.holdings.holds(sub)
    finally:
        back.stop()
