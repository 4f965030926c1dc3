"""schemathesis, generating requests from the committed OpenAPI file of the OneRoster REST service,
against a live hub with a licensed school: no request may cause a server error, and every answer
must match the documented schema for its status code."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.conf import settings
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from .conftest import Launchable
from .test_oneroster_rest import DEMOGRAPHICS, Roster, build_roster, token_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("worker"),
]

SCHEMA = schemathesis.openapi.from_path(
    Path(settings.BASE_DIR) / "docs" / "openapi" / "oneroster.json"
)
RESULTS = list(SCHEMA.get_all_operations())
OPERATIONS = [result.ok() for result in RESULTS if isinstance(result, Ok)]
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@pytest.fixture
def roster(launchable: Launchable, rng: random.Random) -> Roster:
    return build_roster(launchable, rng)


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda item: f"{item.method} {item.path}")
def test_no_generated_request_causes_a_server_error(roster: Roster, operation: object) -> None:
    token = token_for(roster.hub.base, roster.client, roster.secret, scope=None)
    headers = {"Authorization": f"Bearer {token}"}
    strategy = operation.as_strategy()  # type: ignore[attr-defined]

    @hypothesis_settings(
        max_examples=15,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy, _=st.just(DEMOGRAPHICS))
    def run(case: Any, _: str) -> None:
        case.call_and_validate(base_url=roster.hub.base, headers=headers, checks=CHECKS)

    run()


def test_the_committed_schema_is_valid_for_every_operation() -> None:
    assert len(OPERATIONS) == len(RESULTS) >= 14


def test_an_id_with_non_ascii_characters_is_simply_unknown(roster: Roster) -> None:
    """Found by schemathesis: comparing keyed ids with such an id raised a TypeError (500)."""
    import httpx

    token = token_for(roster.hub.base, roster.client, roster.secret, scope=None)
    for path in ("classes/ë%C2%94;/students", "schools/%F2%8A%9C%A1", "classes/ü"):
        answer = httpx.get(
            f"{roster.hub.base}/ims/oneroster/rostering/v1p2/{path}",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 404, (path, answer.text[:200])
