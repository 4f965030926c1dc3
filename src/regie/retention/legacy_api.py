"""``POST /retention/legacy``: a supplier registers its legacy named data for one school and gets
the conversion table back (:mod:`.legacy`).

Authenticated like the gradebook: a client-credentials bearer token of the supplier's
:class:`~regie.gateway.models.OAuthClient` with the scope ``regie.legacy``. The body::

    {"school": "99XA", "records": [{"key": "k-1", "las_key": "…", "name": "…",
                                    "birth_date": "2015-03-01"}, …]}

Bad input is a ``400`` problem naming the record index and the field, never a value, and
nothing is stored. A school the supplier has no agreement with is ``404`` (as an unknown one).
The answer: ``{"registration": id, "table": [{"key", "pseudonym", "status"}]}``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6750 import InsufficientScopeError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from regie.agreements.models import ProcessingAgreement
from regie.core.models import School
from regie.gateway import oidc
from regie.gateway.models import OAuthClient
from regie.gateway.scopes import LEGACY
from regie.lib.problems import json_response, problem_response
from regie.nummervoorziening.client import NummervoorzieningClientError

from . import legacy

MAX_BYTES = 2 * 1024 * 1024
MAX_TEXT = 200
FIELDS = {"key", "las_key", "name", "birth_date"}


class BadInput(Exception):
    def __init__(self, where: str, what: str) -> None:
        super().__init__(f"{where}: {what}")
        self.where = where
        self.what = what


def _client(request: HttpRequest) -> OAuthClient | HttpResponse:
    try:
        token = oidc.protector().acquire_token(request, [LEGACY.name])
    except InsufficientScopeError:
        response = problem_response(
            403, "insufficient-scope", "Forbidden", f"This needs the scope {LEGACY.name}."
        )
        response["WWW-Authenticate"] = 'Bearer error="insufficient_scope"'
        return response
    except OAuth2Error:
        token = None
    client: OAuthClient | None = token.client if token is not None else None
    if client is None or not client.is_active:
        response = problem_response(
            401, "unauthorised", "Unauthorised", "Send a valid access token as a bearer token."
        )
        response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response
    return client


def _text(item: dict[str, Any], index: int, field: str, *, required: bool = False) -> str:
    value = item.get(field)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise BadInput(
            f"records[{index}].{field}", "a non-empty string" if required else "a string"
        )
    if len(value) > MAX_TEXT or "\x00" in value:
        raise BadInput(f"records[{index}].{field}", f"at most {MAX_TEXT} characters, no NUL")
    return value


def parse(body: Any) -> tuple[str, list[legacy.LegacyRecord]]:
    """The school code and the records, or :class:`BadInput` (naming where, never a value)."""
    if not isinstance(body, dict):
        raise BadInput("body", "a JSON object")
    school = body.get("school")
    if not isinstance(school, str) or not 4 <= len(school) <= 6:
        raise BadInput("school", "the school's BRIN and vestiging code (4 to 6 characters)")
    records = body.get("records")
    if not isinstance(records, list) or not records:
        raise BadInput("records", "a non-empty list")
    if len(records) > legacy.MAX_RECORDS:
        raise BadInput("records", f"at most {legacy.MAX_RECORDS} records")
    parsed = []
    keys: set[str] = set()
    for index, item in enumerate(records):
        if not isinstance(item, dict):
            raise BadInput(f"records[{index}]", "a JSON object")
        unknown = sorted(set(item) - FIELDS)
        if unknown:
            raise BadInput(f"records[{index}]", "only key, las_key, name and birth_date")
        key = _text(item, index, "key", required=True)
        if key in keys:
            raise BadInput(f"records[{index}].key", "unique within the request")
        keys.add(key)
        birth = _text(item, index, "birth_date")
        birth_date = None
        if birth:
            try:
                birth_date = dt.date.fromisoformat(birth)
            except ValueError:
                raise BadInput(f"records[{index}].birth_date", "a date (YYYY-MM-DD)") from None
            if len(birth) != 10:
                raise BadInput(f"records[{index}].birth_date", "a date (YYYY-MM-DD)")
        parsed.append(
            legacy.LegacyRecord(
                key=key,
                las_key=_text(item, index, "las_key"),
                name=_text(item, index, "name"),
                birth_date=birth_date,
            )
        )
    return school, parsed


def _school(client: OAuthClient, code: str) -> School | None:
    """The school by its code, when the client's supplier has an agreement with its board."""
    school = School.objects.filter(brin=code[:4].upper(), vestiging=code[4:]).first()
    if school is None:
        return None
    related = ProcessingAgreement.objects.filter(
        board_id=school.board_id, supplier=client.supplier
    ).exists()
    return school if related else None


@csrf_exempt
@require_POST
def register(request: HttpRequest) -> HttpResponse:
    found = _client(request)
    if isinstance(found, HttpResponse):
        return found
    client = found
    if len(request.body) > MAX_BYTES:
        return problem_response(413, "too-large", "Too large", "The body is at most 2 MiB.")
    try:
        body = orjson.loads(request.body)
    except orjson.JSONDecodeError:
        return problem_response(400, "bad-request", "Bad request", "The body is not JSON.")
    try:
        code, records = parse(body)
    except BadInput as error:
        return problem_response(
            400,
            "bad-request",
            "Bad request",
            f"{error.where} must be {error.what}.",
            field=error.where,
        )
    school = _school(client, code)
    if school is None:
        return problem_response(
            404, "unknown-school", "Not found", "There is no school with this code for you."
        )
    try:
        registration, table = legacy.register(client, school, records)
    except NummervoorzieningClientError:
        return problem_response(
            503, "unavailable", "Unavailable", "Pseudonyms cannot be had now; try again later."
        )
    return json_response(
        {"registration": registration.pk, "table": [row.as_json() for row in table]}
    )
