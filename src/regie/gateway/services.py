"""The gateway's front door: registering a supplier's OAuth clients (audited)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import User as AuthUser
from django.db import transaction
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from regie.agreements.models import Product, Supplier
from regie.agreements.services import Refused
from regie.audit.services import record

from . import events
from .models import AuthMethod, OAuthClient, SigningAlg, digest
from .scopes import SCOPES


def _check_redirect_uris(uris: Iterable[str]) -> list[str]:
    checked = []
    for uri in uris:
        if not (uri.startswith("https://") or uri.startswith("http://127.0.0.1")):
            raise Refused(
                "a redirect URI uses https (http only on 127.0.0.1)", field="redirect_uris"
            )
        if "#" in uri:
            raise Refused("a redirect URI has no fragment", field="redirect_uris")
        checked.append(uri)
    return checked


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
    user: AuthUser | None = None,
) -> tuple[OAuthClient, str | None]:
    """A new client of ``supplier``; returns it and, for secret-based methods, the secret (once)."""
    if product is not None and product.supplier_id != supplier.pk:
        raise Refused("the product is not this supplier's", field="product")
    if auth_method not in AuthMethod.values:
        raise Refused(f"the authentication is one of {', '.join(AuthMethod.values)}")
    if signing_alg not in SigningAlg.values:
        raise Refused(f"the signing algorithm is one of {', '.join(SigningAlg.values)}")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise Refused(f"unknown scopes: {', '.join(unknown)}", field="scopes")
    secret = None
    secret_hash = ""
    public_jwks: dict[str, Any] = {}
    if auth_method == AuthMethod.PRIVATE_KEY_JWT:
        try:
            keyset = KeySet.import_key_set(dict(jwks or {}))  # type: ignore[arg-type]
        except (JoseError, ValueError, KeyError, TypeError):
            raise Refused("the JWKS is not a valid JSON Web Key Set", field="jwks") from None
        if not keyset.keys:
            raise Refused("private_key_jwt needs the supplier's public keys (JWKS)", field="jwks")
        public_jwks = dict(keyset.as_dict(private=False))
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
        initiate_login_uri=_check_redirect_uris([initiate_login_uri])[0]
        if initiate_login_uri
        else "",
        redirect_uris=_check_redirect_uris(redirect_uris),
        post_logout_redirect_uris=_check_redirect_uris(post_logout_redirect_uris),
        scopes=list(dict.fromkeys(scopes)),
        signing_alg=signing_alg,
    )
    record(
        events.CLIENT_SAVED,
        "system" if user is None else f"user:{user.pk}",
        f"client:{client.pk}",
        {"created": True, "supplier": supplier.pk, "auth_method": auth_method},
    )
    return client, secret
