"""OIDC Back-Channel Logout 1.0: a pupil's logout at the hub, or a lost account, sends each
client with a session a Logout Token (its own pairwise ``sub``, a ``sid``), checked by an
independent verifier (pyoidc's ``BackChannelLogoutRequest``; the hub signs with joserfc)."""

from __future__ import annotations

import base64
import json
import logging
import random
import re

import httpx
import pytest
from django.contrib.auth.models import User
from django.db import transaction
from oic.oic.message import AuthorizationResponse, BackChannelLogoutRequest
from oic.utils.keyio import KeyJar

from regie.accounts.services import create_pupil_login
from regie.agreements.models import Supplier
from regie.agreements.services import Refused
from regie.agreements.tests.register import make_product, make_supplier
from regie.audit.models import AuditEvent
from regie.conftest import free_port
from regie.gateway import backchannel, keys, services
from regie.gateway.jobs import backchannel_logout, end_hub_session
from regie.gateway.models import LogoutSession, OAuthClient, SupplierPseudonym
from regie.jobs.services import queued
from regie.roster.importing.plan import RemovalConsent, apply_export, plan_import
from regie.roster.importing.records import without_student
from regie.roster.models import Student, StudentStatus
from regie.roster.tests.exports import make_board, school_export

from .backchannel_receiver import receiver
from .conftest import Launchable
from .test_oidc_client import REDIRECT, launch, logged_in, relying_party


def register(supplier: Supplier, uri: str, name: str = "Rekenwereld") -> tuple[OAuthClient, str]:
    client, secret = services.register_client(
        supplier,
        name=name,
        product=supplier.products.first(),
        redirect_uris=[REDIRECT],
        auth_method="client_secret_basic",
        backchannel_logout_uri=uri,
    )
    assert secret is not None
    return client, secret


def sign_in(issuer: str, client: OAuthClient, secret: str, session: httpx.Client) -> dict[str, str]:
    """The code flow with pyoidc; the ID token's claims (verified by pyoidc)."""
    rp = relying_party(issuer, client.client_id, secret)
    state, redirected = launch(rp, session)
    authorization = rp.parse_response(
        AuthorizationResponse, info=redirected["query"], sformat="urlencoded"
    )
    tokens = rp.do_access_token_request(
        state=state,
        request_args={
            "code": authorization["code"],
            "redirect_uri": REDIRECT,
            "code_verifier": rp.verifier,  # type: ignore[attr-defined]
        },
        authn_method="client_secret_basic",
    )
    claims: dict[str, str] = tokens["id_token"].to_dict()
    return claims


def log_out_at_the_hub(session: httpx.Client) -> None:
    page = session.get("/leermiddelen/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token is not None, page.text[:300]
    answer = session.post("/uitloggen/", data={"csrfmiddlewaretoken": token[1]})
    assert answer.status_code in {200, 302}, answer.text[:300]
    assert session.get("/leermiddelen/").status_code == 302  # logged out


def verified(token: str, issuer: str, client_id: str) -> dict[str, object]:
    """The Logout Token as pyoidc verifies it: signature (the hub's JWKS), iss, aud, iat,
    events, sub or sid, no nonce."""
    keyjar = KeyJar()
    keyjar.import_jwks(keys.public_jwks(), issuer)
    request = BackChannelLogoutRequest(logout_token=token)
    assert request.verify(keyjar=keyjar, iss=issuer, aud=client_id)
    claims: dict[str, object] = request["logout_token"].to_dict()
    return claims


def header(token: str) -> dict[str, str]:
    encoded = token.split(".")[0]
    decoded: dict[str, str] = json.loads(
        base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    )
    return decoded


def hub_logs(caplog: pytest.LogCaptureFixture) -> str:
    """What the hub logged (not the test's own OIDC client, which logs what it receives)."""
    foreign = ("oic", "jwkest", "urllib3")
    return "\n".join(
        record.getMessage() for record in caplog.records if not record.name.startswith(foreign)
    )


def run_owed_jobs() -> list[int]:
    """Run the job of every session owed a token, as a worker would; their ids."""
    owed = list(LogoutSession.objects.filter(ended_at__isnull=False).values_list("pk", flat=True))
    for pk in owed:
        assert queued(backchannel_logout, {"session": pk}) == 1
        backchannel_logout(session=pk)
    return owed


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_logout_at_the_hub_sends_each_client_its_own_sub_and_sid_verified_independently(
    launchable: Launchable, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    issuer = f"{launchable.base}/oidc"
    discovered = httpx.get(f"{issuer}/.well-known/openid-configuration").json()
    assert discovered["backchannel_logout_supported"] is True
    assert discovered["backchannel_logout_session_supported"] is True
    with receiver() as endpoint:
        rekenwereld, secret = register(launchable.supplier, f"{endpoint.url}/rekenwereld")
        taalrijk, other_secret = register(
            launchable.other_supplier, f"{endpoint.url}/taalrijk", "Taalrijk"
        )
        session = logged_in(launchable.base, launchable.pupil_user.username)
        at_rekenwereld = sign_in(issuer, rekenwereld, secret, session)
        again = sign_in(issuer, rekenwereld, secret, session)  # same session: same sid
        at_taalrijk = sign_in(issuer, taalrijk, other_secret, session)
        assert at_rekenwereld["sid"] == again["sid"] != at_taalrijk["sid"]
        assert LogoutSession.objects.count() == 2
        assert endpoint.posted == []

        log_out_at_the_hub(session)
        assert len(run_owed_jobs()) == 2

        for client, path, id_token in (
            (rekenwereld, "/rekenwereld", at_rekenwereld),
            (taalrijk, "/taalrijk", at_taalrijk),
        ):
            [token] = endpoint.tokens(path)
            claims = verified(token, issuer, client.client_id)
            pseudonym = SupplierPseudonym.objects.get(
                student=launchable.pupil, supplier=client.supplier
            ).value
            assert claims["sub"] == id_token["sub"] == pseudonym  # its own pairwise sub
            assert claims["sid"] == id_token["sid"]
            assert claims["aud"] == [client.client_id]
            assert "nonce" not in claims
            assert int(str(claims["exp"])) - int(str(claims["iat"])) <= 120
            assert header(token)["typ"] == "logout+jwt"
            assert header(token)["alg"] == client.signing_alg
        assert {item.content_type for item in endpoint.posted} == {
            "application/x-www-form-urlencoded"
        }
        tokens = endpoint.tokens("/rekenwereld") + endpoint.tokens("/taalrijk")

    assert not LogoutSession.objects.exists()  # cleared once delivered
    sent = AuditEvent.objects.filter(event_type="gateway.logout.sent")
    assert sorted(event.subject for event in sent) == sorted(
        [f"client:{rekenwereld.pk}", f"client:{taalrijk.pk}"]
    )
    secrets_ = [at_rekenwereld["sub"], at_taalrijk["sub"], at_rekenwereld["sid"], *tokens]
    audited = str([event.details for event in AuditEvent.objects.all()])
    logged = hub_logs(caplog)
    assert "gateway.backchannel_logout.delivered" in logged
    assert not any(value in logged or value in audited for value in secrets_)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_client_that_does_not_answer_is_retried_then_given_up_and_the_other_gets_its_token(
    launchable: Launchable, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with receiver() as endpoint:
        down, _ = register(launchable.supplier, f"http://127.0.0.1:{free_port()}/weg")
        up, _ = register(launchable.other_supplier, f"{endpoint.url}/taalrijk", "Taalrijk")
        user = launchable.pupil_user
        down_sid = backchannel.issued(down, user, "hub-session-1", "sub-at-rekenwereld")
        up_sid = backchannel.issued(up, user, "hub-session-1", "sub-at-taalrijk")
        assert down_sid is not None
        assert up_sid is not None
        down_session = LogoutSession.objects.get(sid=down_sid)
        up_session = LogoutSession.objects.get(sid=up_sid)
        with transaction.atomic():
            assert end_hub_session("hub-session-1") == 2
        assert end_hub_session("hub-session-1") == 0  # owed once

        backchannel_logout(session=up_session.pk)
        assert len(endpoint.tokens("/taalrijk")) == 1
        payload: dict[str, int | str] = {"session": down_session.pk}
        for attempt in range(1, len(backchannel.RETRY_WAITS) + 1):
            backchannel_logout(session=down_session.pk)
            assert queued(backchannel_logout, payload) == 1 + attempt  # tried again later
            assert LogoutSession.objects.get(pk=down_session.pk).attempts == attempt
        backchannel_logout(session=down_session.pk)  # the last attempt: given up
        assert queued(backchannel_logout, payload) == 1 + len(backchannel.RETRY_WAITS)
        backchannel_logout(session=down_session.pk)  # a run too many does nothing
        assert len(endpoint.tokens("/taalrijk")) == 1

    assert not LogoutSession.objects.exists()
    given_up = AuditEvent.objects.get(event_type="gateway.logout.given_up")
    assert given_up.subject == f"client:{down.pk}"
    assert given_up.details["failure"] == "ConnectError"
    assert given_up.details["attempts"] == len(backchannel.RETRY_WAITS) + 1
    logged = hub_logs(caplog)
    assert "gateway.backchannel_logout.given_up" in logged
    for value in ("sub-at-rekenwereld", "sub-at-taalrijk", down_sid, up_sid):
        assert value not in logged


@pytest.mark.django_db
def test_losing_access_ends_every_session_of_the_user_in_the_same_transaction(
    rng: random.Random,
) -> None:
    board = make_board()
    export = school_export(rng, pupils=3)
    assert plan_import(export, board).problems == []
    with transaction.atomic():
        apply_export(export, board, actor="test", pseudonyms={}, consent=RemovalConsent(any=True))
    supplier = make_supplier("Rekenwereld B.V. (fictief)", "99000001")
    make_product(supplier, "Rekenwereld")
    client, _ = register(supplier, "https://rekenwereld.example/backchannel-logout")
    pupils = list(Student.objects.order_by("las_key"))
    users = [
        create_pupil_login(pupil, f"leerling-{number}", "fictief-wachtwoord-123")
        for number, pupil in enumerate(pupils)
    ]

    def owed(user: User) -> set[int]:
        sessions = LogoutSession.objects.filter(user=user, ended_at__isnull=False)
        return {pk for pk in sessions.values_list("pk", flat=True)}

    sessions = {
        user.pk: LogoutSession.objects.get(
            sid=backchannel.issued(client, user, f"hub-{user.pk}", f"sub-{user.pk}")
        )
        for user in users
    }

    # A deactivation rolled back owes nothing; one that commits owes a token.
    def deactivate_then_fail() -> None:
        with transaction.atomic():
            users[0].is_active = False
            users[0].save()
            raise RuntimeError

    with pytest.raises(RuntimeError):
        deactivate_then_fail()
    assert owed(users[0]) == set()
    assert queued(backchannel_logout, {"session": sessions[users[0].pk].pk}) == 0
    users[0].is_active = False
    users[0].save()
    assert owed(users[0]) == {sessions[users[0].pk].pk}

    # Deleted: owed, and the record keeps the sub the token must carry.
    deleted = sessions[users[1].pk]
    users[1].delete()
    kept = LogoutSession.objects.get(pk=deleted.pk)
    assert kept.user is None
    assert kept.ended_at is not None
    assert kept.sub == deleted.sub
    assert queued(backchannel_logout, {"session": kept.pk}) == 1

    # Gone from the roster in an import.
    later = without_student(export, pupils[2].las_key)
    with transaction.atomic():
        apply_export(later, board, actor="test", pseudonyms={}, consent=RemovalConsent(any=True))
    assert Student.objects.get(pk=pupils[2].pk).status == StudentStatus.LEFT
    assert owed(users[2]) == {sessions[users[2].pk].pk}
    assert queued(backchannel_logout, {"session": sessions[users[2].pk].pk}) == 1


@pytest.mark.django_db
def test_a_back_channel_logout_uri_is_checked_like_a_redirect_uri() -> None:
    supplier = make_supplier("Rekenwereld B.V. (fictief)", "99000001")
    for uri in ("http://rekenwereld.example/uit", "https://rekenwereld.example/uit#frag"):
        with pytest.raises(Refused) as refused:
            register(supplier, uri)
        assert refused.value.field == "backchannel_logout_uri"
    client, _ = register(supplier, "")
    assert backchannel.issued(client, None, "hub", "sub") is None  # no URI: nothing kept
    assert not LogoutSession.objects.exists()
    updated = services.update_client(
        client, backchannel_logout_uri="https://rekenwereld.example/uit"
    )
    assert updated.backchannel_logout_uri == "https://rekenwereld.example/uit"
