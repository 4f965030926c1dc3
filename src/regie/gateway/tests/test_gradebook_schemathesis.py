"""schemathesis, generating requests from the committed OpenAPI file of the OneRoster gradebook
(``docs/openapi/oneroster-gradebook.json``), against a live hub where the supplier has a line item
and a result: no request may cause a server error, and every answer must match the documented
status codes and schemas.

Random ids only meet ``404``, so part of the cases get the real ones drawn in: the line item's and
the result's ``sourcedId``, the class's keyed id and the pupil's pseudonym, in the path and in
the bodies of the PUTs.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
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
from .test_gradebook import ALL, allow_results, class_id, pseudonym_of, result_body
from .test_oneroster_rest import make_client, token_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("worker"),
]

SCHEMA = schemathesis.openapi.from_path(
    Path(settings.BASE_DIR) / "docs" / "openapi" / "oneroster-gradebook.json"
)
RESULTS = list(SCHEMA.get_all_operations())
OPERATIONS = [result.ok() for result in RESULTS if isinstance(result, Ok)]
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@dataclass
class Gradebook:
    base: str
    token: str
    klass: str
    pseudonym: str


@pytest.fixture
def gradebook(launchable: Launchable, rng: random.Random) -> Gradebook:
    hub = launchable
    allow_results(hub)
    client, secret = make_client(hub, scopes=ALL)
    token = token_for(hub.base, client, secret, scope=" ".join(ALL))
    api = httpx.Client(
        base_url=f"{hub.base}/ims/oneroster/gradebook/v1p2",
        headers={"Authorization": f"Bearer {token}"},
    )
    klass = class_id(client, hub.group)
    body = {"lineItem": {"title": "Tafels oefenen", "class": {"sourcedId": klass}}}
    assert api.put("/lineItems/li-1", json=body).status_code == 201
    pseudonym = pseudonym_of(hub.pupil, hub.supplier)
    assert api.put("/results/r-1", json=result_body(pseudonym)).status_code == 201
    return Gradebook(hub.base, token, klass, pseudonym)


def known(case: Any, gradebook: Gradebook) -> None:
    """The real ids in the path and in a PUT's body, the rest as generated."""
    params = dict(case.path_parameters or {})
    results = case.path.startswith("/ims/oneroster/gradebook/v1p2/results")
    if "sourced_id" in params:
        params["sourced_id"] = "r-1" if results else "li-1"
    if "class_sourced_id" in params:
        params["class_sourced_id"] = gradebook.klass
    if "line_item_sourced_id" in params:
        params["line_item_sourced_id"] = "li-1"
    if "student_sourced_id" in params:
        params["student_sourced_id"] = quote(gradebook.pseudonym, safe="")
    case.path_parameters = params
    if case.method.upper() == "PUT" and isinstance(case.body, dict):
        params["sourced_id"] = "r-2" if results else "li-2"
        body = {key: dict(value) for key, value in case.body.items() if isinstance(value, dict)}
        if "lineItem" in body:
            body["lineItem"]["class"] = {"sourcedId": gradebook.klass}
            body["lineItem"].pop("sourcedId", None)
        if "result" in body:
            body["result"]["lineItem"] = {"sourcedId": "li-1"}
            body["result"]["student"] = {"sourcedId": gradebook.pseudonym}
            body["result"].pop("sourcedId", None)
        case.body = body


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda item: f"{item.method} {item.path}")
def test_no_generated_request_causes_a_server_error(gradebook: Gradebook, operation: Any) -> None:
    headers = {"Authorization": f"Bearer {gradebook.token}"}

    @hypothesis_settings(
        max_examples=25,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(), use_known_ids=st.booleans())
    def run(case: Any, use_known_ids: bool) -> None:
        if use_known_ids:
            known(case, gradebook)
        case.call_and_validate(base_url=gradebook.base, headers=headers, checks=CHECKS)

    run()


def test_the_committed_schema_is_valid_for_every_operation() -> None:
    assert len(OPERATIONS) == len(RESULTS) == 12


def test_the_known_ids_reach_the_success_branches(gradebook: Gradebook) -> None:
    """``known`` is not decoration: with it the reads answer 200 and the PUTs 201."""
    headers = {"Authorization": f"Bearer {gradebook.token}"}
    statuses = {}
    for operation in OPERATIONS:
        if operation.method.upper() == "DELETE":
            continue
        name = operation.definition.raw["operationId"]
        body: Any = None
        if name == "putLineItem":
            body = {"lineItem": {"title": "Toets", "class": {"sourcedId": "x"}}}
        elif name == "putResult":
            body = result_body("x")
        extra: dict[str, Any] = {"body": body, "media_type": "application/json"} if body else {}
        case = operation.Case(
            path_parameters={key: "x" for key in re.findall(r"{(\w+)}", operation.path)},
            **extra,
        )
        known(case, gradebook)
        statuses[name] = case.call(base_url=gradebook.base, headers=headers).status_code
    assert statuses == {
        "getAllLineItems": 200,
        "getLineItem": 200,
        "putLineItem": 201,
        "getAllResults": 200,
        "getResult": 200,
        "putResult": 201,
        "getLineItemsForClass": 200,
        "getResultsForClass": 200,
        "getResultsForLineItemForClass": 200,
        "getResultsForStudentForClass": 200,
    }
