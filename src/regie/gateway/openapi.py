"""The OpenAPI 3.1 document of the gateway's OpenID provider (``docs/openapi/gateway.json``).

The endpoints are plain Django views driven by Authlib (:mod:`.views`, :mod:`.oidc`), not
django-ninja, so the document is written here as code, after what the views answer:

- OpenID Connect Discovery 1.0 §3 (``/.well-known/openid-configuration``) and the JWKS (RFC 7517);
- the token endpoint (RFC 6749 §3.2, §4.1.3, §4.4, §5.1, §5.2; PKCE RFC 7636; client
  authentication ``client_secret_basic``/``client_secret_post`` RFC 6749 §2.3.1 and
  ``private_key_jwt`` RFC 7523 / OIDC Core §9);
- userinfo (OIDC Core §5.3) with the bearer token of RFC 6750 (§2.1 header, §2.2 form body) and
  its errors (§3, ``WWW-Authenticate``);
- token introspection (RFC 7662);
- RP-initiated logout 1.0 and the authorization endpoint (OIDC Core §3.1.2), which answer with
  redirects and HTML pages.

``regie openapi`` writes it; ``regie openapi --check`` fails when the committed file differs.
"""

from __future__ import annotations

from typing import Any

from .oneroster.grant import ROSTER_SCOPES
from .scopes import OPENID, PROFILE, SCOPES

PREFIX = "/oidc"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
HTML = "text/html"

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(description: str, schema: Schema, headers: Schema | None = None) -> Schema:
    answer: Schema = {"description": description, "content": {JSON: {"schema": schema}}}
    if headers:
        answer["headers"] = headers
    return answer


def _html(description: str) -> Schema:
    return {"description": description, "content": {HTML: {"schema": {"type": "string"}}}}


def _redirect(description: str) -> Schema:
    return {
        "description": description,
        "headers": {
            "Location": {
                "description": "Where the browser goes next.",
                "required": True,
                "schema": {"type": "string"},
            }
        },
    }


def _form(schema: Schema, *, required: bool = True) -> Schema:
    return {"required": required, "content": {FORM: {"schema": schema}}}


def _string(description: str, **extra: Any) -> Schema:
    return {"type": "string", "description": description, **extra}


def _query(name: str, description: str, *, required: bool = False, **schema: Any) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": {"type": "string", **schema},
    }


# --- shapes -------------------------------------------------------------------------------------

OAUTH_ERROR: Schema = {
    "type": "object",
    "description": "RFC 6749 §5.2 (token, introspection) and RFC 6750 §3 (userinfo) errors.",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "string",
            "description": "The error code, e.g. invalid_request, invalid_client, invalid_grant, "
            "unauthorized_client, unsupported_grant_type, invalid_scope (RFC 6749 §5.2); "
            "invalid_token, insufficient_scope, missing_authorization (RFC 6750 §3).",
        },
        "error_description": {"type": "string"},
        "error_uri": {"type": "string"},
        "state": {"type": "string"},
    },
}

TOKEN: Schema = {
    "type": "object",
    "description": "RFC 6749 §5.1. ``id_token`` only for the authorization-code grant; never a "
    "refresh token.",
    "required": ["access_token", "token_type", "expires_in"],
    "properties": {
        "access_token": {"type": "string"},
        "token_type": {"type": "string", "enum": ["Bearer"]},
        "expires_in": {"type": "integer", "minimum": 1},
        "scope": {"type": "string"},
        "id_token": {"type": "string", "description": "A signed JWT (OIDC Core §2)."},
    },
    "additionalProperties": False,
}

CLIENT_AUTH_FIELDS: Schema = {
    "client_id": _string("client_secret_post; optional for private_key_jwt (RFC 7523 §3)."),
    "client_secret": _string("client_secret_post only."),
    "client_assertion_type": _string(
        "private_key_jwt (RFC 7523 §2.2).",
        enum=["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"],
    ),
    "client_assertion": _string(
        "private_key_jwt: a JWT signed with the client's registered key, `aud` the token "
        "endpoint or the issuer, each `jti` once."
    ),
}

TOKEN_REQUEST: Schema = {
    "type": "object",
    "required": ["grant_type"],
    "properties": {
        "grant_type": {"type": "string", "enum": ["authorization_code", "client_credentials"]},
        "code": _string("authorization_code: the code from the authorization endpoint."),
        "redirect_uri": _string("authorization_code: the redirect URI of the request."),
        "code_verifier": _string("authorization_code: the PKCE verifier (RFC 7636 §4.5)."),
        "scope": _string(
            "client_credentials: space-separated scopes, all registered for the client; "
            "absent means all of its OneRoster scopes."
        ),
        **CLIENT_AUTH_FIELDS,
    },
}

USERINFO: Schema = {
    "type": "object",
    "description": "OIDC Core §5.3.2: `sub` is the pairwise subject; the other claims are "
    "what the release policy allows for this client now.",
    "required": ["sub"],
    "properties": {"sub": {"type": "string"}},
    "additionalProperties": True,
}

INTROSPECTION_REQUEST: Schema = {
    "type": "object",
    "required": ["token"],
    "properties": {
        "token": _string("The access token."),
        "token_type_hint": _string("RFC 7662 §2.1.", enum=["access_token", "refresh_token"]),
        **CLIENT_AUTH_FIELDS,
    },
}

INTROSPECTION: Schema = {
    "type": "object",
    "description": "RFC 7662 §2.2. Only `active: false` for a token that is unknown, expired, "
    "revoked, of another supplier or that the release policy no longer allows anything for.",
    "required": ["active"],
    "properties": {
        "active": {"type": "boolean"},
        "client_id": {"type": "string"},
        "scope": {"type": "string"},
        "token_type": {"type": "string"},
        "iss": {"type": "string"},
        "iat": {"type": "integer"},
        "exp": {"type": "integer"},
        "sub": {"type": "string", "description": "The pairwise subject, as in the ID token."},
    },
    "additionalProperties": False,
}

DISCOVERY: Schema = {
    "type": "object",
    "description": "OpenID Connect Discovery 1.0 §3.",
    "required": [
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "response_types_supported",
        "subject_types_supported",
        "id_token_signing_alg_values_supported",
    ],
    "properties": {
        "issuer": {"type": "string"},
        "authorization_endpoint": {"type": "string"},
        "token_endpoint": {"type": "string"},
        "userinfo_endpoint": {"type": "string"},
        "jwks_uri": {"type": "string"},
        "end_session_endpoint": {"type": "string"},
        "introspection_endpoint": {"type": "string"},
        "scopes_supported": {"type": "array", "items": {"type": "string"}},
        "response_types_supported": {"type": "array", "items": {"type": "string"}},
        "response_modes_supported": {"type": "array", "items": {"type": "string"}},
        "grant_types_supported": {"type": "array", "items": {"type": "string"}},
        "subject_types_supported": {"type": "array", "items": {"type": "string"}},
        "id_token_signing_alg_values_supported": {"type": "array", "items": {"type": "string"}},
        "token_endpoint_auth_methods_supported": {"type": "array", "items": {"type": "string"}},
        "token_endpoint_auth_signing_alg_values_supported": {
            "type": "array",
            "items": {"type": "string"},
        },
        "code_challenge_methods_supported": {"type": "array", "items": {"type": "string"}},
        "claims_supported": {"type": "array", "items": {"type": "string"}},
        "claims_parameter_supported": {"type": "boolean"},
        "request_parameter_supported": {"type": "boolean"},
        "request_uri_parameter_supported": {"type": "boolean"},
    },
}

JWKS: Schema = {
    "type": "object",
    "description": (
        "RFC 7517 §5: the hub's public keys: those that may have signed a valid ID token (EC, "
        "RSA) and the Ed25519 key (OKP, RFC 8037) that signs orders to suppliers (RFC 9421)."
    ),
    "required": ["keys"],
    "properties": {
        "keys": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["kty", "kid"],
                "properties": {
                    "kty": {"type": "string", "enum": ["EC", "RSA", "OKP"]},
                    "kid": {"type": "string"},
                    "use": {"type": "string"},
                    "alg": {"type": "string"},
                    "crv": {"type": "string"},
                    "x": {"type": "string"},
                    "y": {"type": "string"},
                    "n": {"type": "string"},
                    "e": {"type": "string"},
                },
            },
        }
    },
}

SCHEMAS: Schema = {
    "OAuthError": OAUTH_ERROR,
    "TokenRequest": TOKEN_REQUEST,
    "TokenResponse": TOKEN,
    "UserInfo": USERINFO,
    "IntrospectionRequest": INTROSPECTION_REQUEST,
    "IntrospectionResponse": INTROSPECTION,
    "ProviderMetadata": DISCOVERY,
    "JWKS": JWKS,
}

NO_STORE: Schema = {
    "Cache-Control": {"schema": {"type": "string", "enum": ["no-store"]}, "required": True},
}
BEARER_CHALLENGE: Schema = {
    "WWW-Authenticate": {
        "description": 'RFC 6750 §3: `Bearer error="…"`.',
        "required": True,
        "schema": {"type": "string"},
    }
}


def _scopes(*names: str) -> dict[str, str]:
    return {name: SCOPES[name].description for name in names}


SECURITY_SCHEMES: Schema = {
    "client_secret_basic": {
        "type": "http",
        "scheme": "basic",
        "description": "RFC 6749 §2.3.1: the client id and secret (each form-urlencoded). "
        "`client_secret_post` and `private_key_jwt` (RFC 7523, OIDC Core §9) send their "
        "credentials as fields of the form body instead, which OpenAPI has no scheme for: see "
        "the request bodies.",
    },
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "An access token of the token endpoint (RFC 6750 §2.1), or in a POST "
        "body as `access_token` (§2.2).",
    },
    "oauth2": {
        "type": "oauth2",
        "description": "The flows this provider serves, and the scopes a client may be "
        "registered with (it never gets more).",
        "flows": {
            "authorizationCode": {
                "authorizationUrl": f"{PREFIX}/authorize",
                "tokenUrl": f"{PREFIX}/token",
                "scopes": _scopes(OPENID.name, PROFILE.name),
            },
            "clientCredentials": {
                "tokenUrl": f"{PREFIX}/token",
                "scopes": _scopes(*sorted(ROSTER_SCOPES)),
            },
        },
    },
}

# Basic, or the credentials in the form body (client_secret_post, private_key_jwt).
CLIENT_AUTH: list[Schema] = [{"client_secret_basic": []}, {}]


# --- operations ---------------------------------------------------------------------------------


def _discovery() -> Schema:
    return {
        "get": {
            "operationId": "getProviderMetadata",
            "summary": "OpenID provider metadata",
            "security": [],
            "responses": {"200": _json("The provider's metadata.", _ref("ProviderMetadata"))},
        }
    }


def _jwks() -> Schema:
    return {
        "get": {
            "operationId": "getJwks",
            "summary": "The provider's public signing keys",
            "security": [],
            "responses": {
                "200": _json(
                    "The JWKS (cacheable for 5 minutes).",
                    _ref("JWKS"),
                    {"Cache-Control": {"schema": {"type": "string"}, "required": True}},
                )
            },
        }
    }


def _token() -> Schema:
    return {
        "post": {
            "operationId": "token",
            "summary": "Token endpoint: authorization code (with PKCE) or client credentials",
            "description": "The client authenticates as it was registered: `client_secret_basic`, "
            "`client_secret_post` or `private_key_jwt`. `authorization_code` needs the PKCE "
            "`code_verifier` (S256) and gives an ID token; a code used twice is refused and "
            "its tokens revoked. `client_credentials` gives a OneRoster token for (some of) "
            "the client's OneRoster scopes.",
            "security": CLIENT_AUTH,
            "requestBody": _form(_ref("TokenRequest")),
            "responses": {
                "200": _json("A token.", _ref("TokenResponse"), NO_STORE),
                "400": _json(
                    "RFC 6749 §5.2: invalid_request, invalid_client (no Basic attempt), "
                    "invalid_grant, unauthorized_client, unsupported_grant_type, invalid_scope.",
                    _ref("OAuthError"),
                ),
                "401": _json(
                    "invalid_client: the client could not be authenticated.",
                    _ref("OAuthError"),
                ),
            },
        }
    }


def _userinfo() -> Schema:
    responses = {
        "200": _json("The claims the release policy allows now.", _ref("UserInfo")),
        "400": _json("invalid_request (RFC 6750 §3.1).", _ref("OAuthError"), BEARER_CHALLENGE),
        "401": _json(
            "No token, an unknown, expired or revoked one, or one the release policy no "
            "longer allows anything for: missing_authorization, unsupported_token_type, "
            "invalid_token.",
            _ref("OAuthError"),
            BEARER_CHALLENGE,
        ),
        "403": _json(
            "insufficient_scope: the token lacks `openid`.", _ref("OAuthError"), BEARER_CHALLENGE
        ),
    }
    common = {"security": [{"bearer": []}], "responses": responses}
    return {
        "get": {
            "operationId": "getUserInfo",
            "summary": "UserInfo (OIDC Core §5.3), token in the Authorization header",
            **common,
        },
        "post": {
            "operationId": "postUserInfo",
            "summary": "UserInfo, token in the header or as `access_token` in the form body",
            "requestBody": _form(
                {"type": "object", "properties": {"access_token": _string("RFC 6750 §2.2.")}},
                required=False,
            ),
            **common,
        },
    }


def _introspect() -> Schema:
    return {
        "post": {
            "operationId": "introspect",
            "summary": "Token introspection (RFC 7662), for the supplier's own tokens",
            "security": CLIENT_AUTH,
            "requestBody": _form(_ref("IntrospectionRequest")),
            "responses": {
                "200": _json(
                    "Whether the token is active, and for whom.", _ref("IntrospectionResponse")
                ),
                "400": _json(
                    "invalid_request, unsupported_token_type, invalid_client.", _ref("OAuthError")
                ),
                "401": _json("invalid_client.", _ref("OAuthError")),
            },
        }
    }


def _logout_parameters() -> list[Schema]:
    return [
        _query("id_token_hint", "An ID token this provider issued (logs out without asking)."),
        _query("post_logout_redirect_uri", "One of the client's registered redirect URIs."),
        _query("client_id", "The client, when there is no ID-token hint."),
        _query("state", "Returned with the redirect."),
        _query("ui_locales", "Preferred languages of the pages."),
    ]


def _logout() -> Schema:
    responses = {
        "200": _html("A page asking to confirm, or saying that the user is logged out."),
        "302": _redirect("Logged out; back to the post-logout redirect URI (with `state`)."),
        "400": _html("A bad request (§4: no redirect on an error), e.g. a foreign ID token."),
    }
    return {
        "get": {
            "operationId": "getLogout",
            "summary": "RP-initiated logout 1.0",
            "security": [],
            "parameters": _logout_parameters(),
            "responses": responses,
        },
        "post": {
            "operationId": "postLogout",
            "summary": "RP-initiated logout 1.0, confirmed from the hub's own page",
            "description": "The confirmation form of the hub's logout page posts here with the "
            "page's CSRF token; without it Django refuses the request (403).",
            "security": [],
            "parameters": _logout_parameters(),
            "responses": {
                **responses,
                "403": _html("No valid CSRF token (only the hub's own form posts here)."),
            },
        },
    }


def _authorize() -> Schema:
    return {
        "get": {
            "operationId": "authorize",
            "summary": "Authorization endpoint (OIDC Core §3.1.2): code flow with PKCE (S256)",
            "description": "A browser endpoint. Not logged in: to the hub's login page. A valid "
            "request of a logged-in pupil whom the release policy lets launch: back to the "
            "client with a code. An error with a valid redirect URI: back with `error`; "
            "without one: an error page.",
            "security": [],
            "parameters": [
                _query("client_id", "The client.", required=True),
                _query("response_type", "Only `code`.", required=True),
                _query("redirect_uri", "One of the client's registered redirect URIs."),
                _query(
                    "scope",
                    "Must include `openid`; what the client is not registered "
                    "for is ignored (and audited).",
                    required=True,
                ),
                _query("state", "Returned with the redirect."),
                _query("nonce", "Put into the ID token."),
                _query("code_challenge", "PKCE (RFC 7636), required.", required=True),
                _query("code_challenge_method", "Only `S256`.", required=True),
                _query("prompt", "OIDC Core §3.1.2.1; `login` asks for a fresh login."),
                _query(
                    "max_age",
                    "OIDC Core §3.1.2.1, whole seconds: a login older than this is asked for "
                    "again; the ID token then carries `auth_time` (docs/sso.md).",
                ),
            ],
            "responses": {
                "302": _redirect(
                    "To the login page; or to the client's redirect URI with `code` and "
                    "`state`, or with `error` (e.g. invalid_scope, access_denied)."
                ),
                "400": _html("An error without a usable redirect URI (unknown client …)."),
                "403": _html(
                    "The release policy does not let this pupil launch the product; the page "
                    "says why and links back to the client with access_denied."
                ),
                "503": _html("The number service cannot give the pseudonym now."),
            },
        }
    }


def document() -> Schema:
    """The whole OpenAPI 3.1 document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "regie OpenID provider (for suppliers)",
            "version": "1.0",
            "description": "The gateway's OpenID Connect provider and OAuth 2.0 authorization "
            "server (Authlib): single sign-on for pupils into licensed products (the code flow "
            "with PKCE, pairwise `sub`, claims as the release policy allows) and client "
            "credentials for OneRoster. See docs/oneroster-rest.md and docs/scopes.md.",
        },
        "paths": {
            f"{PREFIX}/.well-known/openid-configuration": _discovery(),
            f"{PREFIX}/jwks": _jwks(),
            f"{PREFIX}/authorize": _authorize(),
            f"{PREFIX}/token": _token(),
            f"{PREFIX}/userinfo": _userinfo(),
            f"{PREFIX}/introspect": _introspect(),
            f"{PREFIX}/logout": _logout(),
        },
        "components": {"schemas": SCHEMAS, "securitySchemes": SECURITY_SCHEMES},
    }
