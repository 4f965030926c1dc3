"""Every role its own way in (issue 12, item 2): each role logs in, lands where its work is, and
opens every entry of its menu; every entry answers 200 (never a 403, 404 or 500), and every page
it opens offers the same menu, with that page's own entry marked as the current one.

The menu a role gets is written out here (:data:`MENUS`), so a change to the menu is a change to
this test. The walk uses Django's test client for every role; one real browser clicks through the
widest menu (a privacy officer who also teaches), past the second step as a person would.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from regie.accounts.menu import menu_for
from regie.accounts.models import GuardianAccount
from regie.accounts.services import create_pupil_login
from regie.agreements.tests.register import World, license_group
from regie.logins import PASSWORD, log_in_in_browser, verify_second_factor
from regie.roster.importing.records import StaffRole
from regie.roster.models import Guardian
from regie.roster.tests.exports import make_staff

OFFICER_MENU = (
    "agreements:dashboard",
    "agreements:overview",
    "agreements:agreements",
    "agreements:licences",
    "roster:students",
    "roster:schools",
    "roster:import",
    "orders:list",
    "requests:list",
    "retention:overview",
    "incidents:list",
    "reports:list",
    "agreements:audit-log",
)
ADMIN_MENU = (
    "roster:schools",
    "roster:import",
    "roster:students",
    "agreements:overview",
    "agreements:licences",
)
BOARD_ADMIN_MENU = (*ADMIN_MENU, "orders:list")
TEACHER_MENU = ("roster:groups", "results", "tiles")
# The pages each role is offered, in order; the first is where it lands after logging in.
MENUS: dict[str, tuple[str, ...]] = {
    "pupil": ("tiles", "portal:home"),
    "guardian": ("portal:home",),
    "teacher": TEACHER_MENU,
    "care": ("roster:students", "roster:groups", "roster:guardians"),
    "school_admin": ADMIN_MENU,
    "officer": OFFICER_MENU,
    "board": BOARD_ADMIN_MENU,
    "superuser": ("admin:index", "agreements:overview"),
    # Two roles: the privacy officer's work first, then the teacher's, each page once.
    "officer_teacher": OFFICER_MENU + TEACHER_MENU,
}


class RoleWorld(World):
    """The register's world (board A: an officer, a board admin, a school admin and a teacher of
    group 5 at school A1, an active agreement), its product licensed for group 5, and a care
    coordinator, a pupil with a login, the hub's superuser, and a privacy officer of A1 who also
    teaches group 5."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        license_group(self.product, self.group)
        self.care, _ = make_staff(
            self.board_a, self.a1, StaffRole.CARE_COORDINATOR, username="ib-a"
        )
        self.pupil_user = create_pupil_login(self.pupil(), "leerling-a", PASSWORD)
        self.superuser = User.objects.create_superuser("beheer", "beheer@regie.example", PASSWORD)
        self.officer_teacher, both = make_staff(
            self.board_a,
            self.a1,
            StaffRole.PRIVACY_OFFICER,
            StaffRole.TEACHER,
            username="fg-leerkracht-a",
        )
        both.groups.add(self.group)
        pupil = self.pupil()
        guardian = Guardian.objects.create(
            school=self.a1, las_key="OU-walk", achternaam="Ouder", email="ouder-a@ouders.example"
        )
        guardian.students.add(pupil)
        self.guardian_user = User.objects.create_user("ouder-a", password=PASSWORD)
        GuardianAccount.objects.create(
            user=self.guardian_user, board=self.board_a, email="ouder-a@ouders.example"
        )

    def users(self) -> dict[str, User]:
        return {
            "pupil": self.pupil_user,
            "guardian": self.guardian_user,
            "teacher": self.teacher,
            "care": self.care,
            "school_admin": self.school_admin,
            "officer": self.officer,
            "board": self.board_admin,
            "superuser": self.superuser,
            "officer_teacher": self.officer_teacher,
        }


def logged_in(user: User) -> Client:
    """A client that logged in with the password on the login page, past the second step."""
    client = Client()
    answer = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert answer.status_code == 302, answer.content.decode()
    verify_second_factor(client, user)
    return client


def menu_on(response: Any) -> list[tuple[str, bool]]:
    """The menu a page offers: (URL, marked as the current page) per entry."""
    return [(entry.url, entry.current) for entry in response.context["nav"].entries]


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(MENUS))
def test_each_role_lands_on_its_work_and_opens_every_entry_of_its_menu(
    rng: random.Random, role: str
) -> None:
    world = RoleWorld(rng)
    user = world.users()[role]
    expected = [reverse(name) for name in MENUS[role]]
    assert [reverse(item.url_name) for item in menu_for(user)] == expected

    client = logged_in(user)
    landing = client.get(reverse("after-login"))
    assert landing.status_code == 302
    assert landing["Location"] == expected[0]

    wrong: list[str] = []
    for url in expected:
        response = client.get(url)
        if response.status_code != 200:
            wrong.append(f"{url}: {response.status_code}")
            continue
        if role == "superuser" and url == reverse("admin:index"):
            continue  # the admin site has its own navigation, not the hub's menu
        offered = menu_on(response)
        if [entry for entry, _current in offered] != expected:
            wrong.append(f"{url} offers {offered}")
        if [entry for entry, current in offered if current] != [url]:
            wrong.append(f"{url} marks {[entry for entry, current in offered if current]}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
def test_a_login_without_any_role_has_no_menu_and_lands_on_the_home_page() -> None:
    nobody = User.objects.create_user("niemand", password=PASSWORD)
    assert menu_for(nobody) == []
    client = logged_in(nobody)
    assert client.get(reverse("after-login"))["Location"] == reverse("home")
    assert menu_on(client.get(reverse("home"))) == []


@pytest.mark.browser
@pytest.mark.xdist_group("browser")
@pytest.mark.django_db(transaction=True)
def test_an_officer_who_teaches_clicks_through_the_whole_menu_in_a_browser(
    live_server: LiveServer, page: Page, rng: random.Random
) -> None:
    world = RoleWorld(rng)
    base = live_server.url
    log_in_in_browser(page, base, world.officer_teacher.username)
    urls = [reverse(name) for name in MENUS["officer_teacher"]]
    page.wait_for_url(f"{base}{urls[0]}")
    for url in urls:
        link = page.locator(f'nav a[href="{url}"]')
        expect(link).to_have_count(1)
        with page.expect_navigation() as navigation:
            link.click()
        answer = navigation.value
        assert answer is not None, url
        assert answer.status == 200, url
        assert page.url == f"{base}{url}"
        expect(page.locator(f'nav a[href="{url}"]')).to_have_attribute("aria-current", "page")
        expect(page.locator("h1")).to_have_count(1)
        offered = page.locator("nav a[href]").evaluate_all(
            "links => links.map(link => link.getAttribute('href'))"
        )
        assert [href for href in offered if href in urls] == urls
