"""Back-channel logout end to end: a pupil signs in at two demo suppliers (real relying parties on
their own ports), logs out at the hub, and a real ``regie worker`` delivers each supplier a Logout
Token with its own pairwise ``sub``; both suppliers' sessions end. A forged, replayed or
nonce-carrying token is refused by the demo supplier with 400."""

from __future__ import annotations

import re
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from regie.conftest import regie_command, subprocess_env
from regie.demosupplier import server
from regie.demosupplier.suppliers import REKENWERELD, TAALRIJK
from regie.gateway import backchannel, keys
from regie.gateway.models import LogoutSession, OAuthClient
from regie.gateway.tests.conftest import Launchable

from .test_demosupplier import hub_session, launch, pseudonym_of, running, serve

__all__ = ["running"]

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@contextmanager
def worker(nv_keys: Path, oidc_keys: Path, issuer: str, log: Path) -> Iterator[None]:
    """A real ``regie worker --role hub`` on the test database, stopped with SIGTERM."""
    with log.open("wb") as handle:
        process = subprocess.Popen(
            regie_command("worker", "--role", "hub", "--id", "test-backchannel"),
            env=subprocess_env(
                nv_keys, REGIE_OIDC_KEYS_DIR=str(oidc_keys), REGIE_OIDC_ISSUER=issuer
            ),
            stdout=handle,
            stderr=handle,
        )
    try:
        deadline = time.monotonic() + 60
        while "jobs.worker.started" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()
            assert process.poll() is None, log.read_text()
            time.sleep(0.05)
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0, log.read_text()


def log_out_at_the_hub(session: httpx.Client) -> None:
    page = session.get("/leermiddelen/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token is not None, page.text[:300]
    session.post("/uitloggen/", data={"csrfmiddlewaretoken": token[1]})
    assert session.get("/leermiddelen/").status_code == 302  # to the login page


def signed_in(session: httpx.Client, supplier: server.Running) -> bool:
    """Whether the supplier shows this browser what it received (its session holds a sign-in)."""
    answer = session.get(f"{supplier.url}/ontvangen")
    return answer.status_code == 200


def test_a_logout_at_the_hub_ends_the_pupils_sessions_at_both_demo_suppliers(
    launchable: Launchable,
    running: list[server.Running],
    keys_dir: Path,
    oidc_keys_dir: Path,
    tmp_path: Path,
) -> None:
    issuer = f"{launchable.base}/oidc"
    rekenwereld = serve(running, REKENWERELD, launchable, launchable.supplier, launchable.product)
    taalrijk = serve(
        running, TAALRIJK, launchable, launchable.other_supplier, launchable.other_product
    )
    for item in (rekenwereld, taalrijk):  # registered by the demo's own registration
        client = OAuthClient.objects.get(client_id=item.app.parties[""].client_id)
        assert client.backchannel_logout_uri == f"{item.url}/backchannel-logout"
    session = hub_session(launchable.base, launchable.pupil_user.username)
    assert launch(session, rekenwereld, issuer).status_code == 200
    assert launch(session, taalrijk, issuer).status_code == 200
    assert signed_in(session, rekenwereld)
    assert signed_in(session, taalrijk)
    subs = {
        item.client.supplier_id: item.sub for item in LogoutSession.objects.select_related("client")
    }
    assert subs == {
        launchable.supplier.pk: pseudonym_of(launchable.pupil, launchable.supplier),
        launchable.other_supplier.pk: pseudonym_of(launchable.pupil, launchable.other_supplier),
    }

    log_out_at_the_hub(session)
    with worker(keys_dir, oidc_keys_dir, issuer, tmp_path / "worker.log"):
        deadline = time.monotonic() + 60
        while LogoutSession.objects.exists():
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
            time.sleep(0.1)

    assert not signed_in(session, rekenwereld)
    assert not signed_in(session, taalrijk)
    logged = (tmp_path / "worker.log").read_text()
    assert logged.count("gateway.backchannel_logout.delivered") == 2
    assert not any(sub in logged for sub in subs.values())


def post_token(supplier: server.Running, token: str) -> httpx.Response:
    return httpx.post(f"{supplier.url}/backchannel-logout", data={"logout_token": token})


def test_the_demo_supplier_refuses_a_forged_replayed_or_wrong_token_with_400(
    launchable: Launchable, running: list[server.Running]
) -> None:
    issuer = f"{launchable.base}/oidc"
    rekenwereld = serve(running, REKENWERELD, launchable, launchable.supplier, launchable.product)
    session = hub_session(launchable.base, launchable.pupil_user.username)
    assert launch(session, rekenwereld, issuer).status_code == 200
    recorded = LogoutSession.objects.select_related("client").get()
    genuine = backchannel.logout_token(recorded)
    claims = jwt.decode(genuine, keys.signing_key("ES256").key).claims

    hub_key = keys.signing_key("ES256")
    with_nonce = jwt.encode(
        {"alg": "ES256", "kid": hub_key.kid, "typ": "logout+jwt"},
        {**claims, "jti": secrets.token_urlsafe(8), "nonce": "n-0"},
        hub_key.key,
    )
    forger = ECKey.generate_key("P-256", parameters={"kid": hub_key.kid}, private=True)
    forged = jwt.encode(
        {"alg": "ES256", "kid": hub_key.kid, "typ": "logout+jwt"},
        {**claims, "jti": secrets.token_urlsafe(8)},
        forger,
    )
    for bad in ("", "not-a-jwt", forged, with_nonce):
        answer = post_token(rekenwereld, bad)
        assert answer.status_code == 400, bad
        assert answer.json()["error"] == "invalid_request"
        assert answer.headers["cache-control"] == "no-store"
    assert signed_in(session, rekenwereld)  # none of them ended anything

    assert post_token(rekenwereld, genuine).status_code == 200
    assert not signed_in(session, rekenwereld)
    assert post_token(rekenwereld, genuine).status_code == 400  # its jti was seen
