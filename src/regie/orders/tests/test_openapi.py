"""The receipt endpoint's OpenAPI document (``docs/openapi/orders.json``): valid OpenAPI 3.1, the
committed file is the code's, and the live endpoint answers as it says (over real HTTP)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
from django.conf import settings
from pytest_django.live_server_helper import LiveServer
from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

from regie.orders import openapi

COMMITTED = Path(settings.BASE_DIR) / "docs" / "openapi" / "orders.json"


def test_the_document_is_valid_openapi_3_1_and_committed() -> None:
    document = openapi.document()
    OPENAPI_31_VALIDATOR.validate(document)
    assert json.loads(COMMITTED.read_text("utf-8")) == json.loads(json.dumps(document))
    broken = {**document, "paths": {openapi.PATH: {"post": {"responses": "none"}}}}
    assert not OPENAPI_31_VALIDATOR.is_valid(broken)


def documented(status: int) -> dict[str, Any]:
    operation = openapi.document()["paths"][openapi.PATH]["post"]
    response: dict[str, Any] = operation["responses"][str(status)]
    return response


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("application/json", b"{}", 415),
        ("application/jose", b"not.a.receipt", 400),
        ("application/jose", b"a" * (300 * 1024), 413),
    ],
)
def test_the_live_endpoint_answers_as_documented(
    live_server: LiveServer, content_type: str, body: bytes, status: int
) -> None:
    answer = httpx.post(
        f"{live_server.url}{openapi.PATH}", content=body, headers={"content-type": content_type}
    )
    assert answer.status_code == status
    (media, described), *_ = documented(status)["content"].items()
    assert answer.headers["content-type"] == media
    validator = jsonschema_rs.Draft202012Validator(
        {**described["schema"], "components": openapi.document()["components"]}
    )
    assert validator.is_valid(answer.json()), answer.text
    assert not validator.is_valid({"status": status})  # the check can fail
