"""What suppliers are given to reach the hub, and what the hub issued to them.

- :class:`OAuthClient` — a supplier's registered client (from the register's suppliers): redirect
  URIs, how it authenticates (``private_key_jwt`` with its public JWKS, or a secret stored hashed),
  allowed scopes, the ID-token signing algorithm, and the product it launches.
- :class:`AuthorizationCode` and :class:`AccessToken` — stored as SHA-256 hashes only: a leaked
  database does not hand out working codes or tokens.
- :class:`LogoutSession` — per hub login session, the clients that received an ID token there,
  with the ``sid`` and ``sub`` they got: whom a back-channel logout token goes to
  (:mod:`.backchannel`).
- :class:`SupplierPseudonym` — the pupil's pseudonym for one supplier, obtained from the number
  service once and kept, so that results posted by pseudonym can be matched back at the hub.
- :class:`ReleasedRecord` — per client and OneRoster record, a keyed fingerprint of what the
  client was last given and the day that last changed: its ``dateLastModified``
  (:mod:`.oneroster.changes`).

The methods named ``get_*`` / ``check_*`` are the interface Authlib's OAuth 2.0 server expects
(``ClientMixin``, ``AuthorizationCodeMixin``, ``TokenMixin``).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from regie.agreements.models import Product, Supplier
from regie.core import datacategories as dc
from regie.roster.models import Group, Student

from .scopes import LEGACY


def digest(value: str) -> str:
    """How codes, tokens and client secrets are stored: their SHA-256, hex.

    Each is 256 random bits issued by the hub, so a fast hash suffices (nothing to brute-force,
    unlike a password) and the token endpoint does not spend a PBKDF2 run on every request.
    """
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class AuthMethod(models.TextChoices):
    PRIVATE_KEY_JWT = "private_key_jwt", _("private_key_jwt (JWKS van de leverancier)")
    CLIENT_SECRET_BASIC = "client_secret_basic", _("client_secret_basic (geheim, gehasht bewaard)")
    CLIENT_SECRET_POST = "client_secret_post", _("client_secret_post (geheim, gehasht bewaard)")


class SigningAlg(models.TextChoices):
    ES256 = "ES256", "ES256"
    RS256 = "RS256", _("RS256 (ongeveer 10× trager te ondertekenen)")


class OAuthClient(models.Model):
    PERSONAL_DATA: ClassVar[bool] = False

    supplier = models.ForeignKey(
        Supplier, on_delete=models.PROTECT, related_name="clients", verbose_name=_("leverancier")
    )
    product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="clients",
        verbose_name=_("product"),
        help_text=_("Het leermiddel waarin leerlingen met deze client inloggen."),
    )
    name = models.CharField(_("naam"), max_length=200)
    client_id = models.CharField(_("client_id"), max_length=100, unique=True)
    secret_hash = models.CharField(_("geheim (gehasht)"), max_length=200, blank=True)
    auth_method = models.CharField(
        _("authenticatie"),
        max_length=30,
        choices=AuthMethod.choices,
        default=AuthMethod.PRIVATE_KEY_JWT,
    )
    jwks = models.JSONField(_("JWKS (publieke sleutels)"), default=dict, blank=True)
    initiate_login_uri = models.URLField(
        _("URI om inloggen te starten"),
        blank=True,
        help_text=_(
            "Waar een tegel in 'Mijn leermiddelen' heen gaat: de leverancier start daar het "
            "inloggen (OIDC Core §4, door derden gestart inloggen)."
        ),
    )
    redirect_uris = models.JSONField(_("redirect-URI's"), default=list, blank=True)
    post_logout_redirect_uris = models.JSONField(
        _("redirect-URI's na uitloggen"), default=list, blank=True
    )
    backchannel_logout_uri = models.URLField(
        _("URI voor uitloggen via het achterkanaal"),
        blank=True,
        help_text=_(
            "Waar regie een logout-token heen stuurt als een leerling uitlogt of geen toegang "
            "meer heeft (OIDC Back-Channel Logout 1.0)."
        ),
    )
    backchannel_logout_session_required = models.BooleanField(
        _("sid vereist in het logout-token"), default=False
    )
    scopes = models.JSONField(_("toegestane scopes"), default=list, blank=True)
    signing_alg = models.CharField(
        _("ondertekening ID-token"), max_length=5, choices=SigningAlg.choices, default="ES256"
    )
    is_active = models.BooleanField(_("actief"), default=True)
    created_at = models.DateTimeField(_("aangemaakt"), auto_now_add=True)

    class Meta:
        verbose_name = _("OAuth-client")
        verbose_name_plural = _("OAuth-clients")
        ordering = ("supplier__name", "name")

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"

    # --- Authlib's ClientMixin -------------------------------------------------------------------

    @property
    def client_metadata(self) -> dict[str, Any]:
        return {
            "post_logout_redirect_uris": list(self.post_logout_redirect_uris),
            "backchannel_logout_uri": self.backchannel_logout_uri or None,
            "backchannel_logout_session_required": self.backchannel_logout_session_required,
        }

    @property
    def id_token_signed_response_alg(self) -> str:
        return self.signing_alg

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        uris: list[str] = self.redirect_uris
        return uris[0] if len(uris) == 1 else None

    def get_allowed_scope(self, scope: str) -> str:
        if not scope:
            return ""
        allowed = set(self.scopes)
        return " ".join(item for item in scope.split() if item in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris  # exact match, no patterns

    def check_client_secret(self, client_secret: str) -> bool:
        if not self.secret_hash or not isinstance(client_secret, str):
            return False
        return hmac.compare_digest(digest(client_secret), self.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return self.is_active and method == self.auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"  # no implicit or hybrid flow

    def check_grant_type(self, grant_type: str) -> bool:
        if grant_type == "authorization_code":
            return "openid" in self.scopes
        if grant_type == "client_credentials":
            return any(
                scope.startswith("https://purl.imsglobal.org/") or scope == LEGACY.name
                for scope in self.scopes
            )
        return False


class AuthorizationCode(models.Model):
    PERSONAL_DATA: ClassVar[bool] = True
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "code_hash": dc.NOT_PERSONAL,
        "client": dc.NOT_PERSONAL,
        "user": dc.USERNAME,
        "redirect_uri": dc.NOT_PERSONAL,
        "scope": dc.NOT_PERSONAL,
        "nonce": dc.NOT_PERSONAL,
        "code_challenge": dc.NOT_PERSONAL,
        "code_challenge_method": dc.NOT_PERSONAL,
        "auth_time": dc.NOT_PERSONAL,
        "hub_session": dc.NOT_PERSONAL,
        "created_at": dc.NOT_PERSONAL,
        "used_at": dc.NOT_PERSONAL,
        "replayed_at": dc.NOT_PERSONAL,
    }

    code_hash = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(OAuthClient, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    redirect_uri = models.TextField()
    scope = models.TextField(blank=True)
    nonce = models.CharField(max_length=255, blank=True)
    code_challenge = models.CharField(max_length=128)
    code_challenge_method = models.CharField(max_length=10, default="S256")
    # Only when the authorization request carried max_age (regie.gateway.oidc.authentication).
    auth_time = models.BigIntegerField(null=True, blank=True)
    # The hub login session the code was issued in (a random id kept in that session): the
    # client's back-channel logout session (LogoutSession) is recorded under it.
    hub_session = models.CharField(max_length=64, blank=True)
    created_at = models.FloatField(default=time.time)
    used_at = models.FloatField(null=True, blank=True)
    # When a second exchange of the code was refused: a token issued for it is revoked at once,
    # also one whose exchange was under way at that moment.
    replayed_at = models.FloatField(null=True, blank=True)

    class Meta:
        # Every authorization request asks whether the client used its nonce before: a lookup,
        # not a scan of all the client's codes (they are kept).
        indexes = [models.Index(fields=("client", "nonce"), name="code_client_nonce")]

    def __str__(self) -> str:
        return f"code for {self.client_id}"

    def is_expired(self) -> bool:
        return time.time() > self.created_at + settings.OIDC_CODE_TTL_SECONDS

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce or None

    def get_auth_time(self) -> int | None:
        return self.auth_time

    def get_acr(self) -> str | None:
        return None

    def get_amr(self) -> list[str] | None:
        return None


class AccessToken(models.Model):
    PERSONAL_DATA: ClassVar[bool] = True
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "token_hash": dc.NOT_PERSONAL,
        "client": dc.NOT_PERSONAL,
        "user": dc.USERNAME,
        "code": dc.NOT_PERSONAL,
        "scope": dc.NOT_PERSONAL,
        "issued_at": dc.NOT_PERSONAL,
        "expires_in": dc.NOT_PERSONAL,
        "revoked": dc.NOT_PERSONAL,
    }

    token_hash = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(OAuthClient, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, related_name="+"
    )
    code = models.ForeignKey(
        AuthorizationCode, on_delete=models.SET_NULL, null=True, related_name="tokens"
    )
    scope = models.TextField(blank=True)
    issued_at = models.FloatField(default=time.time)
    expires_in = models.IntegerField()
    revoked = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"token for {self.client_id}"

    def check_client(self, client: OAuthClient) -> bool:
        return self.client_id == client.pk

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return time.time() > self.issued_at + self.expires_in

    def is_revoked(self) -> bool:
        return self.revoked

    def get_user(self) -> Any:
        return self.user

    def get_client(self) -> OAuthClient:
        return self.client


class LogoutSession(models.Model):
    """A client that received an ID token in one hub login session: whom to send a logout token
    (OIDC Back-Channel Logout 1.0) when that session ends or the user loses access.

    ``sid`` is random per (hub session, client), so two suppliers cannot match their sessions;
    ``sub`` is the pairwise ``sub`` the client received (kept: the logout token must carry that
    very value, also after the user was deleted). ``ended_at`` is set when the hub ended the
    session and a logout token is owed; the row goes once the token was delivered or given up.
    Recorded only for clients with a ``backchannel_logout_uri``.
    """

    PERSONAL_DATA: ClassVar[bool] = True
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "hub_session": dc.NOT_PERSONAL,
        "client": dc.NOT_PERSONAL,
        "user": dc.USERNAME,
        "sid": dc.NOT_PERSONAL,
        "sub": dc.SUPPLIER_PSEUDONYM,
        "created_at": dc.NOT_PERSONAL,
        "ended_at": dc.NOT_PERSONAL,
        "attempts": dc.NOT_PERSONAL,
    }

    hub_session = models.CharField(max_length=64)
    client = models.ForeignKey(OAuthClient, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    sid = models.CharField(max_length=64, unique=True)
    sub = models.CharField(max_length=300)
    created_at = models.FloatField(default=time.time)
    ended_at = models.FloatField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("hub_session", "client"), name="logout_session_per_client"
            )
        ]
        indexes = [models.Index(fields=("user", "ended_at"), name="logout_session_user")]

    def __str__(self) -> str:
        return f"session of client {self.client_id}"


class SupplierPseudonym(models.Model):
    """A pupil's pseudonym at one supplier (number service, per supplier and sector)."""

    PERSONAL_DATA: ClassVar[bool] = True
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "student": dc.UNIQUE_ID,
        "supplier": dc.NOT_PERSONAL,
        "value": dc.SUPPLIER_PSEUDONYM,
    }

    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="+")
    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="+")
    value = models.CharField(max_length=300)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("student", "supplier"), name="pseudonym_per_supplier")
        ]
        indexes = [models.Index(fields=("supplier", "value"), name="pseudonym_lookup")]

    def __str__(self) -> str:
        return f"pseudonym of student {self.student_id} at supplier {self.supplier_id}"


class ReleasedRecord(models.Model):
    """What one client was last given of one OneRoster record, and the day that last changed.

    Holds no identifier a supplier knows and no released value: ``key`` is a keyed hash (under
    the supplier's identifier key) of the record's kind and ``sourcedId``, ``fingerprint`` one of
    the record as released. Without the hub's key neither can be matched to a pupil, nor a value
    be guessed from it. See :mod:`regie.gateway.oneroster.changes`.
    """

    PERSONAL_DATA: ClassVar[bool] = True
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "client": dc.NOT_PERSONAL,
        "kind": dc.NOT_PERSONAL,
        "key": dc.PSEUDONYMOUS_ID,
        "fingerprint": dc.PSEUDONYMOUS_ID,
        "changed_on": dc.EDUCATION,
    }

    client = models.ForeignKey(OAuthClient, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20)
    key = models.CharField(max_length=32)
    fingerprint = models.CharField(max_length=32)
    changed_on = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("client", "kind", "key"), name="released_record_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind} released to client {self.client_id}"


class SeenAssertion(models.Model):
    """The ``jti`` of a client assertion already used (private_key_jwt replay protection)."""

    PERSONAL_DATA: ClassVar[bool] = False

    client = models.ForeignKey(OAuthClient, on_delete=models.CASCADE, related_name="+")
    jti = models.CharField(max_length=255)
    seen_at = models.FloatField(default=time.time)

    class Meta:
        constraints = [models.UniqueConstraint(fields=("client", "jti"), name="jti_once")]

    def __str__(self) -> str:
        return self.jti


class LineItem(models.Model):
    """A OneRoster gradebook line item (an assignment, a test) a supplier put for a class."""

    PERSONAL_DATA: ClassVar[bool] = False

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(
        Product, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sourced_id = models.CharField(max_length=255)
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(_("titel"), max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("supplier", "sourced_id"), name="line_item_per_supplier"
            )
        ]

    def __str__(self) -> str:
        return self.title


class Result(models.Model):
    """A pupil's OneRoster gradebook result for a line item, as the supplier put it."""

    PERSONAL_DATA: ClassVar[bool] = True
    DATA_CATEGORIES: ClassVar[Mapping[str, dc.DataCategory | dc.NotPersonal]] = {
        "id": dc.NOT_PERSONAL,
        "supplier": dc.NOT_PERSONAL,
        "product": dc.NOT_PERSONAL,
        "sourced_id": dc.NOT_PERSONAL,
        "line_item": dc.RESULTS,
        "student": dc.UNIQUE_ID,
        "score": dc.RESULTS,
        "score_status": dc.RESULTS,
        "score_date": dc.RESULTS,
        "comment": dc.RESULTS,
        "created_at": dc.NOT_PERSONAL,
        "updated_at": dc.NOT_PERSONAL,
    }

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(
        Product, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sourced_id = models.CharField(max_length=255)
    line_item = models.ForeignKey(LineItem, on_delete=models.CASCADE, related_name="results")
    student = models.ForeignKey(Student, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(_("score"), null=True, blank=True)
    score_status = models.CharField(_("status"), max_length=30)
    score_date = models.DateField(_("datum"), null=True, blank=True)
    comment = models.CharField(_("opmerking"), max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("supplier", "sourced_id"), name="result_per_supplier")
        ]

    def __str__(self) -> str:
        return f"result {self.pk} of line item {self.line_item_id}"
