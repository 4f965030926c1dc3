"""The hub's client against a real number service (pytest-django's live server, real HTTP).

The live server has no background worker: tests drive batches with ``process_next_chunk`` or run
the worker loop in a thread.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from django.conf import LazySettings
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer

from regie.conftest import SUPPLIER_KVK, make_hpgn
from regie.nummervoorziening import services
from regie.nummervoorziening.client import (
    AuthenticationFailed,
    BatchAlreadyRetrieved,
    BatchNotFinished,
    BatchNotFound,
    BatchRemoved,
    BatchTooLarge,
    ClientBlocked,
    InvalidInput,
    NummervoorzieningClient,
    NummervoorzieningClientError,
    NummervoorzieningUnavailable,
    QuotaExceeded,
    SubstitutionRefused,
    error_from_response,
    get_client,
)
from regie.nummervoorziening.models import Batch, Client
from regie.nummervoorziening.registry import get_registry

CHAIN = "http://purl.edustandaard.nl/begrippenkader/e7ec7d3c-c235-4513-bfb6-e54e66854795"
PO = "http://purl.edustandaard.nl/begrippenkader/512e4729-03a4-43a2-95ba-758071d1b725"
VO = "urn:regie:sector:vo"

live = pytest.mark.django_db(transaction=True)


@pytest.fixture
def nv(
    live_server: LiveServer, hub_client: tuple[Client, str]
) -> Iterator[NummervoorzieningClient]:
    """A hub's client (every operation; supplier pseudonyms for ``SUPPLIER_KVK``)."""
    with NummervoorzieningClient(
        f"{live_server.url}/nummervoorziening", hub_client[1], 10
    ) as client:
        yield client


def process_all() -> None:
    while services.process_next_chunk("test"):
        pass


def expected_stampseudonym(hpgn: str) -> str:
    deriver = services.get_deriver()
    return deriver.stampseudonym(deriver.anchor(hpgn))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --- Single calls --------------------------------------------------------------------------------


@live
def test_it_pings(nv: NummervoorzieningClient) -> None:
    ping = nv.ping()
    assert ping.available is True
    assert ping.application_version.startswith("regie-nummervoorziening")
    assert abs(ping.system_time - timezone.now()) < timedelta(minutes=1)


@live
def test_it_derives_each_layer_as_the_service_does(
    nv: NummervoorzieningClient, rng: random.Random
) -> None:
    hpgn = make_hpgn(rng)
    stampseudonym = nv.stampseudonym(hpgn)
    assert stampseudonym == expected_stampseudonym(hpgn)
    eck_id = nv.eck_id(stampseudonym, CHAIN, PO)
    assert eck_id == services.get_deriver().eck_id(stampseudonym, CHAIN, PO)
    assert nv.eck_id(stampseudonym, CHAIN, VO) != eck_id
    pseudonym = nv.supplier_pseudonym(eck_id, SUPPLIER_KVK, PO)
    assert pseudonym == services.get_deriver().supplier_pseudonym(eck_id, SUPPLIER_KVK, PO)
    assert nv.stampseudonym(hpgn) == stampseudonym


@live
def test_it_lists_chains_and_sectors(nv: NummervoorzieningClient) -> None:
    chains = nv.chains()
    sectors = nv.sectors()
    assert [chain.id for chain in chains] == list(get_registry().chains)
    assert {sector.code for sector in sectors} == {"PO", "VO", "MBO", "HO"}
    po = next(sector for sector in sectors if sector.code == "PO")
    assert po.id == PO
    assert po.last_edited.tzinfo is not None


@live
def test_it_replaces_a_stampseudonym_now_and_from_a_future_date(
    nv: NummervoorzieningClient, rng: random.Random
) -> None:
    old, new, later = make_hpgn(rng), make_hpgn(rng), make_hpgn(rng)
    kept = nv.replace_stampseudonym(new, old)
    assert kept == expected_stampseudonym(old)
    assert nv.stampseudonym(new) == kept

    assert nv.replace_stampseudonym(later, old, timezone.now() + timedelta(days=3)) == kept
    assert nv.stampseudonym(later) == expected_stampseudonym(later)
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(SubstitutionRefused) as refused:
        nv.replace_stampseudonym(later, make_hpgn(rng), tomorrow)
    assert refused.value.status == 409


def test_it_refuses_a_naive_effective_date() -> None:
    client = NummervoorzieningClient(f"http://127.0.0.1:{closed_port()}", "nv_x_y", 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        client.replace_stampseudonym("a" * 64, "b" * 64, timezone.now().replace(tzinfo=None))


# --- Batches -------------------------------------------------------------------------------------


@live
def test_it_runs_each_kind_of_batch_with_failures_by_index(
    nv: NummervoorzieningClient, rng: random.Random
) -> None:
    hpgns = [make_hpgn(rng) for _ in range(5)]
    batch_id = nv.submit_stampseudonym_batch([*hpgns[:2], "not-an-hpgn", *hpgns[2:]])
    process_all()
    stampseudonyms = nv.retrieve_batch(batch_id)
    assert sorted(stampseudonyms.success) == [0, 1, 3, 4, 5]
    assert list(stampseudonyms.failed) == [2]
    assert "not-an-hpgn" not in stampseudonyms.failed[2]
    assert stampseudonyms.success[3] == expected_stampseudonym(hpgns[2])

    keyed = {10 * index: value for index, value in stampseudonyms.success.items()}
    batch_id = nv.submit_eck_id_batch({**keyed, 7: "https://elsewhere.example/sp/1/00"}, CHAIN, VO)
    process_all()
    eck_ids = nv.retrieve_batch(batch_id)
    assert sorted(eck_ids.success) == sorted(keyed)
    assert list(eck_ids.failed) == [7]
    assert eck_ids.success[30] == nv.eck_id(keyed[30], CHAIN, VO)

    batch_id = nv.submit_supplier_pseudonym_batch(list(eck_ids.success.values()), SUPPLIER_KVK, VO)
    process_all()
    pseudonyms = nv.retrieve_batch(batch_id)
    assert len(pseudonyms.success) == len(eck_ids.success)
    assert not pseudonyms.failed
    first_eck_id = eck_ids.success[0]
    assert pseudonyms.success[0] == nv.supplier_pseudonym(first_eck_id, SUPPLIER_KVK, VO)


@live
def test_it_reports_progress_and_refuses_results_before_the_batch_is_done(
    nv: NummervoorzieningClient, rng: random.Random, settings: LazySettings
) -> None:
    settings.NV_BATCH_CHUNK_SIZE = 2
    batch_id = nv.submit_stampseudonym_batch([make_hpgn(rng) for _ in range(5)])
    progress = nv.batch_progress(batch_id)
    assert (progress.batch_id, progress.kind, progress.status) == (
        batch_id,
        "stampseudonym",
        "open",
    )
    assert progress.items == 5
    assert progress.finished is False
    assert progress.expires_at > timezone.now()

    services.process_next_chunk("test")
    with pytest.raises(BatchNotFinished) as not_finished:
        nv.retrieve_batch(batch_id)
    assert (not_finished.value.status, not_finished.value.code) == (409, "batch-not-finished")

    process_all()
    assert nv.batch_progress(batch_id).finished is True
    assert len(nv.retrieve_batch(batch_id).success) == 5
    assert nv.batch_progress(batch_id).status == "retrieved"


@live
def test_it_refuses_a_second_retrieve(nv: NummervoorzieningClient, rng: random.Random) -> None:
    batch_id = nv.submit_stampseudonym_batch([make_hpgn(rng)])
    process_all()
    nv.retrieve_batch(batch_id)
    with pytest.raises(BatchAlreadyRetrieved) as again:
        nv.retrieve_batch(batch_id)
    assert (again.value.status, again.value.code) == (410, "batch-already-retrieved")


@live
def test_it_reports_an_expired_batch_as_removed(
    nv: NummervoorzieningClient, rng: random.Random
) -> None:
    batch_id = nv.submit_stampseudonym_batch([make_hpgn(rng)])
    process_all()
    Batch.objects.filter(pk=batch_id).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(BatchRemoved) as removed:
        nv.retrieve_batch(batch_id)
    assert (removed.value.status, removed.value.code) == (410, "batch-removed")


@live
@pytest.mark.parametrize("batch_id", ["00000000-0000-4000-8000-000000000000", "no-uuid/../x?y"])
def test_it_reports_an_unknown_batch(nv: NummervoorzieningClient, batch_id: str) -> None:
    with pytest.raises(BatchNotFound):
        nv.batch_progress(batch_id)
    with pytest.raises(BatchNotFound):
        nv.retrieve_batch(batch_id)


@live
def test_it_does_not_show_another_clients_batch(
    nv: NummervoorzieningClient,
    other_client: tuple[Client, str],
    live_server: LiveServer,
    rng: random.Random,
) -> None:
    batch_id = nv.submit_stampseudonym_batch([make_hpgn(rng)])
    url = f"{live_server.url}/nummervoorziening"
    with (
        NummervoorzieningClient(url, other_client[1], 10) as other,
        pytest.raises(BatchNotFound),
    ):
        other.retrieve_batch(batch_id)


@live
def test_it_raises_quota_exceeded(
    nv: NummervoorzieningClient, hub_client: tuple[Client, str], rng: random.Random
) -> None:
    Client.objects.filter(pk=hub_client[0].pk).update(daily_batch_quota=1)
    nv.submit_stampseudonym_batch([make_hpgn(rng)])
    with pytest.raises(QuotaExceeded) as exceeded:
        nv.submit_stampseudonym_batch([make_hpgn(rng)])
    assert exceeded.value.status == 429


@live
def test_it_raises_blocked_for_a_blocked_client(
    nv: NummervoorzieningClient, hub_client: tuple[Client, str], rng: random.Random
) -> None:
    blocked_until = timezone.now() + timedelta(hours=1)
    Client.objects.filter(pk=hub_client[0].pk).update(blocked_until=blocked_until)
    with pytest.raises(ClientBlocked) as blocked:
        nv.stampseudonym(make_hpgn(rng))
    assert (blocked.value.status, blocked.value.code) == (403, "temporary-blocked")


@live
@pytest.mark.parametrize("api_key", ["nv_000000000000_wrong", "garbage", None])
def test_it_raises_an_auth_error_for_a_bad_or_missing_key(
    live_server: LiveServer, las_client: tuple[Client, str], api_key: str | None
) -> None:
    with NummervoorzieningClient(f"{live_server.url}/nummervoorziening", api_key, 10) as client:
        assert client.ping().available  # ping needs no key
        with pytest.raises(AuthenticationFailed) as refused:
            client.chains()
    assert refused.value.status == 401
    assert "wrong" not in str(refused.value)


@live
def test_it_raises_invalid_input_without_echoing_the_value(
    nv: NummervoorzieningClient, rng: random.Random
) -> None:
    too_short = make_hpgn(rng)[:63]
    with pytest.raises(InvalidInput) as invalid:
        nv.stampseudonym(too_short)
    assert (invalid.value.status, invalid.value.code) == (400, "invalid-hpgn")
    assert too_short not in str(invalid.value)

    stampseudonym = nv.stampseudonym(make_hpgn(rng))
    with pytest.raises(InvalidInput) as unknown_chain:
        nv.eck_id(stampseudonym, "urn:no-such-chain", PO)
    assert unknown_chain.value.code == "unknown-chain"
    with pytest.raises(InvalidInput) as unknown_sector:
        nv.eck_id(stampseudonym, CHAIN, "urn:no-such-sector")
    assert unknown_sector.value.code == "unknown-sector"
    with pytest.raises(InvalidInput) as bad_supplier:
        nv.supplier_pseudonym(nv.eck_id(stampseudonym, CHAIN, PO), "12", PO)
    assert bad_supplier.value.code == "invalid-supplier-id"
    assert stampseudonym not in str(unknown_chain.value) + str(unknown_sector.value)


@live
def test_it_refuses_an_oversized_batch_as_a_whole(
    nv: NummervoorzieningClient, rng: random.Random, settings: LazySettings
) -> None:
    settings.NV_BATCH_MAX_ITEMS = 3
    with pytest.raises(BatchTooLarge) as too_large:
        nv.submit_stampseudonym_batch([make_hpgn(rng) for _ in range(4)])
    assert too_large.value.status == 413
    assert isinstance(too_large.value, InvalidInput)
    assert not Batch.objects.exists()


# --- run_batch -----------------------------------------------------------------------------------


@live
@pytest.mark.usefixtures("worker")
def test_it_runs_a_large_batch_in_parts_and_keeps_the_callers_indices(
    nv: NummervoorzieningClient, rng: random.Random, settings: LazySettings
) -> None:
    settings.NV_BATCH_MAX_ITEMS = 7
    settings.NV_BATCH_CHUNK_SIZE = 3
    hpgns = [make_hpgn(rng) for _ in range(30)]
    hpgns[11] = "A" * 64
    hpgns[29] = ""

    result = nv.run_batch("stampseudonym", hpgns)

    assert Batch.objects.count() == 5  # ceil(30 / 7)
    assert set(Batch.objects.values_list("status", flat=True)) == {"retrieved"}
    assert sorted(result.failed) == [11, 29]
    assert sorted(result.success) == [index for index in range(30) if index not in {11, 29}]
    for index in (0, 6, 7, 13, 28):
        assert result.success[index] == expected_stampseudonym(hpgns[index])

    keyed = {1000 + 3 * index: value for index, value in result.success.items()}
    eck_ids = nv.run_batch("eckid", keyed, chain_id=CHAIN, sector_id=PO)
    assert Batch.objects.count() == 5 + 4  # ceil(28 / 7)
    assert not eck_ids.failed
    assert eck_ids.success.keys() == keyed.keys()
    assert eck_ids.success[1000 + 3 * 28] == nv.eck_id(result.success[28], CHAIN, PO)

    pseudonyms = nv.run_batch("supplier", eck_ids.success, supplier_id=SUPPLIER_KVK, sector_id=PO)
    assert pseudonyms.success.keys() == keyed.keys()


@live
@pytest.mark.usefixtures("worker")
def test_it_submits_halves_when_the_server_refuses_the_batch_size(
    live_server: LiveServer,
    las_client: tuple[Client, str],
    rng: random.Random,
    settings: LazySettings,
) -> None:
    settings.NV_BATCH_MAX_ITEMS = 4
    url = f"{live_server.url}/nummervoorziening"
    with NummervoorzieningClient(url, las_client[1], 10, max_batch_items=10) as client:
        hpgns = [make_hpgn(rng) for _ in range(10)]
        result = client.run_batch("stampseudonym", hpgns)
    assert sorted(result.success) == list(range(10))
    # 10 is refused, then 5; from then on every batch holds 2.
    assert sorted(Batch.objects.values_list("item_count", flat=True)) == [2, 2, 2, 2, 2]


@live
def test_it_stops_waiting_and_names_the_open_batches(
    nv: NummervoorzieningClient, rng: random.Random, settings: LazySettings
) -> None:
    settings.NV_BATCH_MAX_ITEMS = 2
    with pytest.raises(BatchNotFinished) as waited:
        nv.run_batch("stampseudonym", [make_hpgn(rng) for _ in range(3)], max_wait_seconds=0.2)
    assert sorted(waited.value.batch_ids) == sorted(
        str(pk) for pk in Batch.objects.values_list("pk", flat=True)
    )


def test_it_runs_an_empty_batch_without_calling_the_server() -> None:
    with NummervoorzieningClient(f"http://127.0.0.1:{closed_port()}", "nv_x_y", 1) as client:
        result = client.run_batch("stampseudonym", [])
    assert (result.success, result.failed) == ({}, {})


# --- Faults and the mapping of errors ------------------------------------------------------------


def test_it_reports_an_unreachable_server_as_unavailable() -> None:
    port = closed_port()
    with (
        NummervoorzieningClient(
            f"http://127.0.0.1:{port}/nummervoorziening", "nv_x_y", 2
        ) as client,
        pytest.raises(NummervoorzieningUnavailable) as unavailable,
    ):
        client.stampseudonym("a" * 64)
    assert unavailable.value.status is None
    assert unavailable.value.code == "unavailable"
    assert f"127.0.0.1:{port}" in str(unavailable.value)
    assert "cannot be reached" in str(unavailable.value)
    assert "a" * 64 not in str(unavailable.value)


def test_it_reports_a_server_that_does_not_answer_as_unavailable() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)  # accepts connections in the kernel, never answers
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/nummervoorziening"
        with (
            NummervoorzieningClient(url, "nv_x_y", 0.3) as client,
            pytest.raises(NummervoorzieningUnavailable) as unavailable,
        ):
            client.ping()
    assert "did not answer within 0.3 seconds" in str(unavailable.value)


def _response(
    status: int, body: bytes, content_type: str = "application/problem+json"
) -> httpx.Response:
    return httpx.Response(status, content=body, headers={"Content-Type": content_type})


@pytest.mark.parametrize(
    ("status", "body", "error_class", "code"),
    [
        (
            409,
            b'{"type":"urn:regie:problem:batch-not-finished","detail":"d"}',
            BatchNotFinished,
            "batch-not-finished",
        ),
        (
            410,
            b'{"type":"urn:regie:problem:batch-removed","detail":"d"}',
            BatchRemoved,
            "batch-removed",
        ),
        (
            400,
            b'{"type":"urn:regie:problem:invalid-eck-id","detail":"d"}',
            InvalidInput,
            "invalid-eck-id",
        ),
        (
            422,
            b'{"type":"urn:regie:problem:invalid-request","detail":"d"}',
            InvalidInput,
            "invalid-request",
        ),
        (
            503,
            b'{"type":"urn:regie:problem:service-unavailable","detail":"d"}',
            NummervoorzieningUnavailable,
            "service-unavailable",
        ),
        (
            500,
            b'{"type":"urn:regie:problem:internal-error","detail":"d"}',
            NummervoorzieningClientError,
            "internal-error",
        ),
        (502, b"<html>Bad Gateway</html>", NummervoorzieningUnavailable, "unexpected-response"),
        (404, b"<html>Not Found</html>", BatchNotFound, "unexpected-response"),
    ],
)
def test_it_maps_problem_details_to_typed_errors(
    status: int, body: bytes, error_class: type[NummervoorzieningClientError], code: str
) -> None:
    error = error_from_response(_response(status, body))
    assert type(error) is error_class
    assert (error.status, error.code) == (status, code)


def test_it_masks_an_identifier_a_server_would_echo() -> None:
    hpgn = "ab" * 32
    body = b'{"type":"urn:regie:problem:invalid-hpgn","detail":"bad value ' + hpgn.encode() + b'"}'
    error = error_from_response(_response(400, body))
    assert hpgn not in str(error)
    assert hpgn not in error.detail


@live
def test_it_is_configured_from_settings(
    live_server: LiveServer, las_client: tuple[Client, str], settings: LazySettings
) -> None:
    settings.NV_CLIENT_URL = f"{live_server.url}/nummervoorziening/"
    settings.NV_CLIENT_API_KEY = las_client[1]
    settings.NV_CLIENT_TIMEOUT_SECONDS = 5
    client = get_client()
    assert client is get_client()
    assert client.base_url == f"{live_server.url}/nummervoorziening"
    assert [sector.code for sector in client.sectors()]
    settings.NV_CLIENT_API_KEY = "nv_000000000000_revoked"
    assert get_client() is not client
    with pytest.raises(AuthenticationFailed):
        get_client().sectors()


@live
def test_it_logs_no_identifier(
    nv: NummervoorzieningClient, rng: random.Random, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    hpgn = make_hpgn(rng)
    stampseudonym = nv.stampseudonym(hpgn)
    with pytest.raises(InvalidInput):
        nv.eck_id(stampseudonym, CHAIN, "urn:no-such-sector")
    batch_id = nv.submit_stampseudonym_batch([hpgn, hpgn[:10]])
    process_all()
    nv.retrieve_batch(batch_id)
    assert "nv.client.batch_retrieved" in caplog.text
    for value in (hpgn, hpgn[:10], stampseudonym, stampseudonym.rsplit("/", 1)[1]):
        assert value not in caplog.text
