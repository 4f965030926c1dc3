"""In a real browser: a pupil logs in at the hub, opens a tile in 'Mijn leermiddelen', and lands
at a demo supplier (a real relying party on its own port) that shows the pseudonym it received
and only the claims the release policy allows — a different pseudonym at each supplier."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from regie.browser import unlabelled_controls
from regie.demosupplier import server
from regie.demosupplier.suppliers import REKENWERELD, TAALRIJK
from regie.gateway.models import SupplierPseudonym
from regie.gateway.tests.conftest import PASSWORD, Launchable
from regie.ops import supplier_registration as registration

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
]


@pytest.fixture
def demo_suppliers(launchable: Launchable) -> Iterator[tuple[server.Running, server.Running]]:
    issuer = f"{launchable.base}/oidc"
    rekenwereld = server.start(REKENWERELD, issuer, port=0)
    taalrijk = server.start(TAALRIJK, issuer, port=0)
    try:
        registration.register_clients(
            rekenwereld.app, launchable.supplier, {"": launchable.product}
        )
        registration.register_clients(
            taalrijk.app, launchable.other_supplier, {"": launchable.other_product}
        )
        yield rekenwereld, taalrijk
    finally:
        rekenwereld.stop()
        taalrijk.stop()


def received_claims(page: Page) -> dict[str, str]:
    rows = page.locator("tr[data-claim]")
    return {
        rows.nth(index).get_attribute("data-claim") or "": rows.nth(index)
        .locator("td")
        .inner_text()
        for index in range(rows.count())
    }


def test_a_pupil_launches_both_demo_suppliers_from_the_tiles(
    launchable: Launchable, demo_suppliers: tuple[server.Running, server.Running], page: Page
) -> None:
    base = launchable.base
    rekenwereld, taalrijk = demo_suppliers
    page.goto(f"{base}/leermiddelen/")
    assert unlabelled_controls(page) == []
    page.get_by_label("Gebruikersnaam").fill(launchable.pupil_user.username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mijn leermiddelen")
    assert unlabelled_controls(page) == []

    page.get_by_role("link", name="Rekenwereld openen").click()
    page.wait_for_url(f"{rekenwereld.url}/ontvangen")
    expect(page.get_by_role("heading", level=1)).to_have_text("Wat Rekenwereld van regie ontving")
    at_rekenwereld = received_claims(page)
    assert at_rekenwereld == {
        "sub": SupplierPseudonym.objects.get(
            student=launchable.pupil, supplier=launchable.supplier
        ).value,
        "groups": "Groep 5, Plusklas",  # switched on by the school; the first name is not
    }
    expect(page.get_by_text("Dit is alles wat Rekenwereld over jou")).to_be_visible()

    page.goto(f"{base}/leermiddelen/")
    page.get_by_role("link", name="Taalrijk openen").click()
    page.wait_for_url(f"{taalrijk.url}/ontvangen")
    at_taalrijk = received_claims(page)
    assert at_taalrijk == {  # nothing switched on for Taalrijk: the pseudonym only
        "sub": SupplierPseudonym.objects.get(
            student=launchable.pupil, supplier=launchable.other_supplier
        ).value
    }
    assert at_taalrijk["sub"] != at_rekenwereld["sub"]

    # Logging out at the supplier logs out at the hub too, and comes back to the supplier.
    page.get_by_role("button", name="Uitloggen (ook bij regie)").click()
    page.wait_for_url(f"{taalrijk.url}/")
    expect(page.get_by_role("link", name="Inloggen via je school (regie)").first).to_be_visible()
    page.goto(f"{base}/leermiddelen/")
    expect(page.get_by_label("Gebruikersnaam")).to_be_visible()
