"""OpenID Connect Back-Channel Logout 1.0: telling each supplier with a session that it ended.

- §2.1, §2.2: a client registers a ``backchannel_logout_uri`` (and may ask for ``sid``); the
  provider advertises ``backchannel_logout_supported`` and ``backchannel_logout_session_supported``.
- §2.1: every ID token to such a client carries a ``sid``, random per (hub login session, client)
  (:func:`issued`), never derived from the pupil: two suppliers cannot match their sessions.
  The hub login session has a random id of its own in the Django session (:func:`hub_session`).
- §2.4: the Logout Token (:func:`logout_token`): ``iss``, ``aud`` (the client), ``iat``, a short
  ``exp``, ``jti``, the ``sub`` that client received (its pairwise value), the ``sid``, the
  back-channel logout event, never a ``nonce``; header ``typ: logout+jwt``; signed with the
  provider's key for the client's ID-token algorithm.
- §2.5: POSTed as ``application/x-www-form-urlencoded`` ``logout_token=…`` to the client's URI,
  redirects not followed, 10 s timeout; 200 or 204 is delivered (:func:`deliver`). Anything else
  is retried with back-off (:data:`RETRY_WAITS`), then given up and logged (no values).

Which sessions end is decided by the triggers (:mod:`.receivers`): a logout at the hub ends the
hub login session; a pupil's account deactivated or deleted, or the pupil gone from the roster,
ends every session of that user. Each owed token is one job (``gateway.backchannel_logout``).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import httpx
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from joserfc import jwt

from regie.audit.services import SYSTEM, record
from regie.lib.logging import get_logger

from . import events, keys
from .models import LogoutSession, OAuthClient

logger = get_logger(__name__)

EVENT = "http://schemas.openid.net/event/backchannel-logout"
TOKEN_TYPE = "logout+jwt"  # noqa: S105 (a media type, not a secret)
TOKEN_TTL_SECONDS = 120  # §2.4: "short"; the RP checks it against its own clock
TIMEOUT_SECONDS = 10.0
# Seconds to wait before each retry of an undelivered token; after the last, it is given up.
RETRY_WAITS = (10, 60, 300, 1800, 7200)
# A session nobody ended is forgotten after this: the supplier's own session is long over.
KEEP_SECONDS = 30 * 24 * 3600

HUB_SESSION = "gateway.hub_session"  # Django session: the hub login session's random id


def new_hub_session(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """``user_logged_in``: a login starts a new hub login session (a new random id)."""
    if request is not None and hasattr(request, "session"):
        request.session[HUB_SESSION] = secrets.token_urlsafe(24)


def hub_session(request: HttpRequest) -> str:
    """The random id of the logged-in user's hub login session (made now if it has none)."""
    value = request.session.get(HUB_SESSION)
    if not isinstance(value, str) or not value:
        value = secrets.token_urlsafe(24)
        request.session[HUB_SESSION] = value
    return value


def issued(client: OAuthClient, user: Any, hub_session: str, sub: str) -> str | None:
    """Note that ``client`` receives an ID token for ``user`` in ``hub_session``; the ``sid``
    to put in it (the same for every token of that session and client), or None for a client
    without a back-channel logout URI (nothing is kept)."""
    if not client.backchannel_logout_uri:
        return None
    hub_session = hub_session or secrets.token_urlsafe(24)  # a code from before this existed
    found = LogoutSession.objects.filter(hub_session=hub_session, client=client).first()
    if found is not None:
        return found.sid
    try:
        with transaction.atomic():
            made = LogoutSession.objects.create(
                hub_session=hub_session,
                client=client,
                user=user,
                sid=secrets.token_urlsafe(24),
                sub=sub,
            )
    except IntegrityError:  # a concurrent exchange in the same session made it meanwhile
        return LogoutSession.objects.get(hub_session=hub_session, client=client).sid
    return made.sid


def end(sessions: QuerySet[LogoutSession]) -> list[int]:
    """Mark the live sessions among ``sessions`` ended (a logout token is owed for each); their
    ids. A session ended already is not returned again, so a token is owed once."""
    now = time.time()
    ended = []
    for pk in sessions.filter(ended_at__isnull=True).values_list("pk", flat=True):
        if LogoutSession.objects.filter(pk=pk, ended_at__isnull=True).update(ended_at=now):
            ended.append(pk)
    return ended


def logout_token(session: LogoutSession) -> str:
    """The Logout Token for ``session`` (§2.4), signed like the client's ID tokens."""
    client = session.client
    signing = keys.signing_key(client.signing_alg)
    now = int(time.time())
    claims = {
        "iss": settings.OIDC_ISSUER,
        "aud": client.client_id,
        "iat": now,
        "exp": now + TOKEN_TTL_SECONDS,
        "jti": secrets.token_urlsafe(24),
        "sub": session.sub,
        "sid": session.sid,
        "events": {EVENT: {}},
    }
    header = {"alg": client.signing_alg, "kid": signing.kid, "typ": TOKEN_TYPE}
    return jwt.encode(header, claims, signing.key, [client.signing_alg])


def post(uri: str, token: str) -> str:
    """POST the token (§2.5); "" when delivered (200, 204), else why not (no values)."""
    try:
        response = httpx.post(
            uri,
            data={"logout_token": token},
            timeout=TIMEOUT_SECONDS,
            follow_redirects=False,
        )
    except httpx.HTTPError as error:
        return type(error).__name__
    return "" if response.status_code in (200, 204) else f"HTTP {response.status_code}"


def deliver(session_id: int) -> int | None:
    """Send the logout token owed for session ``session_id``. Returns the seconds to wait before
    trying again, or None when there is nothing more to do (delivered, given up, or nothing
    owed: safe to run twice)."""
    session = (
        LogoutSession.objects.select_related("client")
        .filter(pk=session_id, ended_at__isnull=False)
        .first()
    )
    if session is None:
        return None
    client = session.client
    if not (client.is_active and client.backchannel_logout_uri):
        session.delete()
        return None
    failure = post(client.backchannel_logout_uri, logout_token(session))
    attempts = session.attempts + 1
    details = {"client": client.pk, "session": session.pk, "attempts": attempts}
    if not failure:
        session.delete()
        logger.info("gateway.backchannel_logout.delivered", **details)
        record(events.LOGOUT_SENT, SYSTEM, f"client:{client.pk}", details)
        return None
    if attempts > len(RETRY_WAITS):
        session.delete()
        logger.warning("gateway.backchannel_logout.given_up", failure=failure, **details)
        record(
            events.LOGOUT_GIVEN_UP, SYSTEM, f"client:{client.pk}", {**details, "failure": failure}
        )
        return None
    if not LogoutSession.objects.filter(pk=session.pk, attempts=session.attempts).update(
        attempts=attempts
    ):
        return None  # another run of this job counted this attempt and schedules the next
    logger.warning("gateway.backchannel_logout.failed", failure=failure, **details)
    return RETRY_WAITS[attempts - 1]


def forget_stale(now: float | None = None) -> int:
    """Forget sessions nobody ended within :data:`KEEP_SECONDS`; how many."""
    now = time.time() if now is None else now
    deleted, _ = LogoutSession.objects.filter(
        ended_at__isnull=True, created_at__lt=now - KEEP_SECONDS
    ).delete()
    return deleted
