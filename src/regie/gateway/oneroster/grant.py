"""OAuth 2.0 client credentials (RFC 6749 §4.4) for OneRoster, as the 1.2 REST binding's
security framework asks (1EdTech Security Framework 1.1, §4.1 "Using OAuth 2.0 Client Credentials
Grant"): Authlib's grant, limited to the roster scopes a supplier's client was registered with.

A client asks for some of its scopes (asking for one it does not have is ``invalid_scope``, never
silently less) or for none, and then gets all of its roster scopes. No refresh token.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import InvalidScopeError
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant

from ..models import OAuthClient
from ..scopes import GRADEBOOK_SCOPES, LEGACY, ROSTER_CORE_READ, ROSTER_DEMOGRAPHICS_READ

ROSTER_SCOPES = frozenset(
    {
        ROSTER_CORE_READ.name,
        ROSTER_DEMOGRAPHICS_READ.name,
        *(scope.name for scope in GRADEBOOK_SCOPES),
        LEGACY.name,  # the legacy conversion (regie.retention.legacy_api), client credentials too
    }
)


class RosterClientCredentials(ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["private_key_jwt", "client_secret_basic", "client_secret_post"]

    def validate_token_request(self) -> None:
        super().validate_token_request()
        client: OAuthClient = self.request.client
        registered = ROSTER_SCOPES & set(client.scopes)
        requested = set((self.request.payload.scope or "").split())
        if not requested <= registered:
            raise InvalidScopeError("The client may not have (some of) the requested scopes.")
        self.granted_scope = " ".join(sorted(requested or registered))

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        token = self.generate_token(scope=self.granted_scope, include_refresh_token=False)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER
