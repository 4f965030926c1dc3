"""A login through the school's identity provider is refused, audited, and logs nobody in when
anything about the provider's answer is wrong: the state, an upstream error, the ID token
(signature, audience, issuer, nonce, expiry), or the provider being down."""

from __future__ import annotations

import pytest
from pytest_django.live_server_helper import LiveServer

from regie.audit.models import AuditEvent
from regie.conftest import free_port

from ..models import IdentityProvider
from . import upstream_op
from .conftest import TEACHER_EMAIL, AtSchool, Visitor, make_provider

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def provider(
    at_school: AtSchool, school_idp: upstream_op.RunningProvider, live_server: LiveServer
) -> IdentityProvider:
    school_idp.app.person = {"sub": "medewerker-1", "email": TEACHER_EMAIL}
    return make_provider(at_school.board, school_idp, live_server.url)


def refusals() -> list[dict[str, object]]:
    return [
        event.details
        for event in AuditEvent.objects.filter(
            event_type="accounts.login.upstream_refused"
        ).order_by("pk")
    ]


def test_it_refuses_an_answer_with_another_state(
    provider: IdentityProvider, visitor: Visitor
) -> None:
    back = visitor.to_provider_and_back(provider)
    forged = back.replace("state=", "state=x")
    answer, _ = visitor.follow(forged)
    assert answer.status_code == 400
    assert "Deze inlogpoging is verlopen" in answer.text
    assert not visitor.is_logged_in()
    assert refusals() == [{"provider": provider.pk, "reason": "state_mismatch"}]


def test_it_refuses_an_answer_in_another_visitors_session(
    provider: IdentityProvider, visitor: Visitor, live_server: LiveServer
) -> None:
    back = visitor.to_provider_and_back(provider)
    attacker = Visitor(live_server.url)  # login CSRF: someone else's answer in my browser
    answer, _ = attacker.follow(back)
    assert answer.status_code == 400
    assert not attacker.is_logged_in()
    assert refusals() == [{"provider": provider.pk, "reason": "state_mismatch"}]


def test_a_state_is_used_once(
    provider: IdentityProvider, school_idp: upstream_op.RunningProvider, visitor: Visitor
) -> None:
    back = visitor.to_provider_and_back(provider)
    visitor.follow(back)
    assert visitor.is_logged_in()
    answer, _ = visitor.follow(back)  # the same answer again, in the same session
    assert answer.status_code == 400
    assert refusals() == [{"provider": provider.pk, "reason": "state_mismatch"}]
    assert len(school_idp.app.received.token_requests) == 1  # the code was not even tried


def test_it_refuses_an_answer_for_another_provider(
    provider: IdentityProvider,
    at_school: AtSchool,
    school_idp: upstream_op.RunningProvider,
    live_server: LiveServer,
    visitor: Visitor,
) -> None:
    other = make_provider(at_school.board, school_idp, live_server.url, name="Microsoft")
    back = visitor.to_provider_and_back(provider)
    elsewhere = back.replace(f"/school/{provider.pk}/", f"/school/{other.pk}/")
    answer, _ = visitor.follow(elsewhere)
    assert answer.status_code == 400
    assert not visitor.is_logged_in()
    assert refusals() == [{"provider": other.pk, "reason": "state_mismatch"}]


def test_it_refuses_an_error_from_the_provider(
    provider: IdentityProvider, school_idp: upstream_op.RunningProvider, visitor: Visitor
) -> None:
    school_idp.app.misbehaviour.error = "access_denied"
    answer, _ = visitor.follow(visitor.to_provider_and_back(provider))
    assert answer.status_code == 403
    assert "Inloggen bij de school is niet gelukt" in answer.text
    assert not visitor.is_logged_in()
    assert refusals() == [
        {"provider": provider.pk, "reason": "upstream_error", "error": "access_denied"}
    ]
    assert school_idp.app.received.token_requests == []


def test_an_unknown_error_code_is_not_repeated_in_the_audit_log(
    provider: IdentityProvider, school_idp: upstream_op.RunningProvider, visitor: Visitor
) -> None:
    school_idp.app.misbehaviour.error = "k.visser@obs-devlieger.example"
    answer, _ = visitor.follow(visitor.to_provider_and_back(provider))
    assert answer.status_code == 403
    assert refusals() == [{"provider": provider.pk, "reason": "upstream_error", "error": "other"}]


@pytest.mark.parametrize(
    ("misbehaviour", "check"),
    [
        ({"tamper": True}, "signature"),
        ({"foreign_key": True}, "signature"),
        ({"audience": "een-andere-client"}, "aud"),
        ({"issuer": "https://nep-idp.example"}, "iss"),
        ({"nonce": "een-andere-nonce"}, "nonce"),
        ({"expired": True}, "exp"),
    ],
)
def test_it_refuses_an_id_token_that_fails_a_check(
    provider: IdentityProvider,
    school_idp: upstream_op.RunningProvider,
    visitor: Visitor,
    misbehaviour: dict[str, object],
    check: str,
) -> None:
    for name, value in misbehaviour.items():
        setattr(school_idp.app.misbehaviour, name, value)
    answer, _ = visitor.follow(visitor.to_provider_and_back(provider))
    assert answer.status_code == 502
    assert "De school kon niet bevestigen wie er inlogt" in answer.text
    assert not visitor.is_logged_in()
    assert refusals() == [{"provider": provider.pk, "reason": "invalid_id_token", "check": check}]


def test_it_refuses_when_the_provider_is_down(
    at_school: AtSchool, live_server: LiveServer, visitor: Visitor
) -> None:
    with upstream_op.serve() as idp:
        provider = make_provider(at_school.board, idp, live_server.url)
    IdentityProvider.objects.filter(pk=provider.pk).update(issuer=f"http://127.0.0.1:{free_port()}")
    answer = visitor.start(provider)
    assert answer.status_code == 502
    assert "is nu niet bereikbaar" in answer.text
    assert not visitor.is_logged_in()
    assert refusals() == [{"provider": provider.pk, "reason": "upstream_unavailable"}]


def test_it_refuses_when_the_provider_goes_down_during_the_login(
    at_school: AtSchool, live_server: LiveServer, visitor: Visitor
) -> None:
    with upstream_op.serve() as idp:
        idp.app.person = {"sub": "medewerker-1", "email": TEACHER_EMAIL}
        provider = make_provider(at_school.board, idp, live_server.url)
        back = visitor.to_provider_and_back(provider)
    answer, _ = visitor.follow(back)
    assert answer.status_code == 502
    assert not visitor.is_logged_in()
    assert refusals() == [{"provider": provider.pk, "reason": "upstream_unavailable"}]


def test_it_refuses_a_discovery_document_of_another_issuer(
    provider: IdentityProvider, school_idp: upstream_op.RunningProvider, visitor: Visitor
) -> None:
    IdentityProvider.objects.filter(pk=provider.pk).update(issuer=school_idp.url + "/")
    answer = visitor.start(provider)
    assert answer.status_code == 502
    assert not visitor.is_logged_in()
    assert refusals() == [{"provider": provider.pk, "reason": "invalid_metadata"}]


def test_it_refuses_a_code_the_provider_does_not_accept(
    provider: IdentityProvider, visitor: Visitor
) -> None:
    back = visitor.to_provider_and_back(provider)
    answer, _ = visitor.follow(back.replace("code=", "code=x"))
    assert answer.status_code == 502
    assert not visitor.is_logged_in()
    assert refusals() == [
        {"provider": provider.pk, "reason": "token_refused", "error": "invalid_grant"}
    ]


def test_it_refuses_an_id_token_without_the_identifying_claim(
    provider: IdentityProvider, school_idp: upstream_op.RunningProvider, visitor: Visitor
) -> None:
    school_idp.app.person = {"sub": "medewerker-1"}
    answer, _ = visitor.follow(visitor.to_provider_and_back(provider))
    assert answer.status_code == 403
    assert not visitor.is_logged_in()
    assert refusals() == [{"provider": provider.pk, "reason": "missing_claim", "claim": "email"}]


def test_it_refuses_an_address_the_provider_says_is_unverified(
    provider: IdentityProvider, school_idp: upstream_op.RunningProvider, visitor: Visitor
) -> None:
    school_idp.app.person = {"sub": "medewerker-1", "email": TEACHER_EMAIL, "email_verified": False}
    answer, _ = visitor.follow(visitor.to_provider_and_back(provider))
    assert answer.status_code == 403
    assert not visitor.is_logged_in()
    assert refusals() == [{"provider": provider.pk, "reason": "email_unverified"}]
