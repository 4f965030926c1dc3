"""The JSON API: every operation, and every kind of bad input as a specific RFC 9457 problem."""

from __future__ import annotations

import random
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.test import override_settings

from regie.conftest import SUPPLIER_KVK, make_hpgn
from regie.nummervoorziening import services
from regie.nummervoorziening.models import Batch, Client, Substitution

pytestmark = pytest.mark.django_db

API = "/nummervoorziening/api/v1"
CHAIN = "http://purl.edustandaard.nl/begrippenkader/e7ec7d3c-c235-4513-bfb6-e54e66854795"
PO = "http://purl.edustandaard.nl/begrippenkader/512e4729-03a4-43a2-95ba-758071d1b725"


class Api:
    def __init__(self, key: str | None) -> None:
        self.http = HttpClient()
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}

    def post(self, path: str, body: Any = None, *, raw: str | None = None) -> Any:
        data = raw if raw is not None else body
        return self.http.post(
            f"{API}{path}",
            data=data if raw is not None else (body or {}),
            content_type="application/json",
            headers=self.headers,
        )

    def get(self, path: str) -> Any:
        return self.http.get(f"{API}{path}", headers=self.headers)


@pytest.fixture
def api(las_client: tuple[Client, str]) -> Api:
    return Api(las_client[1])


def assert_problem(response: Any, status: int, code: str, *secrets: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["type"] == f"urn:regie:problem:{code}"
    assert problem["status"] == status
    assert problem["title"]
    assert problem["detail"]
    for secret in secrets:
        assert secret not in response.content.decode()
    return problem


def test_it_answers_ping_without_a_key() -> None:
    response = Api(None).get("/ping")
    assert response.status_code == 200
    assert response.json()["available"] is True


def test_it_runs_the_whole_chain(
    api: Api, hub_client: tuple[Client, str], rng: random.Random
) -> None:
    hpgn = make_hpgn(rng)
    stampseudonym = api.post("/stampseudonyms", {"hpgn": hpgn}).json()["stampseudonym"]
    eck_id = api.post(
        "/eck-ids", {"stampseudonym": stampseudonym, "chainId": CHAIN, "sectorId": PO}
    ).json()["eckId"]
    supplier = (
        Api(hub_client[1])
        .post("/supplier-pseudonyms", {"eckId": eck_id, "supplierId": SUPPLIER_KVK, "sectorId": PO})
        .json()["supplierPseudonym"]
    )
    assert "/sp/1/" in stampseudonym
    assert "/lp/1/" in supplier
    assert hpgn not in stampseudonym + eck_id + supplier


def test_it_runs_a_batch_through_http(api: Api, rng: random.Random) -> None:
    items = [{"index": 1, "hpgn": make_hpgn(rng)}, {"index": 2, "hpgn": "nope"}]
    submitted = api.post("/batches/stampseudonyms", {"items": items})
    assert submitted.status_code == 202
    batch_id = submitted.json()["batchId"]

    assert_problem(api.post(f"/batches/{batch_id}/retrieve"), 409, "batch-not-finished")
    assert api.get(f"/batches/{batch_id}").json()["finished"] is False
    while services.process_next_chunk("test"):
        pass
    assert api.get(f"/batches/{batch_id}").json()["finished"] is True
    result = api.post(f"/batches/{batch_id}/retrieve").json()
    assert [item["index"] for item in result["success"]] == [1]
    assert result["failed"] == [
        {"index": 2, "errorMessage": "an HPgn is 64 hexadecimal characters; this one has 4"}
    ]
    assert_problem(api.post(f"/batches/{batch_id}/retrieve"), 410, "batch-already-retrieved")


def test_it_lists_chains_and_sectors(api: Api) -> None:
    assert CHAIN in [chain["id"] for chain in api.get("/chains").json()]
    sectors = {sector["code"]: sector["id"] for sector in api.get("/sectors").json()}
    assert sectors["PO"] == PO
    assert {"VO", "MBO", "HO"} <= set(sectors)


def test_it_records_substitutions(api: Api, rng: random.Random) -> None:
    old, new = make_hpgn(rng), make_hpgn(rng)
    old_value = api.post("/stampseudonyms", {"hpgn": old}).json()["stampseudonym"]
    answer = api.post("/substitutions", {"hpgnNew": new, "hpgnOld": old})
    assert answer.json() == {"stampseudonym": old_value}
    assert api.post("/stampseudonyms", {"hpgn": new}).json()["stampseudonym"] == old_value


@pytest.mark.parametrize(
    ("hpgn", "code"),
    [
        ("", "invalid-hpgn"),
        ("xyz", "invalid-hpgn"),
        ("g" * 64, "invalid-hpgn"),
        ("a" * 66, "invalid-hpgn"),
    ],
)
def test_it_refuses_bad_hpgns(api: Api, hpgn: str, code: str) -> None:
    problem = assert_problem(
        api.post("/stampseudonyms", {"hpgn": hpgn}), 400, code, *([hpgn] if hpgn else [])
    )
    assert "HPgn" in problem["detail"]


def test_it_refuses_unknown_chain_and_sector(api: Api, rng: random.Random) -> None:
    stampseudonym = api.post("/stampseudonyms", {"hpgn": make_hpgn(rng)}).json()["stampseudonym"]
    body = {"stampseudonym": stampseudonym, "chainId": "urn:x", "sectorId": PO}
    assert_problem(api.post("/eck-ids", body), 400, "unknown-chain", stampseudonym)
    body = {"stampseudonym": stampseudonym, "chainId": CHAIN, "sectorId": "urn:x"}
    assert_problem(api.post("/eck-ids", body), 400, "unknown-sector", stampseudonym)
    body = {"stampseudonym": stampseudonym[:-1], "chainId": CHAIN, "sectorId": PO}
    assert_problem(api.post("/eck-ids", body), 400, "invalid-stampseudonym", stampseudonym[:-1])


def test_it_refuses_malformed_json(api: Api) -> None:
    assert_problem(api.post("/stampseudonyms", raw='{"hpgn": '), 400, "malformed-json")


def test_it_refuses_wrongly_shaped_json_without_echoing(api: Api) -> None:
    secret = "1" * 64
    problem = assert_problem(
        api.post("/stampseudonyms", {"hpgm": secret}), 422, "invalid-request", secret
    )
    assert problem["errors"] == [{"location": "hpgn", "message": "Field required"}]
    problem = assert_problem(
        api.post("/batches/stampseudonyms", {"items": [{"index": "first", "hpgn": secret}]}),
        422,
        "invalid-request",
        secret,
    )
    assert problem["errors"][0]["location"] == "items.0.index"
    assert not Batch.objects.exists()


@pytest.mark.parametrize(
    "header", [None, "Bearer", "Basic abc", "Bearer nv_abc", "Bearer nv_000000000000_wrong"]
)
def test_it_refuses_missing_or_bad_keys(header: str | None, las_client: tuple[Client, str]) -> None:
    headers = {"Authorization": header} if header else {}
    response = HttpClient().post(
        f"{API}/stampseudonyms",
        {"hpgn": "a" * 64},
        content_type="application/json",
        headers=headers,
    )
    assert_problem(response, 401, "authentication-failed", las_client[1])


def test_a_blocked_client_is_told_so(api: Api, las_client: tuple[Client, str]) -> None:
    from datetime import timedelta

    from django.utils import timezone

    client, _ = las_client
    client.blocked_until = timezone.now() + timedelta(hours=1)
    client.save()
    assert_problem(api.post("/stampseudonyms", {"hpgn": "a" * 64}), 403, "temporary-blocked")


def test_it_refuses_quota_and_oversize(
    api: Api, las_client: tuple[Client, str], rng: random.Random
) -> None:
    client, _ = las_client
    with override_settings(NV_BATCH_MAX_ITEMS=2):
        items = [{"index": i, "hpgn": make_hpgn(rng)} for i in range(3)]
        assert_problem(
            api.post("/batches/stampseudonyms", {"items": items}), 413, "batch-too-large"
        )
    client.daily_batch_quota = 0
    client.save()
    items = [{"index": 1, "hpgn": make_hpgn(rng)}]
    assert_problem(
        api.post("/batches/stampseudonyms", {"items": items}), 429, "daily-batch-quota-exceeded"
    )
    assert not Batch.objects.exists()


def test_it_refuses_unknown_batches(api: Api) -> None:
    assert_problem(api.post("/batches/not-a-uuid/retrieve"), 404, "batch-not-found")
    assert_problem(api.get("/batches/6b1c6a57-3f1e-4f4c-9d55-9e0f5e3c2a11"), 404, "batch-not-found")


def test_a_bad_substitution_changes_nothing(api: Api, rng: random.Random) -> None:
    same = make_hpgn(rng)
    assert_problem(
        api.post("/substitutions", {"hpgnNew": same, "hpgnOld": same}), 400, "same-hpgn", same
    )
    assert_problem(
        api.post(
            "/substitutions",
            {"hpgnNew": same, "hpgnOld": make_hpgn(rng), "effectiveDate": "tomorrow"},
        ),
        422,
        "invalid-request",
        same,
    )
    assert not Substitution.objects.exists()
