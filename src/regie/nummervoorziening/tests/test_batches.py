"""Batch semantics: submit, not finished, results by index, retrieved once, expiry, quota, size."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from regie.conftest import make_hpgn
from regie.nummervoorziening import services
from regie.nummervoorziening.errors import (
    AlreadyRetrieved,
    BatchNotFound,
    BatchTooLarge,
    ContentRemoved,
    InvalidInput,
    NotFinished,
    QuotaExceeded,
    UnknownChain,
    UnknownSector,
)
from regie.nummervoorziening.models import Batch, BatchChunk, BatchKind, BatchStatus, Client

pytestmark = pytest.mark.django_db

CHAIN = "http://purl.edustandaard.nl/begrippenkader/e7ec7d3c-c235-4513-bfb6-e54e66854795"
PO = "http://purl.edustandaard.nl/begrippenkader/512e4729-03a4-43a2-95ba-758071d1b725"


def work_off() -> None:
    while services.process_next_chunk("test-worker"):
        pass


def test_it_returns_successes_and_failures_by_index(
    las_client: tuple[Client, str], rng: random.Random
) -> None:
    client, _ = las_client
    good = {index: make_hpgn(rng) for index in (3, 7, 12)}
    items = [*good.items(), (5, "not-an-hpgn"), (9, "F" * 64)]
    batch = services.submit_batch(client, BatchKind.STAMPSEUDONYM, items)

    with pytest.raises(NotFinished):
        services.retrieve_batch(client, batch.pk)
    work_off()
    result = services.retrieve_batch(client, batch.pk)

    assert [index for index, _ in result.success] == [3, 7, 12]
    for index, value in result.success:
        assert value == services.retrieve_stampseudonym(client, good[index])
    assert [index for index, _ in result.failed] == [5, 9]
    assert all("HPgn" in message for _, message in result.failed)


def test_it_hands_results_out_once_and_deletes_them(
    las_client: tuple[Client, str], rng: random.Random
) -> None:
    client, _ = las_client
    batch = services.submit_batch(client, BatchKind.STAMPSEUDONYM, [(1, make_hpgn(rng))])
    work_off()
    services.retrieve_batch(client, batch.pk)

    with pytest.raises(AlreadyRetrieved):
        services.retrieve_batch(client, batch.pk)
    assert not BatchChunk.objects.filter(batch=batch).exists()
    assert Batch.objects.get(pk=batch.pk).status == BatchStatus.RETRIEVED


def test_it_forgets_items_once_processed(
    las_client: tuple[Client, str], rng: random.Random
) -> None:
    client, _ = las_client
    hpgn = make_hpgn(rng)
    batch = services.submit_batch(client, BatchKind.STAMPSEUDONYM, [(1, hpgn)])
    assert hpgn.encode() in bytes(BatchChunk.objects.get(batch=batch).items)
    work_off()
    chunk = BatchChunk.objects.get(batch=batch)
    assert hpgn.encode() not in bytes(chunk.items) + bytes(chunk.results or b"")


def test_it_removes_expired_batches(las_client: tuple[Client, str], rng: random.Random) -> None:
    client, _ = las_client
    batch = services.submit_batch(client, BatchKind.STAMPSEUDONYM, [(1, make_hpgn(rng))])
    work_off()
    Batch.objects.filter(pk=batch.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(ContentRemoved):
        services.retrieve_batch(client, batch.pk)
    with pytest.raises(ContentRemoved):
        services.retrieve_batch(client, batch.pk)
    assert not BatchChunk.objects.filter(batch=batch).exists()


def test_the_worker_purges_expired_batches(
    las_client: tuple[Client, str], rng: random.Random
) -> None:
    client, _ = las_client
    batch = services.submit_batch(client, BatchKind.STAMPSEUDONYM, [(1, make_hpgn(rng))])
    Batch.objects.filter(pk=batch.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert services.purge_expired() == 1
    assert Batch.objects.get(pk=batch.pk).status == BatchStatus.REMOVED
    assert not BatchChunk.objects.exists()


def test_it_refuses_unknown_and_other_clients_batches(
    las_client: tuple[Client, str], other_client: tuple[Client, str], rng: random.Random
) -> None:
    client, _ = las_client
    other, _ = other_client
    batch = services.submit_batch(client, BatchKind.STAMPSEUDONYM, [(1, make_hpgn(rng))])
    work_off()
    for batch_id in ("not-a-uuid", "6b1c6a57-3f1e-4f4c-9d55-9e0f5e3c2a11", str(batch.pk)):
        with pytest.raises(BatchNotFound):
            services.retrieve_batch(other, batch_id)
    assert services.retrieve_batch(client, batch.pk).success


def test_it_enforces_the_daily_quota(las_client: tuple[Client, str], rng: random.Random) -> None:
    client, _ = las_client
    client.daily_batch_quota = 2
    client.save()
    for _ in range(2):
        services.submit_batch(client, BatchKind.STAMPSEUDONYM, [(1, make_hpgn(rng))])
    with pytest.raises(QuotaExceeded):
        services.submit_batch(client, BatchKind.STAMPSEUDONYM, [(1, make_hpgn(rng))])
    assert Batch.objects.count() == 2
    Batch.objects.update(created_at=timezone.now() - timedelta(days=1))
    services.submit_batch(client, BatchKind.STAMPSEUDONYM, [(1, make_hpgn(rng))])


@override_settings(NV_BATCH_MAX_ITEMS=3)
def test_it_refuses_an_oversized_batch_whole(
    las_client: tuple[Client, str], rng: random.Random
) -> None:
    client, _ = las_client
    with pytest.raises(BatchTooLarge, match="at most 3"):
        services.submit_batch(
            client, BatchKind.STAMPSEUDONYM, [(i, make_hpgn(rng)) for i in range(4)]
        )
    assert not Batch.objects.exists()


@pytest.mark.parametrize(
    ("items", "code"),
    [([], "empty-batch"), ([(1, "a" * 64), (1, "b" * 64)], "duplicate-index")],
)
def test_it_refuses_malformed_batches(
    las_client: tuple[Client, str], items: list[tuple[int, str]], code: str
) -> None:
    client, _ = las_client
    with pytest.raises(InvalidInput) as caught:
        services.submit_batch(client, BatchKind.STAMPSEUDONYM, items)
    assert caught.value.code == code
    assert not Batch.objects.exists()


def test_it_refuses_unknown_chains_and_sectors(hub_client: tuple[Client, str]) -> None:
    client, _ = hub_client
    item = [(1, "x")]
    with pytest.raises(UnknownChain):
        services.submit_batch(client, BatchKind.ECK_ID, item, chain_id="urn:nope", sector_id=PO)
    with pytest.raises(UnknownSector):
        services.submit_batch(client, BatchKind.ECK_ID, item, chain_id=CHAIN, sector_id="urn:nope")
    with pytest.raises(InvalidInput, match="supplierId"):
        services.submit_batch(client, BatchKind.SUPPLIER, item, supplier_id="acme", sector_id=PO)
    assert not Batch.objects.exists()


@override_settings(NV_BATCH_CHUNK_SIZE=7)
def test_it_runs_eck_id_and_supplier_batches_across_chunks(
    hub_client: tuple[Client, str], rng: random.Random
) -> None:
    client, _ = hub_client
    stampseudonyms = [services.retrieve_stampseudonym(client, make_hpgn(rng)) for _ in range(20)]
    batch = services.submit_batch(
        client, BatchKind.ECK_ID, list(enumerate(stampseudonyms)), chain_id=CHAIN, sector_id=PO
    )
    assert BatchChunk.objects.filter(batch=batch).count() == 3
    work_off()
    eck_ids = services.retrieve_batch(client, batch.pk).success
    assert eck_ids == [
        (i, services.retrieve_eck_id(client, sp, CHAIN, PO)) for i, sp in enumerate(stampseudonyms)
    ]

    batch = services.submit_batch(
        client, BatchKind.SUPPLIER, eck_ids, supplier_id="12345678", sector_id=PO
    )
    work_off()
    suppliers = services.retrieve_batch(client, batch.pk)
    assert len(suppliers.success) == 20
    assert not suppliers.failed
    assert suppliers.success[4][1] == services.retrieve_supplier_pseudonym(
        client, eck_ids[4][1], "12345678", PO
    )


def test_a_lost_lease_is_taken_over_and_done_once(
    las_client: tuple[Client, str], rng: random.Random
) -> None:
    client, _ = las_client
    batch = services.submit_batch(client, BatchKind.STAMPSEUDONYM, [(1, make_hpgn(rng))])
    claimed = services.claim_chunk("crashed-worker")
    assert claimed is not None
    assert services.process_next_chunk("second-worker") is False  # still leased
    BatchChunk.objects.update(lease_until=timezone.now() - timedelta(seconds=1))
    assert services.process_next_chunk("second-worker") is True
    result = services.retrieve_batch(client, batch.pk)
    assert [index for index, _ in result.success] == [1]


def test_a_refused_batch_is_audited(las_client: tuple[Client, str], rng: random.Random) -> None:
    from regie.audit.models import AuditEvent

    client, _ = las_client
    client.daily_batch_quota = 0
    client.save()
    with pytest.raises(QuotaExceeded):
        services.submit_batch(client, BatchKind.STAMPSEUDONYM, [(1, make_hpgn(rng))])
    assert AuditEvent.objects.filter(event_type="nummervoorziening.quota.exceeded").count() == 1
