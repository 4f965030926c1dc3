"""Language and tone on every page a role reaches (issue 12, item 10): no English on a Dutch
page, no Dutch on an English one, "u" on staff pages and "je" on pupil pages.

Each role walks the hub from its start page with the test client (:mod:`.crawl`) in Dutch and in
English. Text that is data (names, titles, purposes as typed in) is taken out first: it is in
whatever language someone typed it.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser, User
from django.db import models
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse

from regie.accounts.models import IdentityProvider
from regie.accounts.second_factor_views import recovery_notice
from regie.accounts.services import create_pupil_login
from regie.accounts.views import EXPLANATIONS as UPSTREAM_EXPLANATIONS
from regie.agreements.tests.register import World, license_group
from regie.gateway.models import OAuthClient
from regie.gateway.views import EXPLANATIONS as LAUNCH_EXPLANATIONS
from regie.gateway.views import NOT_A_PUPIL, NOT_A_PUPIL_FOR_STAFF
from regie.gateway.views import STAFF_EXPLANATIONS as STAFF_LAUNCH_EXPLANATIONS
from regie.logins import app_for, verified_client

from .crawl import Crawler, Page, read

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

# Common English words that are not Dutch, and common Dutch words that are not English.
ENGLISH = re.compile(
    r"\b(the|and|not|must|please|error|required|invalid|this field|should|cannot|your|you|"
    r"with|which|found|missing|expected|enter a|select a|are|been)\b",
    re.I,
)
DUTCH = re.compile(
    r"\b(de|het|een|niet|van|en|je|uw|voor|met|naar|geen|wordt|zijn|heeft|kan|deze|dit|bij|"
    r"leerling|leerlingen|schooljaar|gegevens)\b",
    re.I,
)
POLITE = re.compile(r"\b(u|uw|uzelf)\b", re.I)  # staff and parents
INFORMAL = re.compile(r"\b(je|jij|jou|jouw|jezelf|jullie)\b", re.I)  # pupils
DATA_APPS = ("core", "roster", "agreements", "accounts", "gateway")


@pytest.fixture
def world(db: None, rng: random.Random) -> World:
    world = World(rng)
    license_group(world.product, world.group)
    return world


def data_texts() -> list[str]:
    """Every text value in the hub's records: data, not interface (longest first)."""
    found: set[str] = set()
    for label in DATA_APPS:
        for model in apps.get_app_config(label).get_models():
            names = [
                item.name
                for item in model._meta.get_fields()
                if isinstance(item, (models.CharField, models.TextField))
            ]
            for row in model._default_manager.values_list(*names) if names else []:
                found.update(value for value in row if isinstance(value, str) and len(value) > 2)
            found.update(str(item) for item in model._default_manager.all()[:500])
    return sorted(found, key=len, reverse=True)


# Names of standards and products, the same in every language.
TERMS = ("EN 301 549",)


def interface_texts(page: Page, data: list[str]) -> Iterator[str]:
    for text in page.texts:
        for term in TERMS:
            text = text.replace(term, " ")
        for value in data:
            if value in text:
                text = text.replace(value, " ")
        if text.strip():
            yield text


def walk(user: User, language: str, *, pupil: bool = False) -> list[Page]:
    client = Client() if pupil else verified_client(user)
    if pupil:
        client.force_login(user)
    client.cookies["django_language"] = language
    pages = list(Crawler(client).walk([reverse("home")]))
    assert len(pages) > (1 if pupil else 5), [page.url for page in pages]
    return pages


def public_urls(language: str) -> set[str]:
    """The pages anyone may open without logging in: written for parents and everyone ("u"),
    also when a pupil follows a link to them (the privacy statement, the accessibility
    statement)."""
    client = Client()
    client.cookies["django_language"] = language
    return {page.url for page in Crawler(client).walk([reverse("home")])}


def offending(pages: list[Page], pattern: re.Pattern[str], data: list[str]) -> list[str]:
    return [
        f"{page.url}: {text!r}"
        for page in pages
        for text in interface_texts(page, data)
        if pattern.search(text)
    ]


def staff(world: World) -> list[User]:
    return [world.officer, world.board_admin, world.school_admin, world.teacher]


def pupil_login(world: World) -> User:
    return create_pupil_login(world.pupil(), "leerling-a", "fictief-wachtwoord-123")


def test_no_english_on_the_dutch_pages_of_any_role(world: World) -> None:
    pupil = pupil_login(world)
    data = data_texts()
    pages = [page for user in staff(world) for page in walk(user, "nl")]
    pages += walk(pupil, "nl", pupil=True)
    assert offending(pages, ENGLISH, data) == []


def test_no_dutch_on_the_english_pages_of_any_role(world: World) -> None:
    pupil = pupil_login(world)
    data = data_texts()
    pages = [page for user in staff(world) for page in walk(user, "en")]
    pages += walk(pupil, "en", pupil=True)
    assert offending(pages, DUTCH, data) == []


def test_staff_pages_say_u_and_pupil_pages_say_je(world: World) -> None:
    pupil = pupil_login(world)
    data = data_texts()
    staff_pages = [page for user in staff(world) for page in walk(user, "nl")]
    public = public_urls("nl")
    pupil_pages = [page for page in walk(pupil, "nl", pupil=True) if page.url not in public]
    assert pupil_pages, "the pupil reached no page of their own"

    assert offending(staff_pages, INFORMAL, data) == []
    assert offending(pupil_pages, POLITE, data) == []


# --- pages the walks above do not reach --------------------------------------------------------


def texts_of(response: Response, data: list[str]) -> Page:
    texts, _links = read(response.content.decode())
    page = Page(response.wsgi_request.path, response.status_code, texts)
    return Page(page.url, page.status, list(interface_texts(page, data)))


def test_the_second_step_of_privileged_staff_says_u(world: World) -> None:
    """Before the second step is passed, the login is not known to be staff by the menu: the
    pages themselves must say "u"."""
    data = data_texts()
    newcomer = Client()  # no app yet: setting one up
    newcomer.force_login(world.officer)
    pages = [texts_of(newcomer.get(reverse("second_factor:enrol")), data)]
    app_for(world.board_admin)
    returning = Client()  # an app: the code
    returning.force_login(world.board_admin)
    pages.append(texts_of(returning.get(reverse("second_factor:verify")), data))
    wrong = returning.post(reverse("second_factor:verify"), {"code": "000000"})
    pages.append(texts_of(wrong, data))
    verified = verified_client(world.school_admin)
    pages.append(texts_of(verified.get(reverse("second_factor:recovery-codes")), data))
    pages.append(texts_of(verified.get(reverse("second_factor:enrol")), data))

    assert [page.status for page in pages] == [200] * len(pages)
    assert offending(pages, INFORMAL, data) == []
    assert all(POLITE.search(" ".join(page.texts)) for page in pages), [p.url for p in pages]
    assert POLITE.search(str(recovery_notice(9)))
    assert not INFORMAL.search(str(recovery_notice(9)))


def test_the_pages_before_anyone_is_known_address_nobody_in_particular(world: World) -> None:
    """The login page, the lockout and a refused login through the school's identity provider
    are seen by pupils and staff alike, before regie knows who: neither "je" nor "u"."""
    data = data_texts()
    provider = IdentityProvider(
        board=world.board_a, name="Schoolaccount", issuer="https://idp.example", client_id="regie"
    )
    provider.set_client_secret("fictief-geheim")
    provider.save()
    visitor = Client()
    login = visitor.get(reverse("login"))
    assert "Schoolaccount" in login.content.decode()  # the part about the school's own login
    wrong = {"username": "niemand-bekend", "password": "fout-wachtwoord"}
    pages = [texts_of(login, data), texts_of(visitor.post(reverse("login"), wrong), data)]
    for _attempt in range(10):
        locked = visitor.post(reverse("login"), wrong)
    assert locked.status_code == 429
    pages.append(texts_of(locked, data))
    refused = RequestFactory().get("/inloggen/school/1/terug/")
    refused.user = AnonymousUser()
    for explanation in UPSTREAM_EXPLANATIONS.values():
        html = render_to_string(
            "accounts/upstream_refused.html",
            {"title": explanation.title, "text": explanation.text, "reason": "test"},
            request=refused,
        )
        texts, _links = read(html)
        pages.append(Page("upstream_refused", 200, texts))

    assert offending(pages, INFORMAL, data) == []
    assert offending(pages, POLITE, data) == []


@pytest.mark.parametrize("path", ["/geen-pagina/", "403"])
def test_the_error_pages_say_je_to_a_pupil_and_u_to_staff(world: World, path: str) -> None:
    pupil = Client()
    pupil.force_login(pupil_login(world))
    teacher = verified_client(world.teacher)
    if path == "403":  # a page of another role: the groups for the pupil, the log for the teacher
        to_pupil = pupil.get(reverse("roster:groups"))
        to_staff = teacher.get(reverse("agreements:audit-log"))
    else:
        to_pupil, to_staff = pupil.get(path), teacher.get(path)
    data = data_texts()
    expected = 403 if path == "403" else 404
    assert (to_pupil.status_code, to_staff.status_code) == (expected, expected)
    staff_page, pupil_page = texts_of(to_staff, data), texts_of(to_pupil, data)

    assert offending([staff_page], INFORMAL, data) == []
    assert POLITE.search(" ".join(staff_page.texts))
    assert offending([pupil_page], POLITE, data) == []
    assert INFORMAL.search(" ".join(pupil_page.texts))


def test_a_refused_launch_says_je_to_a_pupil_and_u_to_a_teacher(world: World) -> None:
    """Teachers launch learning materials too, and see the same refusal page as pupils."""
    data = data_texts()
    client = OAuthClient(name="Rekenwereld", product=world.product)
    pages: dict[bool, list[Page]] = {True: [], False: []}
    for user, pupil in ((pupil_login(world), True), (world.teacher, False)):
        request = RequestFactory().get("/oidc/authorize")
        request.user = user
        explanations = LAUNCH_EXPLANATIONS if pupil else STAFF_LAUNCH_EXPLANATIONS
        for reason in [*explanations.values(), NOT_A_PUPIL if pupil else NOT_A_PUPIL_FOR_STAFF]:
            context = {"client": client, "reason": reason, "back": "/", "back_host": "x.example"}
            texts, _links = read(render_to_string("gateway/refused.html", context, request))
            pages[pupil].append(Page("refused", 403, texts))

    assert offending(pages[False], INFORMAL, data) == []
    assert all(POLITE.search(" ".join(page.texts)) for page in pages[False])
    assert offending(pages[True], POLITE, data) == []
    assert all(INFORMAL.search(" ".join(page.texts)) for page in pages[True])
