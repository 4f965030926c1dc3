"""On a phone (WCAG 1.4.10, reflow): at 320 and 390 CSS pixels no page scrolls sideways, a wide
table scrolls inside its own focusable box, and the menu folds behind a "Menu" button that opens
without JavaScript and whose links the keyboard reaches."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from regie.core.models import Board, School
from regie.logins import log_in_in_browser
from regie.roster.importing.records import StaffRole
from regie.roster.tests.exports import make_staff

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "fictief-wachtwoord-123"  # make_staff's
WIDTHS = [320, 390]


def page_width(page: Page) -> tuple[int, int]:
    """The document's width and the window's: equal when nothing sticks out sideways."""
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    return scroll_width, inner_width


@pytest.fixture
def board_admin() -> str:
    board = Board.objects.create(bestuursnummer="41234", name="Stichting Brede Tabellen")
    for number in range(12):
        School.objects.create(
            board=board,
            brin=f"{10 + number}XY",
            vestiging="00",
            name=f"Openbare Basisschool De Langgerektewaterlelievijver {number}",
            sector="po",
        )
    make_staff(board, None, StaffRole.BOARD_ADMIN, username="bestuur-breed")
    return "bestuur-breed"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", ["/", "/toegankelijkheid/", "/inloggen/", "/privacyverklaringen/"])
def test_a_public_page_needs_no_sideways_scrolling(
    live_server: LiveServer, page: Page, path: str, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(live_server.url + path)

    scroll_width, inner_width = page_width(page)
    assert scroll_width <= inner_width


@pytest.mark.parametrize("width", WIDTHS)
def test_the_menu_folds_and_opens_on_a_phone_and_a_wide_table_scrolls_in_its_own_box(
    live_server: LiveServer, page: Page, board_admin: str, width: int
) -> None:
    log_in_in_browser(page, live_server.url, board_admin, PASSWORD)
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(live_server.url + "/school/")

    scroll_width, inner_width = page_width(page)
    assert scroll_width <= inner_width
    table_box = page.locator(".regie-table-scroll").first
    assert table_box.evaluate("box => box.scrollWidth > box.clientWidth")  # it does scroll
    assert table_box.get_attribute("tabindex") == "0"  # so the keyboard can scroll it
    expect(table_box).to_have_accessible_name("Tabel, schuift opzij op een smal scherm")

    menu = page.get_by_role("navigation", name="Hoofdmenu")
    schools = menu.get_by_role("link", name="Scholen")
    expect(schools).to_be_hidden()
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")  # the language
    for _ in range(10):  # past the language and the logout button, to the menu button
        if menu.locator("summary").evaluate("summary => summary === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(menu.locator("summary")).to_be_focused()
    page.keyboard.press("Enter")  # opens the menu: no JavaScript of ours involved

    expect(schools).to_be_visible()
    expect(schools).to_have_attribute("aria-current", "page")
    page.keyboard.press("Tab")
    assert schools.evaluate("link => link === document.activeElement")
    scroll_width, inner_width = page_width(page)
    assert scroll_width <= inner_width


def test_the_menu_is_a_plain_row_of_links_on_a_wide_screen(
    live_server: LiveServer, page: Page, board_admin: str
) -> None:
    log_in_in_browser(page, live_server.url, board_admin, PASSWORD)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(live_server.url + "/school/")

    menu = page.get_by_role("navigation", name="Hoofdmenu")
    expect(menu.locator("summary")).to_be_hidden()
    expect(menu.get_by_role("link", name="Scholen")).to_be_visible()
