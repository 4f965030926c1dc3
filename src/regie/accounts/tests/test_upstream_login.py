"""Logging in through the school's own identity provider (a real OpenID Connect provider over
HTTP): staff are found by e-mail, pupils by an explicit link, anyone else is refused."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from django.contrib.auth.models import User
from pytest_django.live_server_helper import LiveServer

from regie.audit.models import AuditEvent
from regie.roster.models import Staff
from regie.roster.tests.exports import make_board

from ..models import Audience, IdentityProvider, UpstreamIdentity
from . import upstream_op
from .conftest import TEACHER_EMAIL, AtSchool, Visitor, make_provider

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def events(name: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=name).order_by("pk"))


def test_a_teacher_logs_in_through_the_school_and_lands_on_their_groups(
    at_school: AtSchool,
    school_idp: upstream_op.RunningProvider,
    live_server: LiveServer,
    visitor: Visitor,
) -> None:
    provider = make_provider(at_school.board, school_idp, live_server.url)
    school_idp.app.person = {"sub": "medewerker-1", "email": TEACHER_EMAIL.upper()}
    anonymous_session = visitor.login_page().cookies.get("sessionid") or ""

    answer, paths = visitor.follow(visitor.to_provider_and_back(provider))

    assert paths == ["/na-inloggen/", "/school/groepen/"]
    assert answer.status_code == 200
    assert "Mijn groepen" in answer.text
    assert visitor.is_logged_in()
    assert visitor.http.cookies.get("sessionid") != anonymous_session
    teacher = Staff.objects.get(pk=at_school.teacher.pk)
    assert teacher.user is not None  # a login was made and linked: no password, school only
    assert not teacher.user.has_usable_password()
    [event] = events("accounts.login.upstream")
    assert event.actor == f"user:{teacher.user.pk}"
    assert event.details == {
        "provider": provider.pk,
        "kind": "staff",
        "explicit_link": False,
        "login_created": True,
        "staff_records_linked": 1,
    }
    assert TEACHER_EMAIL not in str(event.details) + event.subject + event.actor


def test_the_hub_uses_pkce_state_nonce_and_client_secret_basic(
    at_school: AtSchool,
    school_idp: upstream_op.RunningProvider,
    live_server: LiveServer,
    visitor: Visitor,
) -> None:
    provider = make_provider(at_school.board, school_idp, live_server.url)
    school_idp.app.person = {"sub": "medewerker-1", "email": TEACHER_EMAIL}
    visitor.follow(visitor.to_provider_and_back(provider))
    [request] = school_idp.app.received.authorization_requests
    assert request["response_type"] == "code"
    assert request["scope"] == "openid email profile"
    assert request["code_challenge_method"] == "S256"
    assert len(request["state"]) >= 32
    assert len(request["nonce"]) >= 32
    [token_request] = school_idp.app.received.token_requests
    assert create_s256_code_challenge(token_request["code_verifier"]) == request["code_challenge"]
    assert "client_secret" not in token_request
    assert school_idp.app.received.client_authentication == ["client_secret_basic"]


def test_the_hub_authenticates_with_client_secret_post_when_that_is_what_is_offered(
    at_school: AtSchool, live_server: LiveServer, visitor: Visitor
) -> None:
    with upstream_op.serve(auth_method="client_secret_post") as idp:
        provider = make_provider(at_school.board, idp, live_server.url)
        idp.app.person = {"sub": "medewerker-1", "email": TEACHER_EMAIL}
        _, paths = visitor.follow(visitor.to_provider_and_back(provider))
        assert paths[-1] == "/school/groepen/"
        assert idp.app.received.client_authentication == ["client_secret_post"]


def test_a_known_teacher_logs_in_as_their_own_login(
    at_school: AtSchool,
    school_idp: upstream_op.RunningProvider,
    live_server: LiveServer,
    visitor: Visitor,
) -> None:
    own = User.objects.create_user("k.visser", password="fictief-wachtwoord-123")
    Staff.objects.filter(pk=at_school.teacher.pk).update(user=own)
    provider = make_provider(at_school.board, school_idp, live_server.url)
    school_idp.app.person = {"sub": "medewerker-1", "email": TEACHER_EMAIL}
    visitor.follow(visitor.to_provider_and_back(provider))
    assert visitor.is_logged_in()
    assert User.objects.count() == 2  # the teacher's own and the pupil's: no new one
    [event] = events("accounts.login.upstream")
    assert event.actor == f"user:{own.pk}"


def test_a_pupil_with_a_link_lands_on_their_learning_materials(
    at_school: AtSchool,
    school_idp: upstream_op.RunningProvider,
    live_server: LiveServer,
    visitor: Visitor,
) -> None:
    provider = make_provider(
        at_school.board, school_idp, live_server.url, audience=Audience.PUPILS, subject_claim="sub"
    )
    UpstreamIdentity.objects.create(
        provider=provider, subject="entree-leerling-a", user=at_school.pupil_user
    )
    school_idp.app.person = {"sub": "entree-leerling-a"}

    answer, paths = visitor.follow(visitor.to_provider_and_back(provider))

    assert paths == ["/na-inloggen/", "/leermiddelen/"]
    assert answer.status_code == 200
    [event] = events("accounts.login.upstream")
    assert event.actor == f"user:{at_school.pupil_user.pk}"
    assert event.details["kind"] == "pupil"
    assert "entree-leerling-a" not in str(event.details)


def test_it_goes_on_to_a_safe_next_page_only(
    at_school: AtSchool,
    school_idp: upstream_op.RunningProvider,
    live_server: LiveServer,
    visitor: Visitor,
) -> None:
    provider = make_provider(at_school.board, school_idp, live_server.url)
    school_idp.app.person = {"sub": "medewerker-1", "email": TEACHER_EMAIL}
    _, paths = visitor.follow(visitor.to_provider_and_back(provider, "/school/groepen/"))
    assert paths == ["/school/groepen/"]

    other = Visitor(live_server.url)
    _, paths = other.follow(other.to_provider_and_back(provider, "https://elders.example/"))
    assert paths[0] == "/na-inloggen/"


def test_an_unknown_person_is_refused_audited_and_not_logged_in(
    at_school: AtSchool,
    school_idp: upstream_op.RunningProvider,
    live_server: LiveServer,
    visitor: Visitor,
) -> None:
    provider = make_provider(at_school.board, school_idp, live_server.url)
    school_idp.app.person = {"sub": "medewerker-9", "email": "onbekend@obs-devlieger.example"}

    answer, _ = visitor.follow(visitor.to_provider_and_back(provider))

    assert answer.status_code == 403
    assert "Bekend bij de school, maar niet in regie" in answer.text
    assert "Er is niet ingelogd" in answer.text
    assert "onbekend@obs-devlieger.example" not in answer.text
    assert not visitor.is_logged_in()
    assert User.objects.count() == 1  # the pupil's only: no login made for a stranger
    [event] = events("accounts.login.upstream_refused")
    assert event.details == {"provider": provider.pk, "reason": "unknown_person"}
    assert not events("accounts.login.upstream")


def test_staff_of_another_board_and_inactive_staff_are_unknown(
    at_school: AtSchool,
    school_idp: upstream_op.RunningProvider,
    live_server: LiveServer,
) -> None:
    other_board = make_board("41009", "Stichting Elders (fictief)")
    provider = make_provider(other_board, school_idp, live_server.url)
    school_idp.app.person = {"sub": "medewerker-1", "email": TEACHER_EMAIL}
    visitor = Visitor(live_server.url)
    answer, _ = visitor.follow(visitor.to_provider_and_back(provider))
    assert answer.status_code == 403
    assert not visitor.is_logged_in()

    own_provider = make_provider(at_school.board, school_idp, live_server.url)
    Staff.objects.filter(pk=at_school.teacher.pk).update(is_active=False)
    visitor = Visitor(live_server.url)
    answer, _ = visitor.follow(visitor.to_provider_and_back(own_provider))
    assert answer.status_code == 403
    assert not visitor.is_logged_in()
    reasons = [event.details["reason"] for event in events("accounts.login.upstream_refused")]
    assert reasons == ["unknown_person", "unknown_person"]


def test_a_pupil_without_a_link_is_unknown_and_a_pupils_provider_finds_no_staff(
    at_school: AtSchool,
    school_idp: upstream_op.RunningProvider,
    live_server: LiveServer,
    visitor: Visitor,
) -> None:
    provider = make_provider(at_school.board, school_idp, live_server.url, audience=Audience.PUPILS)
    school_idp.app.person = {"sub": "medewerker-1", "email": TEACHER_EMAIL}
    answer, _ = visitor.follow(visitor.to_provider_and_back(provider))
    assert answer.status_code == 403
    assert not visitor.is_logged_in()
    assert Staff.objects.get(pk=at_school.teacher.pk).user is None


def test_inactive_providers_are_not_shown_and_cannot_be_used(
    at_school: AtSchool,
    school_idp: upstream_op.RunningProvider,
    live_server: LiveServer,
    visitor: Visitor,
) -> None:
    shown = make_provider(at_school.board, school_idp, live_server.url, name="Inloggen met Entree")
    hidden = make_provider(
        at_school.board, school_idp, live_server.url, name="Oude inlogdienst", is_active=False
    )
    school_idp.app.person = {"sub": "medewerker-1", "email": TEACHER_EMAIL}
    page = visitor.login_page().text
    assert "Inloggen met Entree" in page
    assert "Oude inlogdienst" not in page
    assert f"/inloggen/school/{shown.pk}/" in page
    assert f"/inloggen/school/{hidden.pk}/" not in page

    assert visitor.start(hidden).status_code == 404
    back = visitor.to_provider_and_back(shown)
    IdentityProvider.objects.filter(pk=shown.pk).update(is_active=False)
    answer, _ = visitor.follow(back)  # switched off while the visitor was at the provider
    assert answer.status_code == 404
    assert not visitor.is_logged_in()
    assert school_idp.app.received.token_requests == []


def test_the_login_page_shows_one_boards_providers_when_asked(
    at_school: AtSchool,
    school_idp: upstream_op.RunningProvider,
    live_server: LiveServer,
    visitor: Visitor,
) -> None:
    other_board = make_board("41009", "Stichting Elders (fictief)")
    make_provider(at_school.board, school_idp, live_server.url, name="Inloggen met Entree")
    make_provider(other_board, school_idp, live_server.url, name="Inloggen met Microsoft")
    both = visitor.login_page().text
    assert "Inloggen met Entree" in both
    assert "Inloggen met Microsoft" in both
    assert other_board.name in both  # several boards: each button says whose it is
    only = visitor.login_page(f"?bestuur={at_school.board.bestuursnummer}").text
    assert "Inloggen met Entree" in only
    assert "Inloggen met Microsoft" not in only
    assert other_board.name not in only


def test_the_authorization_request_carries_no_personal_data(
    at_school: AtSchool,
    school_idp: upstream_op.RunningProvider,
    live_server: LiveServer,
    visitor: Visitor,
) -> None:
    provider = make_provider(at_school.board, school_idp, live_server.url)
    started = visitor.start(provider)
    query = parse_qs(urlsplit(started.headers["location"]).query)
    assert set(query) == {
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
    }
    assert query["redirect_uri"] == [f"{live_server.url}/inloggen/school/{provider.pk}/terug/"]


def test_an_address_of_two_different_logins_is_refused_as_ambiguous(
    at_school: AtSchool,
    school_idp: upstream_op.RunningProvider,
    live_server: LiveServer,
    visitor: Visitor,
) -> None:
    first = User.objects.create_user("k.visser-1", password="fictief-wachtwoord-123")
    second = User.objects.create_user("k.visser-2", password="fictief-wachtwoord-123")
    Staff.objects.filter(pk=at_school.teacher.pk).update(user=first)
    Staff.objects.create(
        board=at_school.board, achternaam="Visser", email=TEACHER_EMAIL, user=second
    )
    provider = make_provider(at_school.board, school_idp, live_server.url)
    school_idp.app.person = {"sub": "medewerker-1", "email": TEACHER_EMAIL}
    answer, _ = visitor.follow(visitor.to_provider_and_back(provider))
    assert answer.status_code == 403
    assert "meer dan één account" in answer.text
    assert not visitor.is_logged_in()
    [event] = events("accounts.login.upstream_refused")
    assert event.details["reason"] == "ambiguous_person"


def test_a_switched_off_login_is_refused_even_with_a_link(
    at_school: AtSchool,
    school_idp: upstream_op.RunningProvider,
    live_server: LiveServer,
    visitor: Visitor,
) -> None:
    provider = make_provider(
        at_school.board, school_idp, live_server.url, audience=Audience.PUPILS, subject_claim="sub"
    )
    UpstreamIdentity.objects.create(
        provider=provider, subject="entree-leerling-a", user=at_school.pupil_user
    )
    User.objects.filter(pk=at_school.pupil_user.pk).update(is_active=False)
    school_idp.app.person = {"sub": "entree-leerling-a"}
    answer, _ = visitor.follow(visitor.to_provider_and_back(provider))
    assert answer.status_code == 403
    assert "Dit account in regie staat uit" in answer.text
    assert not visitor.is_logged_in()
    [event] = events("accounts.login.upstream_refused")
    assert event.details["reason"] == "inactive_login"


def test_a_privacy_officer_who_logs_in_through_the_school_still_passes_the_second_step(
    at_school: AtSchool,
    school_idp: upstream_op.RunningProvider,
    live_server: LiveServer,
    visitor: Visitor,
) -> None:
    Staff.objects.filter(pk=at_school.teacher.pk).update(roles=["privacy_officer"])
    provider = make_provider(at_school.board, school_idp, live_server.url)
    school_idp.app.person = {"sub": "medewerker-1", "email": TEACHER_EMAIL}

    answer, paths = visitor.follow(visitor.to_provider_and_back(provider))

    assert paths == ["/na-inloggen/", "/inloggen/tweede-stap/instellen/"]
    assert "Tweestapsverificatie instellen" in answer.text
