"""The accounts' front door: which pupil a login belongs to, and logins through the school's own
identity provider (an upstream OpenID Connect provider per board, :mod:`.oidc`).

Who someone is, after their identity provider vouched for them (:func:`person_for`):

1. an explicit link (:class:`.models.UpstreamIdentity`) from the value of the provider's
   identifying claim to a login, made by the school's administrator — how pupils are found,
   because the school's administration system gives the hub no address of theirs;
2. for a provider that is for staff: an active member of staff of the provider's board whose
   e-mail address (case-insensitive) is that value. A member of staff without a login yet gets
   one (no password: they log in through their school only).

Anyone else is refused, audited, and nobody is logged in. Claim values are never logged or
audited: only the provider, the kind of person and a reason code.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.auth.models import User as AuthUser
from django.db import transaction

from regie.audit.services import ANONYMOUS, actor_for, record
from regie.roster.models import Staff, Student

from . import events, oidc, sealing
from .models import (
    GuardianAccount,
    IdentityProvider,
    PupilAccount,
    UpstreamIdentity,
    belongs_to_board,
    is_pupil_of,
)

# OAuth 2.0 (RFC 6749 §4.1.2.1) and OIDC Core (§3.1.2.6) error codes: an upstream error is
# audited by its code only when it is one of these (the rest of the URL is not the hub's).
UPSTREAM_ERROR_CODES = frozenset(
    {
        "access_denied",
        "invalid_request",
        "unauthorized_client",
        "unsupported_response_type",
        "invalid_scope",
        "server_error",
        "temporarily_unavailable",
        "interaction_required",
        "login_required",
        "account_selection_required",
        "consent_required",
        "invalid_request_uri",
        "invalid_request_object",
        "request_not_supported",
        "request_uri_not_supported",
        "registration_not_supported",
    }
)


def student_for(user: AbstractBaseUser | AnonymousUser) -> Student | None:
    """The active enrolment a logged-in pupil acts as, or None for anyone else."""
    if not user.is_authenticated:
        return None
    if getattr(user, FRESH_ACCOUNT, False) and PUPIL_ACCOUNT.is_cached(user):
        cached = PUPIL_ACCOUNT.get_cached_value(user)  # None: the user is no pupil
        if isinstance(cached, PupilAccount) and cached.student.status == "active":
            return cached.student
        return None
    account = (
        PupilAccount.objects.filter(user_id=user.pk, student__status="active")
        .select_related("student__school")
        .first()
    )
    return account.student if account else None


PUPIL_ACCOUNT = PupilAccount.user.field.remote_field
PUPIL_ACCOUNT_PATH = "pupil_account__student__school"
"""What :func:`student_for` needs, for ``select_related`` from a user (``user__`` + this)."""
FRESH_ACCOUNT = "_regie_pupil_account_read"


def read_with_account(user: Any) -> Any:
    """Tell :func:`student_for` that ``user`` was just read from the database with
    ``select_related(PUPIL_ACCOUNT_PATH)``, so that it asks no query of its own. Only then: a user
    object kept longer may hold an account read before the pupil left."""
    if user is not None:
        setattr(user, FRESH_ACCOUNT, True)
    return user


def create_pupil_login(student: Student, username: str, password: str) -> AuthUser:
    """A local login for a pupil (embedded default and demo)."""
    user = AuthUser.objects.create_user(username=username, password=password)
    PupilAccount.objects.create(user=user, student=student)
    return user


# --- Logins through the school's identity provider ------------------------------------------------


class UpstreamLoginRefused(Exception):
    """A login through an identity provider was refused (and audited); nobody is logged in.

    ``reason`` is a stable code; ``details`` hold further codes (a check, an error code), never
    a claim value.
    """

    def __init__(self, reason: str, **details: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


def usable_providers(bestuursnummer: str | None = None) -> list[IdentityProvider]:
    """The identity providers to offer on the login page (of one board, when it is given)."""
    providers = IdentityProvider.objects.usable().select_related("board")
    if bestuursnummer:
        providers = providers.filter(board__bestuursnummer=bestuursnummer)
    return list(providers.order_by("board__name", "name", "pk"))


def upstream_login_destinations() -> list[str]:
    """Where a login through a school's identity provider sends the browser: each usable
    provider's issuer and, once its metadata is known, its authorization endpoint (for the
    Content-Security-Policy's form-action; one query, nothing fetched)."""
    destinations = []
    for issuer in IdentityProvider.objects.usable().values_list("issuer", flat=True):
        destinations.append(issuer)
        endpoint = oidc.known_authorization_endpoint(issuer)
        if endpoint is not None:
            destinations.append(endpoint)
    return destinations


def refuse(provider: IdentityProvider, reason: str, **details: str) -> UpstreamLoginRefused:
    """Audit a refused login and return the exception to raise."""
    record(
        events.UPSTREAM_REFUSED,
        ANONYMOUS,
        f"identity-provider:{provider.pk}",
        {"provider": provider.pk, "reason": reason, **details},
    )
    return UpstreamLoginRefused(reason, **details)


def _client(provider: IdentityProvider, redirect_uri: str) -> oidc.Client:
    try:
        secret = provider.client_secret()
    except sealing.Unsealable:
        raise refuse(provider, "misconfigured", check="client_secret") from None
    return oidc.Client(
        issuer=provider.issuer,
        client_id=provider.client_id,
        client_secret=secret,
        scopes=provider.scopes,
        redirect_uri=redirect_uri,
    )


def _refusal(provider: IdentityProvider, error: oidc.RelyingPartyError) -> UpstreamLoginRefused:
    if isinstance(error, oidc.InvalidIdToken):
        return refuse(provider, error.reason, check=error.check)
    if isinstance(error, oidc.TokenRefused):
        code = error.error if error.error in UPSTREAM_ERROR_CODES | {"invalid_grant"} else "other"
        return refuse(provider, error.reason, error=code)
    return refuse(provider, error.reason)


def start_upstream_login(provider: IdentityProvider, redirect_uri: str) -> tuple[str, oidc.Pending]:
    """Where to send the visitor to log in at ``provider``, and what to keep in their session."""
    client = _client(provider, redirect_uri)
    try:
        metadata = oidc.discover(provider.issuer)
    except oidc.RelyingPartyError as error:
        raise _refusal(provider, error) from None
    pending = oidc.Pending.new()
    return oidc.authorization_url(client, metadata, pending), pending


def finish_upstream_login(
    provider: IdentityProvider,
    pending: oidc.Pending | None,
    params: Mapping[str, str],
    redirect_uri: str,
) -> AuthUser:
    """The login the provider's answer (the callback's query ``params``) belongs to.

    ``pending`` is what :func:`start_upstream_login` gave for the ``state`` the answer carries
    (None when the visitor's session holds no such login): a missing or other state is refused
    before anything else is looked at (RFC 6749 §10.12).
    """
    state = params.get("state", "")
    if pending is None or not hmac.compare_digest(state.encode(), pending.state.encode()):
        raise refuse(provider, "state_mismatch")
    if "error" in params:
        error = params["error"]
        raise refuse(
            provider, "upstream_error", error=error if error in UPSTREAM_ERROR_CODES else "other"
        )
    code = params.get("code", "")
    if not code:
        raise refuse(provider, "missing_code")
    client = _client(provider, redirect_uri)
    try:
        metadata = oidc.discover(provider.issuer)
        id_token = oidc.exchange_code(client, metadata, pending, code)
        claims = oidc.validate_id_token(client, metadata, id_token, pending.nonce)
    except oidc.RelyingPartyError as error:
        raise _refusal(provider, error) from None
    return person_for(provider, claims)


def person_for(provider: IdentityProvider, claims: Mapping[str, Any]) -> AuthUser:
    """The login of the person the validated ID token's ``claims`` are about (audited)."""
    try:
        with transaction.atomic():
            user, details = _person(provider, claims)
            record(events.UPSTREAM_LOGIN, actor_for(user), f"user:{user.pk}", details)
    except UpstreamLoginRefused as refused:  # audited outside the rolled-back transaction
        raise refuse(provider, refused.reason, **refused.details) from None
    return user


def _person(
    provider: IdentityProvider, claims: Mapping[str, Any]
) -> tuple[AuthUser, dict[str, Any]]:
    value = claims.get(provider.subject_claim)
    if not isinstance(value, str) or not value.strip():
        raise UpstreamLoginRefused("missing_claim", claim=provider.subject_claim)
    if provider.subject_claim == "email" and claims.get("email_verified") is False:
        raise UpstreamLoginRefused("email_unverified")
    subject = provider.normalised(value)
    created, linked = False, 0
    link = (
        UpstreamIdentity.objects.filter(provider=provider, subject=subject)
        .select_related("user")
        .first()
    )
    user: AuthUser | None
    if link is not None:
        user = link.user
        if not belongs_to_board(provider, user.pk):
            raise UpstreamLoginRefused("link_outside_board")
    elif provider.for_staff:
        user, created, linked = _staff_login(provider, subject)
    elif provider.for_guardians:
        user = _guardian_login(provider, subject)
    else:
        user = None
    if user is None:
        raise UpstreamLoginRefused("unknown_person")
    if not user.is_active:
        raise UpstreamLoginRefused("inactive_login")
    kind = "pupil" if provider.for_pupils and is_pupil_of(provider.board, user.pk) else "staff"
    if provider.for_guardians:
        kind = "guardian"
    return user, {
        "provider": provider.pk,
        "kind": kind,
        "explicit_link": link is not None,
        "login_created": created,
        "staff_records_linked": linked,
    }


def _staff_login(provider: IdentityProvider, email: str) -> tuple[AuthUser | None, bool, int]:
    """The login of the board's active member of staff with address ``email``: (login, created,
    staff records newly linked to it). A person with several records (one per school) is one
    login; records that point at different logins are refused as ambiguous."""
    members = list(
        Staff.objects.select_for_update().filter(
            board=provider.board, is_active=True, email__iexact=email
        )
    )
    if not members or "@" not in email:
        return None, False, 0
    user_ids = {member.user_id for member in members if member.user_id is not None}
    if len(user_ids) > 1:
        raise UpstreamLoginRefused("ambiguous_person")
    created = not user_ids
    user = AuthUser.objects.get(pk=user_ids.pop()) if user_ids else _new_staff_login(email)
    unlinked = [member.pk for member in members if member.user_id is None]
    Staff.objects.filter(pk__in=unlinked).update(user=user)
    return user, created, len(unlinked)


def _guardian_login(provider: IdentityProvider, email: str) -> AuthUser | None:
    """The portal login of a guardian of the board with address ``email`` (made by accepting an
    invitation: an identity provider finds logins, it makes none), when the provider names people
    by their e-mail address."""
    if provider.subject_claim != "email":
        return None
    account = (
        GuardianAccount.objects.filter(board=provider.board, email=email.lower())
        .select_related("user")
        .first()
    )
    return account.user if account is not None else None


def _new_staff_login(email: str) -> AuthUser:
    """A login without a password (its owner logs in through the school's identity provider)."""
    username = email.lower()
    if len(username) > 150 or AuthUser.objects.filter(username=username).exists():
        username = f"medewerker-{secrets.token_hex(6)}"
    user = AuthUser(username=username)
    user.set_unusable_password()
    user.save()
    return user
