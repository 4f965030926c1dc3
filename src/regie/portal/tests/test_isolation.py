"""Guardian A never sees child B: every URL of the ``portal`` namespace, table-driven.

The test walks the resolver of ``regie.portal.urls`` itself, so a page another part adds later is
covered without touching this file — and a page with a URL argument this test does not know fails
it, so that no new URL slips by unchecked. Child-identifying arguments are filled with child B's:
``student_id`` (child B), ``event_id`` (a release of child B), ``request_id`` (a rights request
about child B). With those, as guardian A (same board), as the guardian of a child at another
board, as a pupil under 16 (child B's own login: their parents act for them) GET and POST answer
404, 403 or 405 — never a page, a redirect or a file about child B; staff get 403; as guardian B
every GET answers 200.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse
from django.utils import timezone

from regie.agreements.models import Consent
from regie.portal import urls as portal_urls

from ..models import RequestState
from .people import PortalWorld, make_pupil_login, release, rights_request

pytestmark = pytest.mark.django_db

# The URL arguments that name something about a child: filled with child B's.
ABOUT_A_CHILD = ("student_id", "event_id", "request_id")
# URL arguments that name no child (an invitation's one-time token): filled with a value of no
# one; the page must still tell nothing about child B.
ABOUT_NO_CHILD = ("token",)
REFUSED = (403, 404, 405)


@dataclass(frozen=True)
class Page:
    name: str
    kwargs: tuple[str, ...]


def _walk(patterns: Sequence[URLPattern | URLResolver]) -> Iterator[Page]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns)
            continue
        assert pattern.name, f"a portal URL without a name: {pattern.pattern}"
        yield Page(pattern.name, tuple(pattern.pattern.regex.groupindex))


def portal_pages() -> list[Page]:
    return list(_walk(portal_urls.urlpatterns))


@dataclass
class ChildB:
    """What the walk fills in: child B's ids, and what child B's data would look like."""

    values: dict[str, object]
    name: str

    def url(self, page: Page) -> str:
        unknown = [k for k in page.kwargs if k not in ABOUT_A_CHILD + ABOUT_NO_CHILD]
        assert not unknown, (
            f"portal:{page.name} has URL arguments this test does not know: {unknown}. Add them "
            "to ABOUT_A_CHILD (filled with child B's) or ABOUT_NO_CHILD."
        )
        return reverse(f"portal:{page.name}", kwargs={k: self.values[k] for k in page.kwargs})

    def leaks(self, content: bytes) -> bool:
        """The child's name in a page (the URL the visitor typed may be echoed: it is theirs)."""
        return self.name in content.decode(errors="replace")


def about_a_child(page: Page) -> bool:
    return any(k in ABOUT_A_CHILD for k in page.kwargs)


@pytest.fixture
def child_b(world: PortalWorld) -> ChildB:
    event = release(world.child_b, world, ("supplier_pseudonym", "groups"))
    request = rights_request(world.child_b)
    request.state = RequestState.COMPLETED
    request.closed_at = timezone.now()
    request.save()
    return ChildB(
        {
            "student_id": world.child_b.pk,
            "event_id": event.pk,
            "request_id": request.pk,
            "token": secrets.token_urlsafe(32),
        },
        str(world.child_b),
    )


def walk_refused(client: Client, child_b: ChildB, who: str) -> None:
    """Every page about child B refuses ``client`` (GET and POST); every other page tells it
    nothing about child B."""
    for page in portal_pages():
        url = child_b.url(page)
        for method in ("get", "post"):
            response = getattr(client, method)(url, {"product": "1", "attribute": "first_name"})
            if about_a_child(page):
                assert response.status_code in REFUSED, (
                    who,
                    method,
                    page.name,
                    response.status_code,
                )
            else:
                assert response.status_code < 500, (who, method, page.name)
            assert not child_b.leaks(response.content), (who, method, page.name)


def test_the_walk_covers_the_child_pages(child_b: ChildB) -> None:
    names = {page.name for page in portal_pages()}
    assert {"home", "child", "child-download", "child-print", "release-proof", "consent"} <= names
    assert "verify" in names


def test_guardian_a_gets_nothing_of_child_b_on_any_portal_url(
    world: PortalWorld, child_b: ChildB
) -> None:
    consents = Consent.objects.filter(student=world.child_b).count()
    walk_refused(world.client(world.user_a), child_b, "guardian A")
    assert Consent.objects.filter(student=world.child_b).count() == consents


def test_a_guardian_at_another_board_gets_nothing_of_child_b(
    world: PortalWorld, child_b: ChildB
) -> None:
    walk_refused(world.client(world.user_other), child_b, "guardian at board B")


def test_child_b_under_16_does_not_act_for_themselves(world: PortalWorld, child_b: ChildB) -> None:
    walk_refused(world.client(make_pupil_login(world.child_b)), child_b, "pupil under 16")


# The portal's own pages without an argument: a guardian's or pupil's, refused to anyone else.
OWN_PAGES = ("home", "verify")


@pytest.mark.parametrize("persona", ["officer", "teacher", "board_admin", "school_admin"])
def test_staff_are_refused_every_portal_page(
    world: PortalWorld, child_b: ChildB, persona: str
) -> None:
    user: User = getattr(world, persona)
    client = world.client(user)
    for page in portal_pages():
        response = client.get(child_b.url(page))
        if about_a_child(page) or page.name in OWN_PAGES:
            assert response.status_code == 403, (persona, page.name, response.status_code)
        else:  # the invitation's pages (before a guardian has a login)
            assert response.status_code < 500, (persona, page.name)
        assert not child_b.leaks(response.content), (persona, page.name)


def test_a_visitor_is_sent_to_log_in(child_b: ChildB) -> None:
    client = Client()
    for page in portal_pages():
        response = client.get(child_b.url(page))
        assert response.status_code != 200 or not about_a_child(page), page.name
        assert not child_b.leaks(response.content), page.name


def test_guardian_b_opens_every_page_about_child_b(world: PortalWorld, child_b: ChildB) -> None:
    client = world.client(world.user_b)
    for page in portal_pages():
        if about_a_child(page) or page.name in OWN_PAGES:
            response = client.get(child_b.url(page))
            assert response.status_code == 200, (page.name, response.status_code)


def test_an_event_that_is_not_a_release_of_the_child_has_no_proof(world: PortalWorld) -> None:
    """Guardian B asks for the proof of child A's release under child B's id: 404."""
    theirs = release(world.child_a, world, ("supplier_pseudonym",))
    url = reverse("portal:release-proof", args=[world.child_b.pk, theirs.pk])
    assert world.client(world.user_b).get(url).status_code == 404
    missing = reverse("portal:release-proof", args=[world.child_b.pk, theirs.pk + 1000])
    assert world.client(world.user_b).get(missing).status_code == 404
