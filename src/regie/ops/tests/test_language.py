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

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.db import models
from django.test import Client
from django.urls import reverse

from regie.accounts.services import create_pupil_login
from regie.agreements.tests.register import World, license_group
from regie.logins import verified_client

from .crawl import Crawler, Page

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
