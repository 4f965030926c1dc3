"""The demo supplier's back office as a OneRoster 1.2 REST consumer of the hub, over httpx.

- a token with the **client-credentials grant** (RFC 6749 §4.4, as the 1EdTech Security Framework
  asks), the client authenticated with ``private_key_jwt`` (RFC 7523) and the supplier's own key;
  the token endpoint comes from the hub's discovery metadata;
- **rostering**: ``GET /classes`` and ``GET /students`` under
  ``/ims/oneroster/rostering/v1p2`` (scope ``roster-core.readonly``), page by page; a pupil's
  ``sourcedId`` is this supplier's pseudonym, never anything else;
- **legacy named data** (motion 9): ``POST /retention/legacy`` (scope ``regie.legacy``) with
  the old records of :mod:`.legacy`; the answer is the conversion table;
- **results back**: ``PUT /lineItems/{id}`` for a class and ``PUT /results/{id}`` for a pupil
  under ``/ims/oneroster/gradebook/v1p2`` (scope ``gradebook.createput``).

Like :mod:`.relyingparty`, no Django: only HTTP to the hub. Errors carry a short code, never a
token or a pseudonym.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote

import httpx
from authlib.oauth2.rfc7523 import private_key_jwt_sign
from authlib.oauth2.rfc7523.client import ASSERTION_TYPE

from .legacy import LegacyBook
from .relyingparty import TIMEOUT_SECONDS, RelyingParty, RelyingPartyError

ROSTER_CORE_READ = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly"
GRADEBOOK_CREATEPUT = "https://purl.imsglobal.org/spec/or/v1p2/scope/gradebook.createput"
SCOPES = (ROSTER_CORE_READ, GRADEBOOK_CREATEPUT)
LEGACY = "regie.legacy"
LEGACY_PATH = "/retention/legacy"
ROSTERING = "/ims/oneroster/rostering/v1p2"
GRADEBOOK = "/ims/oneroster/gradebook/v1p2"
PAGE_SIZE = 100
MAX_PAGES = 50


class RosterError(Exception):
    """The hub refused or did not answer; ``error`` is a short code (never a token)."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass(frozen=True)
class RosterClass:
    sourced_id: str
    title: str


@dataclass(frozen=True)
class RosterStudent:
    sourced_id: str
    class_ids: tuple[str, ...]


@dataclass(frozen=True)
class Roster:
    """What one sync received: classes and pupils, by their sourcedIds."""

    classes: tuple[RosterClass, ...]
    students: tuple[RosterStudent, ...]

    def class_title(self, sourced_id: str) -> str | None:
        return next((item.title for item in self.classes if item.sourced_id == sourced_id), None)


def hub_base(issuer: str) -> str:
    """The hub's address: its issuer without the trailing ``/oidc``."""
    base = issuer.rstrip("/")
    return base[: -len("/oidc")] if base.endswith("/oidc") else base


def stable_id(kind: str, *parts: str) -> str:
    """A sourcedId of the supplier's own for a line item or result (the same on every PUT)."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:24]
    return f"{kind}-{digest}"


class RosterClient:
    """The back-office client of the hub; ``client_id`` is set once the hub has registered it.

    It shares the relying party's key and discovery metadata, not its client."""

    def __init__(self, party: RelyingParty) -> None:
        self.party = party
        self.client_id: str | None = None

    @property
    def base(self) -> str:
        return hub_base(self.party.issuer)

    def public_jwks(self) -> dict[str, Any]:
        return self.party.public_jwks()

    def token(self, scopes: tuple[str, ...] = SCOPES) -> str:
        """A fresh access token with ``scopes`` (client credentials): the roster and gradebook
        ones unless asked otherwise."""
        if self.client_id is None:
            raise RosterError("unregistered_client")
        try:
            endpoint = self.party.provider().token_endpoint
        except RelyingPartyError as failure:
            raise RosterError(failure.error) from None
        assertion = private_key_jwt_sign(self.party.key, self.client_id, endpoint, alg="ES256")
        data = {
            "grant_type": "client_credentials",
            "scope": " ".join(scopes),
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
        }
        try:
            answer = httpx.post(endpoint, data=data, timeout=TIMEOUT_SECONDS)
            body: dict[str, Any] = answer.json()
        except (httpx.HTTPError, ValueError):
            raise RosterError("temporarily_unavailable") from None
        token = body.get("access_token")
        if answer.status_code != 200 or not isinstance(token, str):
            error = body.get("error")
            raise RosterError(error if isinstance(error, str) else "invalid_grant")
        return token

    def _api(self, token: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.base,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=TIMEOUT_SECONDS,
        )

    def _all(self, api: httpx.Client, path: str, key: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for page in range(MAX_PAGES):
            try:
                answer = api.get(path, params={"limit": PAGE_SIZE, "offset": page * PAGE_SIZE})
                body: dict[str, Any] = answer.json()
            except (httpx.HTTPError, ValueError):
                raise RosterError("temporarily_unavailable") from None
            if answer.status_code != 200:
                raise RosterError(f"http_{answer.status_code}")
            items = body.get(key)
            if not isinstance(items, list):
                raise RosterError("invalid_response")
            found.extend(item for item in items if isinstance(item, dict))
            if len(items) < PAGE_SIZE:
                break
        return found

    def sync(self) -> Roster:
        """``GET /classes`` and, per class, ``GET /classes/{id}/students``."""
        with self._api(self.token()) as api:
            classes = tuple(
                RosterClass(str(item["sourcedId"]), str(item.get("title", "")))
                for item in self._all(api, f"{ROSTERING}/classes", "classes")
                if "sourcedId" in item
            )
            members: dict[str, list[str]] = {}
            for item in self._all(api, f"{ROSTERING}/students", "users"):
                if "sourcedId" in item:
                    members.setdefault(str(item["sourcedId"]), [])
            for group in classes:
                path = f"{ROSTERING}/classes/{quote(group.sourced_id, safe='')}/students"
                for item in self._all(api, path, "users"):
                    if "sourcedId" in item:
                        members.setdefault(str(item["sourcedId"]), []).append(group.sourced_id)
        students = tuple(RosterStudent(key, tuple(value)) for key, value in members.items())
        return Roster(classes, students)

    def send_result(
        self, class_id: str, class_title: str, student_id: str, score: float, day: date
    ) -> tuple[str, str]:
        """PUT a line item for the class and the pupil's result on it; their sourcedIds."""
        line_item = stable_id("rw-li", class_id)
        result = stable_id("rw-res", class_id, student_id)
        line_body = {
            "lineItem": {
                "sourcedId": line_item,
                "title": f"Rekenwereld: tafels oefenen ({class_title})",
                "class": {"sourcedId": class_id, "type": "class"},
            }
        }
        result_body = {
            "result": {
                "sourcedId": result,
                "lineItem": {"sourcedId": line_item, "type": "lineItem"},
                "student": {"sourcedId": student_id, "type": "user"},
                "score": score,
                "scoreStatus": "fully graded",
                "scoreDate": day.isoformat(),
                "comment": "Oefening afgerond in Rekenwereld (demo)",
            }
        }
        with self._api(self.token()) as api:
            for path, body in (
                (f"{GRADEBOOK}/lineItems/{line_item}", line_body),
                (f"{GRADEBOOK}/results/{result}", result_body),
            ):
                try:
                    answer = api.put(path, json=body)
                except httpx.HTTPError:
                    raise RosterError("temporarily_unavailable") from None
                if answer.status_code not in {200, 201}:
                    raise RosterError(f"http_{answer.status_code}")
        return line_item, result

    def register_legacy(self, book: LegacyBook) -> None:
        """Register the old named records at the hub; the conversion table goes into ``book``."""
        with self._api(self.token((LEGACY,))) as api:
            try:
                answer = api.post(LEGACY_PATH, json=book.body())
                body: Any = answer.json()
            except (httpx.HTTPError, ValueError):
                raise RosterError("temporarily_unavailable") from None
        if answer.status_code != 200 or not isinstance(body, dict):
            raise RosterError(f"http_{answer.status_code}")
        try:
            book.converted(body)
        except ValueError:
            raise RosterError("invalid_response") from None
