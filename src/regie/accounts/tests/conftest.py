"""Fixtures for logins through a school's identity provider: a real provider over HTTP
(:mod:`.upstream_op`), a live hub, a school with a teacher and a pupil, and a visitor's session."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from pytest_django.live_server_helper import LiveServer

from regie.browser import browser, page
from regie.core.models import Board, School
from regie.roster.models import Staff, Student
from regie.roster.tests.exports import load_school, make_board

from ..models import Audience, IdentityProvider
from ..services import create_pupil_login
from . import upstream_op

__all__ = ["browser", "page"]

PASSWORD = "fictief-wachtwoord-123"
TEACHER_EMAIL = "k.visser@obs-devlieger.example"


@pytest.fixture(autouse=True)
def _fresh_metadata_cache() -> Iterator[None]:
    """Providers in tests come and go on random ports: no discovery document outlives a test."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def school_idp() -> Iterator[upstream_op.RunningProvider]:
    with upstream_op.serve() as running:
        yield running


@dataclass
class AtSchool:
    board: Board
    school: School
    teacher: Staff
    pupil: Student
    pupil_user: User


@pytest.fixture
def at_school(db: None, rng: random.Random) -> AtSchool:
    """A board with a school, a teacher without a login yet, and a pupil with a login."""
    board = make_board()
    school = load_school(board, rng, "99XA", "A")
    teacher = Staff.objects.create(
        board=board,
        school=school,
        voornamen="Kim",
        achternaam="Visser",
        email=TEACHER_EMAIL,
        roles=["teacher"],
    )
    pupil = school.students.order_by("pk")[0]
    pupil_user = create_pupil_login(pupil, "leerling-a", PASSWORD)
    return AtSchool(board, school, teacher, pupil, pupil_user)


def make_provider(
    board: Board,
    idp: upstream_op.RunningProvider,
    base: str,
    *,
    name: str = "Inloggen met Entree",
    audience: str = Audience.STAFF,
    subject_claim: str = "email",
    is_active: bool = True,
) -> IdentityProvider:
    """A provider of ``board``, registered at ``idp`` with the hub's callback as redirect URI."""
    provider = IdentityProvider(
        board=board,
        name=name,
        issuer=idp.url,
        client_id="nog-niet-geregistreerd",
        audience=audience,
        subject_claim=subject_claim,
        is_active=is_active,
    )
    provider.set_client_secret("nog-niet-geregistreerd")
    provider.save()
    client_id, secret = idp.app.register(f"{base}/inloggen/school/{provider.pk}/terug/")
    provider.client_id = client_id
    provider.set_client_secret(secret)
    provider.save()
    return provider


class Visitor:
    """A browser-like visitor of the hub, over real HTTP (redirects followed by hand)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = httpx.Client(base_url=base, follow_redirects=False, timeout=30)

    def login_page(self, query: str = "") -> httpx.Response:
        return self.http.get(f"/inloggen/{query}")

    def start(self, provider: IdentityProvider, next_url: str = "") -> httpx.Response:
        """Press the provider's button on the login page."""
        form = self.login_page()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        assert token is not None
        return self.http.post(
            f"/inloggen/school/{provider.pk}/",
            data={"csrfmiddlewaretoken": token[1], "next": next_url},
        )

    def to_provider_and_back(self, provider: IdentityProvider, next_url: str = "") -> str:
        """Start, let the provider answer; the URL it sends the visitor back to (not opened)."""
        started = self.start(provider, next_url)
        assert started.status_code == 302, started.text[:500]
        at_provider = self.http.get(started.headers["location"])
        assert at_provider.status_code == 302, at_provider.text[:500]
        back = at_provider.headers["location"]
        assert back.startswith(f"{self.base}/inloggen/school/{provider.pk}/terug/")
        return back

    def follow(self, url: str) -> tuple[httpx.Response, list[str]]:
        """Open ``url`` and follow the hub's redirects; the last answer and the paths passed."""
        paths = []
        answer = self.http.get(url)
        while answer.status_code == 302:
            location = answer.headers["location"]
            paths.append(httpx.URL(self.base).join(location).path)
            answer = self.http.get(location)
        return answer, paths

    def is_logged_in(self) -> bool:
        answer = self.http.get("/na-inloggen/")
        return answer.status_code == 302 and not answer.headers["location"].startswith("/inloggen/")


@pytest.fixture
def visitor(live_server: LiveServer) -> Iterator[Visitor]:
    session = Visitor(live_server.url)
    yield session
    session.http.close()
