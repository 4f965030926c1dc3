"""A full flow through a real server at DEBUG level leaves no PGN, HPgn or pseudonym in its logs."""

from __future__ import annotations

import random
import re
import time
from pathlib import Path

import httpx
import pytest

from regie.conftest import HUB_OIN, UNDECLARED_KVK, make_bsn, make_hpgn, start_server
from regie.lib.logging import MASK, Pii, mask_text
from regie.nummervoorziening.models import Client

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SID = "http://ketenid.nl/eck/schemas/v1_0"
WSA = "http://www.w3.org/2005/08/addressing"
CHAIN = "http://purl.edustandaard.nl/begrippenkader/e7ec7d3c-c235-4513-bfb6-e54e66854795"
PO = "http://purl.edustandaard.nl/begrippenkader/512e4729-03a4-43a2-95ba-758071d1b725"


def full_flow(url: str, key: str, rng: random.Random) -> list[str]:
    """Exercise every operation, good and bad; return every identifier value that was used."""
    api = httpx.Client(
        base_url=f"{url}/nummervoorziening/api/v1", headers={"Authorization": f"Bearer {key}"}
    )
    used: list[str] = []
    hpgn, other = make_hpgn(rng), make_hpgn(rng)
    stampseudonym = api.post("/stampseudonyms", json={"hpgn": hpgn}).json()["stampseudonym"]
    eck_id = api.post(
        "/eck-ids", json={"stampseudonym": stampseudonym, "chainId": CHAIN, "sectorId": PO}
    ).json()["eckId"]
    supplier = api.post(
        "/supplier-pseudonyms", json={"eckId": eck_id, "supplierId": "12345678", "sectorId": PO}
    ).json()["supplierPseudonym"]
    api.post("/substitutions", json={"hpgnNew": other, "hpgnOld": hpgn})
    used += [hpgn, other, stampseudonym, eck_id, supplier]
    # A supplier this hub did not declare: refused (and audited) without the ECK iD in the log.
    refused = api.post(
        "/supplier-pseudonyms",
        json={"eckId": eck_id, "supplierId": UNDECLARED_KVK, "sectorId": PO},
    )
    assert refused.status_code == 403, refused.text
    # Bad input of every kind, carrying identifier values.
    bad = hpgn[:-1] + "Z"
    api.post("/stampseudonyms", json={"hpgn": bad})
    api.post("/stampseudonyms", json={"hpgm": hpgn})
    api.post(
        "/eck-ids", json={"stampseudonym": stampseudonym[:-2], "chainId": CHAIN, "sectorId": PO}
    )
    api.post(
        "/eck-ids", json={"stampseudonym": stampseudonym, "chainId": "urn:none", "sectorId": PO}
    )
    api.post("/substitutions", json={"hpgnNew": hpgn, "hpgnOld": hpgn})
    api.post("/stampseudonyms", content=b'{"hpgn": "' + hpgn.encode())
    httpx.post(
        f"{url}/nummervoorziening/api/v1/stampseudonyms",
        json={"hpgn": hpgn},
        headers={"Authorization": "Bearer nv_x_y"},
    )
    used += [bad, stampseudonym[:-2]]
    # A batch, processed by the in-process worker, retrieved twice.
    batch_hpgns = [make_hpgn(rng) for _ in range(30)]
    batch_id = api.post(
        "/batches/stampseudonyms",
        json={"items": [{"index": i, "hpgn": h} for i, h in enumerate(batch_hpgns)]},
    ).json()["batchId"]
    deadline = time.monotonic() + 120
    while (result := api.post(f"/batches/{batch_id}/retrieve")).status_code == 409:
        assert time.monotonic() < deadline, "the in-process worker did not finish the batch"
        time.sleep(0.05)
    assert result.status_code == 200, result.text
    api.post(f"/batches/{batch_id}/retrieve")
    used += batch_hpgns + [item["value"] for item in result.json()["success"]]
    used += soap_flow(url, key, stampseudonym, rng)
    return used


def soap_flow(url: str, key: str, stampseudonym: str, rng: random.Random) -> list[str]:
    """SOAP calls, good and bad, carrying identifiers in bodies and headers."""
    hpgn = make_hpgn(rng)
    sender = f"<wsa:From><wsa:Address>{WSA}/anonymous?oin={HUB_OIN}</wsa:Address></wsa:From>"

    def post(body: str, header: str = sender) -> httpx.Response:
        document = (
            f'<s:Envelope xmlns:s="{SOAP_ENV}" xmlns:sid="{SID}" xmlns:wsa="{WSA}">'
            f"<s:Header>{header}</s:Header><s:Body>{body}</s:Body></s:Envelope>"
        )
        return httpx.post(
            f"{url}/nummervoorziening/soap",
            content=document.encode(),
            headers={"Content-Type": "text/xml; charset=utf-8", "Authorization": f"Bearer {key}"},
        )

    good = post(
        f"<sid:retrieveStampseudonymRequest><sid:hpgn>{hpgn}</sid:hpgn></sid:retrieveStampseudonymRequest>"
    )
    assert good.status_code == 200, good.text
    issued = re.search(r"https://[^<]*/sp/1/[0-9a-f]{128}", good.text)
    assert issued is not None
    post(
        f"<sid:retrieveStampseudonymRequest><sid:hpgn>{hpgn}X</sid:hpgn></sid:retrieveStampseudonymRequest>"
    )
    post(
        f"<sid:retrieveStampseudonymRequest><sid:hpgm>{hpgn}</sid:hpgm></sid:retrieveStampseudonymRequest>"
    )
    post(f"<sid:retrieveStampseudonymRequest><sid:hpgn>{hpgn}</sid:hpgn>", header="")
    post(
        f"<sid:retrieveEckIdRequest><sid:stampseudonym>{stampseudonym}x</sid:stampseudonym>"
        f"<sid:chainId>{CHAIN}</sid:chainId><sid:sectorId>{PO}</sid:sectorId></sid:retrieveEckIdRequest>"
    )
    post(
        f"<sid:retrieveStampseudonymRequest><sid:hpgn>{hpgn}</sid:hpgn></sid:retrieveStampseudonymRequest>",
        header="",
    )
    return [hpgn, issued.group(0), stampseudonym + "x"]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_full_flow_leaves_no_identifier_in_the_logs(
    hub_client: tuple[Client, str], keys_dir: Path, tmp_path: Path, rng: random.Random
) -> None:
    _, key = hub_client
    log = tmp_path / "server.log"
    process, url = start_server(
        keys_dir, log, REGIE_LOG_LEVEL="DEBUG", REGIE_NV_BATCH_LEASE_SECONDS="1"
    )
    try:
        used = full_flow(url, key, rng)
    finally:
        process.terminate()
        process.wait(60)
    text = log.read_text()
    assert "nummervoorziening" in text
    assert "Bad Request" in text
    hex_parts = {value.rsplit("/", 1)[-1] for value in used}
    for value in [*used, *hex_parts, key]:
        assert value not in text
    assert not re.search(r"[0-9a-f]{64}", text)


def test_pii_values_render_masked_everywhere() -> None:
    bsn = make_bsn(random.Random(7))
    wrapped = Pii(bsn)
    assert MASK == str(wrapped) == f"{wrapped}" == f"{wrapped:>20}".strip()
    assert bsn not in repr(wrapped)
    with pytest.raises(TypeError):
        __import__("pickle").dumps(wrapped)


def test_the_safety_net_masks_identifier_shaped_text() -> None:
    bsn = make_bsn(random.Random(8))
    hpgn = make_hpgn(random.Random(9))
    text = mask_text(f"pupil {bsn} hashed to {hpgn} at https://nv.example/sp/1/{hpgn[:40]}")
    assert bsn not in text
    assert hpgn not in text
    assert hpgn[:40] not in text
    assert mask_text("2026-11-22T15:00:00Z batch 3 of 12") == "2026-11-22T15:00:00Z batch 3 of 12"


def test_the_safety_net_masks_query_strings_and_jwts() -> None:
    """Django logs a failed request with its full path: an ID-token hint, a code or a state in
    the query must not reach the log; nor may a JWT anywhere (its claims are only encoded)."""
    hint = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJodHRwczovL252LmV4YW1wbGUvMS9hYmMifQ.c2lnbmF0dXJl"
    logged = mask_text(
        f'Internal Server Error: /oidc/logout request="<WSGIRequest: GET '
        f"'/oidc/logout?id_token_hint={hint}&state=xyz'>\" and a bare {hint}"
    )
    assert hint not in logged
    assert "xyz" not in logged
    assert "id_token_hint" not in logged
    assert "Internal Server Error: /oidc/logout " in logged
    assert f"'/oidc/logout?{MASK}'" in logged
    assert mask_text("why? because") == "why? because"
