"""Publishing the log: the hub signs checkpoints that verify, sends them to a real witness
process, which cosigns each one that extends what it saw; and the hub never signs a log that does
not extend its own last checkpoint."""

from __future__ import annotations

import base64
import threading
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.test import Client
from django.urls import reverse

from regie.audit import log, rfc9162, signed_note
from regie.audit.events import ADMIN_SAVED
from regie.audit.services import SYSTEM, record

from .. import keys, services
from ..models import Checkpoint, Witness
from .witnesses import WitnessProcess

pytestmark = pytest.mark.django_db


def record_some(count: int, start: int = 0) -> None:
    for number in range(start, start + count):
        record(ADMIN_SAVED, SYSTEM, f"school:{number}", {"created": True, "fields": []})


def add(witness: WitnessProcess) -> Witness:
    return Witness.objects.create(url=witness.url, vkey=witness.vkey)


def test_a_checkpoint_is_signed_when_the_log_grew_and_only_then(log_key: str) -> None:
    record_some(5)
    first = services.publish()
    verifier = signed_note.verifier_from_vkey(log_key)
    checkpoint, _note = signed_note.open_checkpoint(first.cosigned(), verifier)
    assert checkpoint.origin == keys.origin() == "hub.regie.example/log"
    assert checkpoint.size == log.size() >= 5
    assert checkpoint.root_hash == log.root(checkpoint.size)

    assert services.publish().pk == first.pk  # nothing new: the same checkpoint
    record_some(3, start=5)
    second = services.publish()
    assert second.size == first.size + 3
    assert Checkpoint.objects.count() == 2


def test_a_witness_cosigns_every_checkpoint_that_extends_the_last(
    log_key: str, witness: WitnessProcess
) -> None:
    add(witness)
    witness_key = signed_note.verifier_from_vkey(witness.vkey)
    log_verifier = signed_note.verifier_from_vkey(log_key)
    for round_ in range(3):
        record_some(4 + round_, start=10 * round_)
        published = services.publish()
        checkpoint, note = signed_note.open_checkpoint(
            published.cosigned(), log_verifier, [witness_key]
        )
        assert checkpoint.size == log.size()
        assert witness_key in note.verified_by
    stored = Witness.objects.get()
    assert stored.size == log.size()
    assert stored.failure == ""


def test_the_published_checkpoint_and_keys_are_public(
    client: Client, log_key: str, witness: WitnessProcess
) -> None:
    assert client.get(reverse("transparency:checkpoint")).status_code == 404
    add(witness)
    record_some(3)
    services.publish()
    response = client.get(reverse("transparency:checkpoint"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    signed_note.open_checkpoint(
        response.content,
        signed_note.verifier_from_vkey(log_key),
        [signed_note.verifier_from_vkey(witness.vkey)],
    )
    listed = client.get(reverse("transparency:keys")).content.decode().splitlines()
    assert listed == [log_key, witness.vkey]
    page = client.get(reverse("transparency:index")).content.decode()
    assert "witness.regie.example/w1" in page


def test_a_witness_that_is_down_is_flagged_and_catches_up_later(
    log_key: str, witness: WitnessProcess
) -> None:
    stored = add(witness)
    record_some(3)
    services.publish()
    witness.stop()
    record_some(3, start=3)
    services.publish()
    stored.refresh_from_db()
    assert stored.failure.startswith("not reached")
    assert not stored.refused
    assert services.health().unreachable == [stored]

    witness.start()
    record_some(2, start=6)
    published = services.publish()
    stored.refresh_from_db()
    assert stored.failure == ""
    assert stored.size == published.size == log.size()


def test_proofs_from_the_api_verify_against_the_checkpoint(client: Client, log_key: str) -> None:
    record_some(7)
    first = services.publish()
    record_some(6, start=7)
    second = services.publish()

    url = reverse("transparency:inclusion")
    for index in (0, 3, first.size - 1):
        body = client.get(url, {"leaf_index": index, "tree_size": second.size}).json()
        assert body["leaf_index"] == index
        assert body["tree_size"] == second.size
        leaf_hash = base64.b64decode(body["leaf_hash"])
        assert leaf_hash == rfc9162.leaf_hash(log.leaf(index))
        path = [base64.b64decode(item) for item in body["inclusion_path"]]
        rfc9162.verify_inclusion(leaf_hash, index, second.size, path, bytes(second.root_hash))

    body = client.get(
        reverse("transparency:consistency"),
        {"tree_size_1": first.size, "tree_size_2": second.size},
    ).json()
    path = [base64.b64decode(item) for item in body["consistency_path"]]
    rfc9162.verify_consistency(
        first.size, second.size, path, bytes(first.root_hash), bytes(second.root_hash)
    )


@pytest.mark.parametrize(
    ("name", "query", "fragment"),
    [
        ("inclusion", {"leaf_index": "x", "tree_size": "3"}, "leaf_index"),
        ("inclusion", {"tree_size": "3"}, "missing"),
        ("inclusion", {"leaf_index": "5", "tree_size": "3"}, "not in a tree of 3"),
        ("inclusion", {"leaf_index": "0", "tree_size": "999999"}, "not 999999"),
        ("consistency", {"tree_size_1": "3", "tree_size_2": "2"}, "from 3 to 2"),
        ("consistency", {"tree_size_1": "-1", "tree_size_2": "2"}, "tree_size_1"),
    ],
)
def test_bad_proof_requests_get_a_clear_problem(
    client: Client, name: str, query: dict[str, str], fragment: str
) -> None:
    record_some(4)
    log.integrate()
    response = client.get(reverse(f"transparency:{name}"), query)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert fragment in response.json()["detail"]


def test_without_its_key_the_hub_signs_nothing_and_says_why(
    settings: LazySettings, tmp_path: Path
) -> None:
    settings.LOG_KEY_FILE = tmp_path / "missing"
    record_some(2)
    with pytest.raises(keys.LogKeyError, match="regie log key"):
        services.publish()
    assert not Checkpoint.objects.exists()


def test_a_key_of_another_origin_is_refused(settings: LazySettings) -> None:
    settings.LOG_ORIGIN = "other.regie.example/log"
    with pytest.raises(keys.LogKeyError, match="origin"):
        keys.signer()


@pytest.mark.django_db(transaction=True)
def test_two_publishers_at_once_sign_one_checkpoint() -> None:
    """The periodic job and an officer's download may publish at the same moment: one
    checkpoint of that size, which both get."""
    from django.db import connection

    record_some(5)
    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def publish() -> None:
        try:
            barrier.wait(10)
            results.append(services.publish().pk)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=publish) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len(results) == 2
    assert len(set(results)) == 1
    assert Checkpoint.objects.count() == 1


def test_without_its_key_the_public_answer_names_no_path_of_the_server(
    client: Client, settings: LazySettings, tmp_path: Path
) -> None:
    settings.LOG_KEY_FILE = tmp_path / "secret-place" / "log-key"
    response = client.get(reverse("transparency:keys"))
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert "secret-place" not in response.content.decode()
    assert "signing key is not available" in response.json()["detail"]
