"""Faults: a worker killed mid-batch loses and duplicates nothing; bad keys stop the service."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from django.test import override_settings

from regie.conftest import free_port, make_hpgn, regie_command, subprocess_env
from regie.nummervoorziening import services
from regie.nummervoorziening.keys import generate_keyring
from regie.nummervoorziening.models import BatchChunk, BatchKind, Client

ITEMS = 60_000
CHUNK = 100


def wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(
    las_client: tuple[Client, str], keys_dir: Path, rng: random.Random
) -> None:
    client, _ = las_client
    hpgns = [make_hpgn(rng) for _ in range(ITEMS)]
    items = [(index, hpgn if index % 97 else "not-an-hpgn") for index, hpgn in enumerate(hpgns)]
    with override_settings(NV_BATCH_CHUNK_SIZE=CHUNK):
        batch = services.submit_batch(client, BatchKind.STAMPSEUDONYM, items)
    total = BatchChunk.objects.filter(batch=batch).count()
    env = subprocess_env(keys_dir, REGIE_NV_BATCH_LEASE_SECONDS="2")

    first = subprocess.Popen(regie_command("worker", "--id", "doomed"), env=env)
    try:
        wait_for(lambda: BatchChunk.objects.filter(done=True).count() >= 5, 120, "the first chunks")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        first.kill()
    done_at_kill = BatchChunk.objects.filter(done=True).count()
    assert 0 < done_at_kill < total, "the kill must land mid-batch"

    second = subprocess.Popen(regie_command("worker", "--id", "survivor"), env=env)
    try:
        wait_for(
            lambda: not BatchChunk.objects.filter(done=False).exists(), 180, "the rest of the batch"
        )
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(20)

    result = services.retrieve_batch(client, batch.pk)
    indices = Counter(index for index, _ in result.success + result.failed)
    assert set(indices) == set(range(ITEMS))
    assert max(indices.values()) == 1
    assert len(result.failed) == len([index for index in range(ITEMS) if index % 97 == 0])
    for index, value in result.success[::997]:
        assert value == services.retrieve_stampseudonym(client, hpgns[index])


@pytest.mark.parametrize("broken", ["missing", "directory", "garbage"])
def test_the_service_refuses_to_start_without_its_keys(
    tmp_path: Path, broken: str, db: None
) -> None:
    generate_keyring(tmp_path)
    key_file = tmp_path / "eckid-v1.key"
    key_file.unlink()
    if broken == "directory":
        key_file.mkdir()
    elif broken == "garbage":
        key_file.write_text("not a key\n")
    env = subprocess_env(tmp_path)
    completed = subprocess.run(
        regie_command("serve", "--role", "nummervoorziening", "--port", str(free_port())),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode != 0
    assert str(key_file) in completed.stderr
    assert "cannot start" in completed.stderr
