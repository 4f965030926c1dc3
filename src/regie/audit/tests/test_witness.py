"""The witness (C2SP tlog-witness) as a real ``regie witness serve`` process, reached through the
hub's client: it cosigns a log that grows, and refuses a rollback (409), a fork (422), a forged
log signature (403), an unknown log (404) and a malformed request (400); its state survives a
restart, and of two requests from the same old size exactly one wins.

The log here is fictional: RFC 9162 over made-up leaves, checkpoints signed with signed_note.
Cosignatures are checked twice: with signed_note's verifier and with a second, minimal verifier
written from c2sp.org/tlog-cosignature in this file.
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from regie.audit import rfc9162
from regie.audit import signed_note as sn
from regie.audit.witness import (
    SIZE_CONTENT_TYPE,
    SizeConflict,
    State,
    Witness,
    format_add_checkpoint,
    init,
)
from regie.audit.witness_client import Conflict, WitnessRefused, WitnessUnreachable, add_checkpoint
from regie.conftest import free_port, regie_command

ORIGIN = "regie.bestuur-a.example/log"
WITNESS_NAME = "witness.sectorraad.example/w1"


@dataclass
class FictionalLog:
    """A log of made-up leaves: its tree (RFC 9162) and checkpoints signed with its key."""

    signer: sn.Signer = field(default_factory=lambda: sn.generate_signer(ORIGIN))
    leaves: list[bytes] = field(default_factory=list)
    origin: str = ORIGIN

    def grow(self, count: int, tag: str = "event") -> None:
        start = len(self.leaves)
        self.leaves += [f"{tag} {start + i}".encode() for i in range(count)]

    def perfect(self, level: int, index: int) -> bytes:
        width = 1 << level
        return rfc9162.root(
            rfc9162.leaf_hash(leaf) for leaf in self.leaves[index * width : (index + 1) * width]
        )

    def root(self, size: int) -> bytes:
        return rfc9162.tree_root(size, self.perfect)

    def checkpoint(self, size: int | None = None, *signers: sn.Signer) -> bytes:
        size = len(self.leaves) if size is None else size
        text = sn.Checkpoint(self.origin, size, self.root(size)).text()
        return sn.sign_note(text, *(signers or (self.signer,)))

    def proof(self, old: int, new: int | None = None) -> list[bytes]:
        new = len(self.leaves) if new is None else new
        return rfc9162.consistency_proof(old, new, self.perfect)

    @property
    def vkey(self) -> str:
        return self.signer.verifier.vkey


def independent_cosignature_check(line: str, vkey: str, checkpoint_text: bytes) -> int:
    """Written from c2sp.org/tlog-cosignature alone: the vkey is ``name+id+base64(0x04 ‖ key)``,
    the key ID ``SHA-256(name ‖ "\\n" ‖ 0x04 ‖ key)[:4]``, the signature ``key ID ‖ u64 BE
    timestamp ‖ Ed25519 signature`` over ``cosignature/v1\\ntime T\\n`` and the checkpoint body.
    Returns the timestamp; raises AssertionError or InvalidSignature."""
    name, hex_id, material = vkey.split("+", 2)  # base64 may hold "+"
    raw = base64.b64decode(material)
    assert raw[0] == 0x04
    assert len(raw) == 33
    expected_id = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    assert expected_id.hex() == hex_id
    dash, line_name, encoded = line.rstrip("\n").split(" ")
    assert dash == "\u2014"
    assert line_name == name
    signature = base64.b64decode(encoded)
    assert signature[:4] == expected_id
    assert len(signature) == 4 + 8 + 64
    timestamp = int.from_bytes(signature[4:12], "big")
    assert timestamp > 0
    message = b"cosignature/v1\ntime " + str(timestamp).encode() + b"\n" + checkpoint_text
    Ed25519PublicKey.from_public_bytes(raw[1:]).verify(signature[12:], message)
    return timestamp


# --- In process: the state's compare-and-swap and the cosignature's format ------------------


def test_two_advances_from_the_same_latest_state_cannot_both_succeed(tmp_path: Path) -> None:
    state = State(tmp_path / "state.sqlite3")
    state.create()
    state.add_log(ORIGIN, FictionalLog().vkey)
    latest = state.log(ORIGIN)
    assert latest is not None
    assert latest.size == 0
    with state.transaction() as connection:
        assert State.advance(connection, latest, 5, b"5" * 32, b"note", 1)
    with state.transaction() as connection:
        assert not State.advance(connection, latest, 7, b"7" * 32, b"note", 2)
    after = state.log(ORIGIN)
    assert after is not None
    assert (after.size, after.root) == (5, b"5" * 32)


def test_its_cosignature_verifies_with_signed_note_and_an_independent_verifier(
    tmp_path: Path,
) -> None:
    vkey = init(tmp_path, WITNESS_NAME)
    witness = Witness.load(tmp_path)
    log = FictionalLog()
    witness.state.add_log(ORIGIN, log.vkey)
    log.grow(3)
    note = log.checkpoint()
    line = witness.add_checkpoint(format_add_checkpoint(0, [], note), now=1_767_225_600)

    cosigned = sn.add_signatures(note, [line])
    opened = sn.open_note(cosigned, [sn.verifier_from_vkey(vkey)])
    assert [v.vkey for v in opened.verified_by] == [vkey]
    text = sn.parse_note(note).text
    assert independent_cosignature_check(line, vkey, text) == 1_767_225_600
    with pytest.raises(InvalidSignature):
        independent_cosignature_check(line, vkey, text.replace(b"\n3\n", b"\n4\n"))
    assert (tmp_path / "witness.key").stat().st_mode & 0o777 == 0o600


def test_a_rolled_back_size_is_a_conflict_with_the_latest_size(tmp_path: Path) -> None:
    init(tmp_path, WITNESS_NAME)
    witness = Witness.load(tmp_path)
    log = FictionalLog()
    witness.state.add_log(ORIGIN, log.vkey)
    log.grow(8)
    witness.add_checkpoint(format_add_checkpoint(0, [], log.checkpoint()))
    log.grow(2)
    with pytest.raises(SizeConflict) as conflict:
        witness.add_checkpoint(format_add_checkpoint(4, log.proof(4), log.checkpoint()))
    assert conflict.value.size == 8


# --- A real witness process -----------------------------------------------------------------


@dataclass
class RunningWitness:
    url: str
    state: Path
    vkey: str
    log_path: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.process.terminate()
        assert self.process.wait(30) == 0, self.log_path.read_text()

    def latest(self, origin: str = ORIGIN) -> bytes | None:
        digest = hashlib.sha256(origin.encode()).hexdigest()
        answer = httpx.get(f"{self.url}/{digest}/checkpoint")
        return answer.content if answer.status_code == 200 else None


def run_witness_command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        regie_command("witness", *args), capture_output=True, text=True, timeout=60, check=False
    )


def serve_witness(state: Path, vkey: str, log_path: Path) -> RunningWitness:
    port = free_port()
    with log_path.open("ab") as handle:
        process = subprocess.Popen(
            regie_command("witness", "serve", "--state", str(state), "--port", str(port)),
            stdout=handle,
            stderr=handle,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(url + "/").text == vkey + "\n":
                return RunningWitness(url, state, vkey, log_path, process)
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(f"the witness did not start: {log_path.read_text()}")


@pytest.fixture
def log() -> FictionalLog:
    return FictionalLog()


@pytest.fixture
def witness(tmp_path: Path, log: FictionalLog) -> Iterator[RunningWitness]:
    state = tmp_path / "witness"
    made = run_witness_command("init", "--name", WITNESS_NAME, "--state", str(state))
    assert made.returncode == 0, made.stderr
    vkey = made.stdout.strip()
    added = run_witness_command(
        "add-log", "--origin", ORIGIN, "--key", log.vkey, "--state", str(state)
    )
    assert added.returncode == 0, added.stderr
    running = serve_witness(state, vkey, tmp_path / "witness.log")
    yield running
    if running.process.poll() is None:
        running.stop()


def cosign(witness: RunningWitness, log: FictionalLog, old: int) -> list[str]:
    answer = add_checkpoint(witness.url, old, log.proof(old), log.checkpoint())
    assert isinstance(answer, list), answer
    return answer


@pytest.mark.slow
def test_it_cosigns_each_step_of_a_growing_log(witness: RunningWitness, log: FictionalLog) -> None:
    witness_key = sn.verifier_from_vkey(witness.vkey)
    old = 0
    for step in (1, 2, 5, 64, 1, 300):
        log.grow(step)
        lines = cosign(witness, log, old)
        note = log.checkpoint()
        cosigned = sn.add_signatures(note, lines)
        checkpoint, _ = sn.open_checkpoint(cosigned, log.signer.verifier, [witness_key])
        assert checkpoint.size == len(log.leaves)
        for line in lines:
            independent_cosignature_check(line, witness.vkey, sn.parse_note(note).text)
        old = len(log.leaves)
    # The monitoring URL serves the latest: the log's signature and the witness's cosignature.
    latest = witness.latest()
    assert latest is not None
    checkpoint, _ = sn.open_checkpoint(latest, log.signer.verifier, [witness_key])
    assert (checkpoint.size, checkpoint.root_hash) == (old, log.root(old))


@pytest.mark.slow
def test_the_same_checkpoint_again_is_cosigned_again(
    witness: RunningWitness, log: FictionalLog
) -> None:
    log.grow(10)
    cosign(witness, log, 0)
    assert len(cosign(witness, log, 10)) == 1


@pytest.mark.slow
def test_a_rollback_is_refused_with_the_witness_size(
    witness: RunningWitness, log: FictionalLog
) -> None:
    log.grow(20)
    cosign(witness, log, 0)
    # The log was truncated to 12 leaves and grew again: it claims the witness saw 12.
    truncated = FictionalLog(signer=log.signer, leaves=log.leaves[:12])
    truncated.grow(3, tag="rewritten")
    assert add_checkpoint(witness.url, 12, truncated.proof(12), truncated.checkpoint()) == Conflict(
        20
    )
    # A smaller checkpoint sent from the witness's own size is malformed (old above new).
    with pytest.raises(WitnessRefused) as refused:
        add_checkpoint(witness.url, 20, [], truncated.checkpoint())
    assert refused.value.status == 400
    raw = httpx.post(
        witness.url + "/add-checkpoint",
        content=format_add_checkpoint(12, truncated.proof(12), truncated.checkpoint()),
    )
    assert (raw.status_code, raw.headers["content-type"], raw.text) == (
        409,
        SIZE_CONTENT_TYPE,
        "20\n",
    )


@pytest.mark.slow
def test_a_fork_is_refused_and_the_state_stays(witness: RunningWitness, log: FictionalLog) -> None:
    log.grow(10)
    cosign(witness, log, 0)
    before = witness.latest()
    # Another tree of the same size (leaf 7 rewritten behind the log's back).
    forked = FictionalLog(signer=log.signer, leaves=list(log.leaves))
    forked.leaves[7] = b"rewritten 7"
    with pytest.raises(WitnessRefused) as same_size:
        add_checkpoint(witness.url, 10, [], forked.checkpoint())
    assert same_size.value.status == 422
    # The other tree grown further, with its own (valid) proof from its own 10 leaves.
    forked.grow(6)
    with pytest.raises(WitnessRefused) as grown:
        add_checkpoint(witness.url, 10, forked.proof(10), forked.checkpoint())
    assert grown.value.status == 422
    assert "consistency proof does not verify" in grown.value.reason
    # A proof from the honest log but for another size.
    log.grow(6)
    with pytest.raises(WitnessRefused) as other_size:
        add_checkpoint(witness.url, 10, log.proof(9), log.checkpoint())
    assert other_size.value.status == 422
    assert witness.latest() == before
    # The refused checkpoints are kept as evidence; the honest log goes on.
    assert len(State(witness.state / "witness.sqlite3").refused(ORIGIN)) == 3
    assert len(cosign(witness, log, 10)) == 1


@pytest.mark.slow
def test_a_forged_log_signature_is_forbidden(witness: RunningWitness, log: FictionalLog) -> None:
    log.grow(4)
    impostor = sn.generate_signer(ORIGIN)  # same name, other key: an unknown key, ignored
    with pytest.raises(WitnessRefused) as unknown_key:
        add_checkpoint(witness.url, 0, [], log.checkpoint(None, impostor))
    assert unknown_key.value.status == 403
    # The log's own key name and ID, with a signature that does not verify.
    genuine = log.checkpoint()
    text = sn.parse_note(genuine).text
    forged = genuine.replace(text, text.replace(b"\n4\n", b"\n5\n"))
    with pytest.raises(WitnessRefused) as bad_signature:
        add_checkpoint(witness.url, 0, [], forged)
    assert bad_signature.value.status == 403
    assert witness.latest() is None


@pytest.mark.slow
def test_an_unknown_log_is_not_found(witness: RunningWitness) -> None:
    stranger = FictionalLog(origin="regie.bestuur-z.example/log")
    stranger.signer = sn.generate_signer(stranger.origin)
    stranger.grow(2)
    with pytest.raises(WitnessRefused) as refused:
        add_checkpoint(witness.url, 0, [], stranger.checkpoint())
    assert refused.value.status == 404


@pytest.mark.slow
@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "no empty line"),
        (b"old 01\n\n{note}", "'old <size>'"),
        (b"old -1\n\n{note}", "'old <size>'"),
        (b"new 0\n\n{note}", "'old <size>'"),
        (b"old 0\nnot base64!\n\n{note}", "line 2 is not a base64 hash"),
        (b"old 0\nAAAA\n\n{note}", "line 2 is not a 32-byte hash"),
        (b"old 0\n" + (b"A" * 43 + b"=\n") * 64 + b"\n{note}", "more than 63 lines"),
        (b"old 0\n\nregie.bestuur-a.example/log\n3\n", "checkpoint is malformed"),
        (b"old 0\n\nregie.bestuur-a.example/log\nthree\nAAAA\n\n{signature}", "malformed"),
        (b"old 9\n\n{note}", "old size is larger than the checkpoint's"),
    ],
)
def test_a_malformed_request_is_a_bad_request_saying_why(
    witness: RunningWitness, log: FictionalLog, body: bytes, reason: str
) -> None:
    log.grow(3)
    note = log.checkpoint()
    signature = note[note.index(b"\n\n") + 2 :]
    body = body.replace(b"{note}", note).replace(b"{signature}", signature)
    answer = httpx.post(witness.url + "/add-checkpoint", content=body)
    assert answer.status_code == 400
    assert reason in answer.text
    assert answer.text.count("\n") == 1
    assert witness.latest() is None


@pytest.mark.slow
def test_only_post_is_allowed_on_add_checkpoint(witness: RunningWitness) -> None:
    answer = httpx.get(witness.url + "/add-checkpoint")
    assert (answer.status_code, answer.headers["allow"]) == (405, "POST")


@pytest.mark.slow
def test_its_state_survives_a_restart(
    witness: RunningWitness, log: FictionalLog, tmp_path: Path
) -> None:
    log.grow(5)
    cosign(witness, log, 0)
    witness.stop()
    again = serve_witness(witness.state, witness.vkey, witness.log_path)
    try:
        log.grow(5)
        assert add_checkpoint(again.url, 0, [], log.checkpoint()) == Conflict(5)
        assert len(cosign(again, log, 5)) == 1
        latest = again.latest()
        assert latest is not None
        assert sn.parse_checkpoint(sn.parse_note(latest).text).size == 10
    finally:
        again.stop()


@pytest.mark.slow
def test_of_two_requests_from_the_same_old_size_exactly_one_wins(
    witness: RunningWitness, log: FictionalLog
) -> None:
    log.grow(16)
    cosign(witness, log, 0)
    short = FictionalLog(signer=log.signer, leaves=list(log.leaves))
    short.grow(4)
    long = FictionalLog(signer=log.signer, leaves=list(short.leaves))
    long.grow(12)
    start = threading.Barrier(2)
    answers: dict[int, list[str] | Conflict] = {}

    def send(candidate: FictionalLog) -> None:
        with httpx.Client() as client:
            body = (witness.url, 16, candidate.proof(16), candidate.checkpoint())
            start.wait()
            answers[len(candidate.leaves)] = add_checkpoint(*body, client=client)

    threads = [threading.Thread(target=send, args=(c,)) for c in (short, long)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [size for size, answer in answers.items() if isinstance(answer, list)]
    assert len(winners) == 1, answers
    [loser] = set(answers) - set(winners)
    assert answers[loser] == Conflict(winners[0])
    latest = witness.latest()
    assert latest is not None
    assert sn.parse_checkpoint(sn.parse_note(latest).text).size == winners[0]


def test_the_client_says_when_no_witness_answers() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(WitnessUnreachable, match="cannot be reached"):
        add_checkpoint(f"http://127.0.0.1:{port}", 0, [], FictionalLog().checkpoint(0))


@pytest.mark.parametrize(
    ("status", "headers", "body", "says"),
    [
        (409, {"content-type": "text/plain"}, b"12\n", "without its size"),
        (409, {"content-type": SIZE_CONTENT_TYPE}, b"twelve\n", "without its size"),
        (200, {}, b"no signature here\n", "not a list of signature lines"),
        (200, {}, b"", "does not end in a newline"),
        (503, {}, b"", "answered 503: no reason given"),
    ],
)
def test_the_client_refuses_an_answer_outside_the_protocol(
    status: int, headers: dict[str, str], body: bytes, says: str
) -> None:
    def witness(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/w/add-checkpoint"
        return httpx.Response(status, headers=headers, content=body)

    with (
        httpx.Client(transport=httpx.MockTransport(witness)) as client,
        pytest.raises(WitnessRefused, match=says),
    ):
        add_checkpoint("http://witness.example/w/", 0, [], b"note", client=client)
