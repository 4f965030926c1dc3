"""The end of a contract in a real browser: the privacy officer terminates an agreement whose
supplier has no order address; the contracts page says the order could not be sent (axe finds
nothing, at both widths), and the statement of destruction she received by post, recorded there,
takes the agreement to "gegevens vernietigd"."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from regie.agreements.models import AgreementStatus
from regie.browser import (  # noqa: F401  (browser, page: fixtures)
    axe_report,
    axe_violations,
    browser,
    page,
    unlabelled_controls,
)
from regie.logins import log_in_in_browser
from regie.orders.tests.conftest import (  # noqa: F401  (the hub's keys: fixtures)
    World,
    hub_keys_dir,
    hub_keys_in_settings,
    make_world,
)
from regie.roster.importing.records import StaffRole
from regie.roster.tests.exports import make_staff

from ..models import ContractDestruction, ContractState
from .test_contracts import active_agreement

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def world(transactional_db: None, rng: random.Random) -> Iterator[World]:
    yield from make_world(rng)


def test_an_officer_records_the_statement_when_no_order_could_be_sent(
    live_server: LiveServer,
    page: Page,  # noqa: F811
    world: World,
) -> None:
    world.endpoint.delete()
    agreement = active_agreement(world)
    board = world.students[0].school.board
    make_staff(board, None, StaffRole.PRIVACY_OFFICER, username="fg-einde")
    log_in_in_browser(page, live_server.url, "fg-einde")

    page.goto(f"{live_server.url}/privacy/overeenkomsten/{agreement.pk}/")
    page.get_by_role("link", name="Naar status: beëindigd…").click()
    expect(page.locator("main")).to_contain_text("ook bij de subverwerkers")
    page.get_by_role("button", name="Ja, beëindig de overeenkomst").click()
    expect(page.locator("main")).to_contain_text("volgt op het bewijs van de leverancier")

    page.goto(f"{live_server.url}/privacy/bewaren/contracten/")
    main = page.locator("main")
    expect(main).to_contain_text("kon niet worden verstuurd")
    expect(main).to_contain_text("1 beëindigde overeenkomst wacht op de vernietiging.")
    assert unlabelled_controls(page) == []
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        violations = axe_violations(page)
        assert violations == [], axe_report(violations)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_label("Verklaring van vernietiging die u op een andere manier kreeg").fill(
        "Brief van de leverancier (fictief): alle gegevens zijn vernietigd."
    )
    page.get_by_role("button", name="Verklaring vastleggen").click()

    expect(page.get_by_role("status")).to_contain_text("De verklaring is vastgelegd.")
    expect(main).to_contain_text("Brief van de leverancier (fictief)")
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.DATA_DESTROYED
    assert ContractDestruction.objects.get(agreement=agreement).state == ContractState.STATEMENT
