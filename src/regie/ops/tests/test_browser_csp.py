"""In a real browser: the main pages of every role keep to the Content-Security-Policy (no inline
script or style, nothing from another site), the number service's API docs load nothing from
another site, and a login that starts at a supplier still ends there (form-action)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from regie.agreements.models import ProcessingAgreement
from regie.browser import VIEWPORT, CspViolations, csp_violations
from regie.demosupplier import server
from regie.gateway.tests.conftest import PASSWORD, Launchable
from regie.logins import log_in_in_browser
from regie.roster.importing.records import StaffRole
from regie.roster.tests.exports import make_staff

from .test_browser_launch import demo_suppliers

__all__ = ["demo_suppliers"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
]

HEADER_BLUE = "rgb(11, 61, 110)"  # regie.css: the header, so the static style sheet applied


@pytest.fixture
def visitor(browser: Browser) -> Iterator[tuple[Page, CspViolations]]:
    """A page whose Content-Security-Policy violations the test reads itself."""
    context = browser.new_context(locale="nl-NL", viewport=VIEWPORT)
    context.set_default_timeout(15_000)
    violations = CspViolations()
    violations.listen(context)
    try:
        yield context.new_page(), violations
    finally:
        context.close()


def log_in(page: Page, base: str, username: str) -> None:
    """Log in afresh, with the second step for the roles that have one."""
    page.context.clear_cookies()
    log_in_in_browser(page, base, username, PASSWORD)
    page.wait_for_load_state()


def personas(launchable: Launchable) -> dict[str, list[str]]:
    """Each role's login and the main pages it works with (paths)."""
    school, group, pupil = launchable.school, launchable.group, launchable.pupil
    board = school.board
    _, staff = make_staff(board, school, StaffRole.TEACHER, username="leerkracht-a")
    staff.groups.add(group)
    make_staff(board, school, StaffRole.CARE_COORDINATOR, username="ib-a")
    make_staff(board, school, StaffRole.SCHOOL_ADMIN, username="beheer-a")
    make_staff(board, school, StaffRole.PRIVACY_OFFICER, username="fg-a")
    make_staff(board, None, StaffRole.BOARD_ADMIN, username="bestuur-a")
    User.objects.create_superuser("beheerder", "beheer@regie.example", PASSWORD)
    agreement = ProcessingAgreement.objects.filter(board=board).order_by("pk")[0]
    return {
        launchable.pupil_user.username: ["/leermiddelen/"],
        "leerkracht-a": [
            "/leermiddelen/",
            "/resultaten/",
            "/school/",
            "/school/groepen/",
            reverse("roster:group", args=[group.pk]),
            "/school/leerlingen/",
            reverse("roster:student", args=[pupil.pk]),
        ],
        "ib-a": ["/school/ouders/", "/school/leerlingen/"],
        "beheer-a": [
            "/school/import/",
            "/privacy/licenties/",
            f"/privacy/licenties/nieuw/?school={school.pk}",
            reverse("agreements:switches", args=[school.pk, launchable.product.pk]),
            reverse("agreements:consents", args=[pupil.pk]),
        ],
        "fg-a": [
            "/privacy/",
            "/privacy/overeenkomsten/",
            reverse("agreements:agreement", args=[agreement.pk]),
            "/privacy/leveranciers/",
            reverse("agreements:supplier", args=[launchable.supplier.pk]),
            reverse("agreements:product", args=[launchable.product.pk]),
            reverse("agreements:product-dpia", args=[launchable.product.pk]),
            "/privacy/overeenkomsten/importeren/",
            "/privacy/medezeggenschap/",
            "/privacy/aanbod/",
        ],
        "bestuur-a": ["/school/", "/school/leerlingen/"],
        "beheerder": [
            "/admin/",
            "/admin/gateway/oauthclient/",
            "/admin/gateway/oauthclient/add/",
            "/admin/roster/staff/",
            reverse("admin:roster_staff_change", args=[staff.pk]),
            "/admin/audit/auditevent/",
            "/admin/auth/user/",
        ],
    }


def test_the_main_pages_of_every_role_keep_to_the_policy(
    launchable: Launchable, visitor: tuple[Page, CspViolations]
) -> None:
    page, violations = visitor
    base = launchable.base
    school = launchable.school
    public = [
        "/",
        "/inloggen/",
        reverse("agreements:privacy-statement", args=[school.pk]),
        reverse("agreements:privacy-statement-print", args=[school.pk]),
    ]
    for path in public:
        page.goto(base + path)
        assert violations == [], path
    by_role = personas(launchable)
    for username, paths in by_role.items():
        log_in(page, base, username)
        for path in paths:
            response = page.goto(base + path)
            assert response is not None
            assert response.status == 200, (username, path)
            assert violations == [], (username, path)
    # The hub's style sheet applies (a static file, not an inline style) ...
    log_in(page, base, "bestuur-a")
    page.goto(f"{base}/school/")
    header = page.locator("header")
    assert header.evaluate("element => getComputedStyle(element).backgroundColor") == HEADER_BLUE
    # ... and the language form is sent with its button (no script, no inline handler).
    page.get_by_label("Taal").select_option("en")
    page.get_by_role("button", name="Kies").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Schools")
    assert violations == []


def test_the_number_services_api_docs_load_nothing_from_another_site(
    launchable: Launchable, page: Page
) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{launchable.base}/nummervoorziening/api/v1/docs")
    expect(page.get_by_text("regie Nummervoorziening").first).to_be_visible()
    operation = page.locator(".opblock-summary").first
    operation.click()  # an operation opens with icons (images in Swagger UI's style sheet)
    expect(page.locator(".opblock-body").first).to_be_visible()
    elsewhere = [
        url
        for url in requested
        if not url.startswith(f"{launchable.base}/") and not url.startswith("data:")
    ]
    assert elsewhere == []
    assert f"{launchable.base}/static/ninja/swagger-ui-bundle.js" in requested
    assert csp_violations(page) == []


def test_a_login_that_starts_at_a_supplier_ends_there(
    launchable: Launchable,
    demo_suppliers: tuple[server.Running, server.Running],
    page: Page,
) -> None:
    """The login form's redirects lead to the supplier's redirect URI: form-action allows it."""
    rekenwereld, _ = demo_suppliers
    page.goto(f"{rekenwereld.url}/")
    page.get_by_role("link", name="Inloggen via je school (regie)").first.click()
    page.get_by_label("Gebruikersnaam").fill(launchable.pupil_user.username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()

    page.wait_for_url(f"{rekenwereld.url}/ontvangen")
    expect(page.get_by_role("heading", level=1)).to_have_text("Wat Rekenwereld van regie ontving")
    assert csp_violations(page) == []
