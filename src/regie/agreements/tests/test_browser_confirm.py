"""Revoking a licence asks first and can be undone, in a real browser, with JavaScript off (the
pages need none) and on: the list links to the confirmation page, which says who loses access;
its button revokes; the list's 'Ongedaan maken' brings the licence back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from regie.audit.models import AuditEvent
from regie.browser import VIEWPORT, CspViolations, document_language, unlabelled_controls
from regie.logins import log_in_in_browser

from .. import events
from ..models import Licence
from .register import World, license_group

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(params=[False, True], ids=["without-javascript", "with-javascript"])
def any_page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        locale="nl-NL", viewport=VIEWPORT, java_script_enabled=request.param
    )
    context.set_default_timeout(15_000)
    violations = CspViolations()  # as regie.browser's page fixture: the policy holds
    violations.listen(context)
    try:
        yield context.new_page()
    finally:
        context.close()
    assert not violations, violations


def test_an_officer_revokes_a_licence_after_confirming_and_undoes_it(
    live_server: LiveServer, any_page: Page, world: World
) -> None:
    page = any_page
    licence = license_group(world.product, world.group)
    log_in_in_browser(page, live_server.url, world.officer.get_username())
    page.goto(f"{live_server.url}/privacy/licenties/")

    page.get_by_role("link", name=f"Intrekken {world.product.name}").click()

    expect(page.locator("h1")).to_have_text("Licentie intrekken?")
    expect(page.locator("main")).to_contain_text("op alle kanalen tegelijk")
    assert document_language(page) == "nl"
    assert unlabelled_controls(page) == []
    assert Licence.objects.filter(pk=licence.pk).exists()  # asking changed nothing
    page.get_by_role("button", name="Ja, trek de licentie in").click()

    expect(page.get_by_role("status")).to_contain_text("De licentie is ingetrokken.")
    assert not Licence.objects.exists()
    page.get_by_role("button", name=f"Ongedaan maken {world.product.name}").click()

    expect(page.get_by_role("status")).to_contain_text("De licentie is hersteld")
    restored = Licence.objects.get()
    assert (restored.product, restored.group) == (world.product, world.group)
    assert AuditEvent.objects.filter(event_type=events.LICENCE_RESTORED.name).count() == 1
    expect(page.get_by_role("button", name="Ongedaan maken")).to_have_count(0)
