"""The gateway's front door: registering a supplier's OAuth clients (audited).

A refusal's reason is shown to staff (the admin's form), so it is a Dutch msgid translated into
the language of the request (``gettext``: the reason is made in the request that shows it).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import User as AuthUser
from django.db import transaction
from django.utils.translation import gettext as _
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from regie.agreements.models import Product, Supplier
from regie.agreements.services import Refused
from regie.audit.services import actor_for, record

from . import events
from .models import AuthMethod, OAuthClient, SigningAlg, digest
from .scopes import SCOPES


def _check_redirect_uris(uris: Iterable[str]) -> list[str]:
    checked = []
    for uri in uris:
        if not (uri.startswith("https://") or uri.startswith("http://127.0.0.1")):
            raise Refused(
                _("een redirect-URI gebruikt https (http alleen op 127.0.0.1)"),
                field="redirect_uris",
            )
        if "#" in uri:
            raise Refused(_("een redirect-URI heeft geen fragment (#)"), field="redirect_uris")
        checked.append(uri)
    return checked


def _check_login_uri(uri: str) -> str:
    return _check_redirect_uris([uri])[0] if uri else ""


def _check_backchannel_logout_uri(uri: str) -> str:
    """OIDC Back-Channel Logout 1.0 §2.2: an absolute URI, https (http only on 127.0.0.1), no
    fragment; checked as a redirect URI."""
    if not uri:
        return ""
    if not (uri.startswith("https://") or uri.startswith("http://127.0.0.1")):
        raise Refused(
            _("de uitlog-URI (achterkanaal) gebruikt https (http alleen op 127.0.0.1)"),
            field="backchannel_logout_uri",
        )
    if "#" in uri:
        raise Refused(
            _("de uitlog-URI (achterkanaal) heeft geen fragment (#)"),
            field="backchannel_logout_uri",
        )
    return uri


def _check_scopes(scopes: Iterable[str]) -> list[str]:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise Refused(
            _("onbekende scopes: %(scopes)s") % {"scopes": ", ".join(unknown)}, field="scopes"
        )
    return list(dict.fromkeys(scopes))


def _public_jwks(jwks: Mapping[str, Any] | None) -> dict[str, Any]:
    """The public half of a supplier's JWKS, or :class:`Refused` when it is none."""
    if isinstance(jwks, Mapping) and jwks.get("keys") == []:
        raise Refused(
            _("private_key_jwt vraagt de publieke sleutels van de leverancier (JWKS)"), field="jwks"
        )
    try:
        keyset = KeySet.import_key_set(dict(jwks or {}))  # type: ignore[arg-type]
    except (JoseError, ValueError, KeyError, TypeError):
        raise Refused(_("de JWKS is geen geldige JSON Web Key Set"), field="jwks") from None
    if not keyset.keys:
        raise Refused(
            _("private_key_jwt vraagt de publieke sleutels van de leverancier (JWKS)"), field="jwks"
        )
    return dict(keyset.as_dict(private=False))


@transaction.atomic
def register_client(
    supplier: Supplier,
    *,
    name: str,
    redirect_uris: Iterable[str],
    product: Product | None = None,
    auth_method: str = AuthMethod.PRIVATE_KEY_JWT,
    jwks: Mapping[str, Any] | None = None,
    scopes: Iterable[str] = ("openid",),
    post_logout_redirect_uris: Iterable[str] = (),
    signing_alg: str = SigningAlg.ES256,
    initiate_login_uri: str = "",
    backchannel_logout_uri: str = "",
    backchannel_logout_session_required: bool = False,
    user: AuthUser | None = None,
) -> tuple[OAuthClient, str | None]:
    """A new client of ``supplier``; returns it and, for secret-based methods, the secret (once)."""
    if product is not None and product.supplier_id != supplier.pk:
        raise Refused(_("het product is niet van deze leverancier"), field="product")
    if auth_method not in AuthMethod.values:
        raise Refused(
            _("de authenticatie is een van: %(methods)s")
            % {"methods": ", ".join(AuthMethod.values)}
        )
    if signing_alg not in SigningAlg.values:
        raise Refused(
            _("het ondertekeningsalgoritme is een van: %(algorithms)s")
            % {"algorithms": ", ".join(SigningAlg.values)}
        )
    checked_scopes = _check_scopes(scopes)
    secret = None
    secret_hash = ""
    public_jwks: dict[str, Any] = {}
    if auth_method == AuthMethod.PRIVATE_KEY_JWT:
        public_jwks = _public_jwks(jwks)
    else:
        secret = secrets.token_urlsafe(32)
        secret_hash = digest(secret)
    client = OAuthClient.objects.create(
        supplier=supplier,
        product=product,
        name=name,
        client_id=f"regie-{secrets.token_hex(8)}",
        secret_hash=secret_hash,
        auth_method=auth_method,
        jwks=public_jwks,
        initiate_login_uri=_check_login_uri(initiate_login_uri),
        redirect_uris=_check_redirect_uris(redirect_uris),
        post_logout_redirect_uris=_check_redirect_uris(post_logout_redirect_uris),
        backchannel_logout_uri=_check_backchannel_logout_uri(backchannel_logout_uri),
        backchannel_logout_session_required=bool(backchannel_logout_session_required),
        scopes=checked_scopes,
        signing_alg=signing_alg,
    )
    record(
        events.CLIENT_SAVED,
        actor_for(user),
        f"client:{client.pk}",
        {"created": True, "supplier": supplier.pk, "auth_method": auth_method},
    )
    return client, secret


_UNCHANGED: Any = object()


@transaction.atomic
def update_client(
    client: OAuthClient,
    *,
    redirect_uris: Iterable[str] = _UNCHANGED,
    post_logout_redirect_uris: Iterable[str] = _UNCHANGED,
    initiate_login_uri: str = _UNCHANGED,
    backchannel_logout_uri: str = _UNCHANGED,
    backchannel_logout_session_required: bool = _UNCHANGED,
    jwks: Mapping[str, Any] = _UNCHANGED,
    scopes: Iterable[str] = _UNCHANGED,
    is_active: bool = _UNCHANGED,
    user: AuthUser | None = None,
) -> OAuthClient:
    """Change a client's URIs (the back-channel logout URI too), public keys
    (``private_key_jwt`` clients), scopes or whether it is active, checked as at registration;
    audited with the names of the fields that changed. The authentication method and the
    secret do not change here (register a new client)."""
    changes: dict[str, Any] = {}
    if redirect_uris is not _UNCHANGED:
        changes["redirect_uris"] = _check_redirect_uris(redirect_uris)
    if post_logout_redirect_uris is not _UNCHANGED:
        changes["post_logout_redirect_uris"] = _check_redirect_uris(post_logout_redirect_uris)
    if initiate_login_uri is not _UNCHANGED:
        changes["initiate_login_uri"] = _check_login_uri(initiate_login_uri)
    if backchannel_logout_uri is not _UNCHANGED:
        changes["backchannel_logout_uri"] = _check_backchannel_logout_uri(backchannel_logout_uri)
    if backchannel_logout_session_required is not _UNCHANGED:
        changes["backchannel_logout_session_required"] = bool(backchannel_logout_session_required)
    if jwks is not _UNCHANGED:
        if client.auth_method != AuthMethod.PRIVATE_KEY_JWT:
            raise Refused(
                _("alleen een private_key_jwt-client heeft publieke sleutels"), field="jwks"
            )
        changes["jwks"] = _public_jwks(jwks)
    if scopes is not _UNCHANGED:
        changes["scopes"] = _check_scopes(scopes)
    if is_active is not _UNCHANGED:
        changes["is_active"] = bool(is_active)
    changed = sorted(name for name, value in changes.items() if getattr(client, name) != value)
    if not changed:
        return client
    for name in changed:
        setattr(client, name, changes[name])
    client.save(update_fields=changed)
    record(
        events.CLIENT_SAVED,
        actor_for(user),
        f"client:{client.pk}",
        {"created": False, "supplier": client.supplier_id, "fields": changed},
    )
    return client
