"""``regie-verify`` run as a parent or a supervisor would run it: the console script in a
subprocess, on exports, checkpoints, proofs and bundles this test builds with the same modules the
hub uses (``leaves``, ``rfc9162``, ``signed_note``) — and on copies tampered with in every way the
issue names."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import io
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regie.audit import rfc9162, verify
from regie.audit import signed_note as sn
from regie.audit.leaves import (
    ERASED,
    details_commitment,
    leaf_bytes,
    new_salt,
)

SCRIPT = Path(sys.executable).parent / "regie-verify"
ORIGIN = "hub.school.example/audit"
SUBJECT_KEY = b"test subject key, not the hub's"
START = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
COSIGNED_AT = int(datetime(2026, 12, 5, tzinfo=UTC).timestamp())


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=60, check=False
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def subject_hash(subject: str) -> str:
    if not subject:
        return ""
    return hmac.new(SUBJECT_KEY, b"regie-audit-subject" + subject.encode(), "sha256").hexdigest()


@dataclass
class Entry:
    leaf: bytes
    event: dict[str, Any] | None


@dataclass
class Log:
    """A log as the hub keeps it: leaves, side rows, the log's key and a witness's key."""

    signer: sn.Signer = field(default_factory=lambda: sn.generate_signer(ORIGIN))
    witness: sn.Signer = field(
        default_factory=lambda: sn.generate_signer("witness.board.example/w1", cosigner=True)
    )
    entries: list[Entry] = field(default_factory=list)

    def record(
        self, event_type: str, actor: str, subject: str = "", details: dict[str, Any] | None = None
    ) -> int:
        details = details or {}
        salt = new_salt()
        moment = START + timedelta(minutes=len(self.entries))
        commitment = details_commitment(actor, subject, details, salt)
        leaf = leaf_bytes(event_type, moment, actor, subject_hash(subject), commitment)
        event = {"actor": actor, "subject": subject, "details": details, "salt": salt}
        self.entries.append(Entry(leaf, event))
        return len(self.entries) - 1

    def erase(self, subject: str) -> int:
        count = 0
        for entry in self.entries:
            if entry.event is not None and entry.event["subject"] == subject:
                entry.event = None
                count += 1
        return self.record(ERASED, "user:7", subject, {"count": count})

    def perfect(self, level: int, index: int) -> bytes:
        start = index << level
        return rfc9162.root(
            rfc9162.leaf_hash(entry.leaf) for entry in self.entries[start : start + (1 << level)]
        )

    def root(self, size: int | None = None) -> bytes:
        size = len(self.entries) if size is None else size
        return rfc9162.tree_root(size, self.perfect)

    def checkpoint(self, size: int | None = None, *, cosigned: bool = True) -> bytes:
        size = len(self.entries) if size is None else size
        text = sn.Checkpoint(ORIGIN, size, self.root(size)).text()
        note = sn.sign_note(text, self.signer)
        if cosigned:
            assert isinstance(self.witness, sn.CosignatureSigner)
            note = sn.add_signatures(note, [self.witness.cosign(text, COSIGNED_AT)])
        return note

    def export_lines(self, checkpoint: bytes | None = None) -> list[str]:
        note = (checkpoint or self.checkpoint()).decode()
        lines = [json.dumps({"format": "regie-log-export/v1", "checkpoint": note})]
        for index, entry in enumerate(self.entries):
            line = {"index": index, "leaf": entry.leaf.decode(), "event": entry.event}
            lines.append(json.dumps(line, ensure_ascii=False))
        return lines

    def inclusion(self, index: int, size: int | None = None) -> dict[str, Any]:
        size = len(self.entries) if size is None else size
        path = rfc9162.inclusion_proof(index, size, self.perfect)
        return {
            "leaf_index": index,
            "tree_size": size,
            "leaf_hash": b64(rfc9162.leaf_hash(self.entries[index].leaf)),
            "inclusion_path": [b64(item) for item in path],
        }

    def bundle(self, index: int) -> dict[str, Any]:
        size = len(self.entries)
        return {
            "format": "regie-log-proof/v1",
            "origin": ORIGIN,
            "leaf_index": index,
            "leaf": self.entries[index].leaf.decode(),
            "event": self.entries[index].event,
            "tree_size": size,
            "inclusion_path": self.inclusion(index)["inclusion_path"],
            "checkpoint": self.checkpoint().decode(),
            "log_key": self.log_key,
            "witness_keys": [self.witness_key],
        }

    @property
    def log_key(self) -> str:
        return self.signer.verifier.vkey

    @property
    def witness_key(self) -> str:
        return self.witness.verifier.vkey

    def keys(self) -> list[str]:
        return ["--log-key", self.log_key, "--witness-key", self.witness_key]


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def school_log() -> Log:
    """Ten events of a school's day: logins, releases, an import, an admin change."""
    log = Log()
    log.record("auth.login", "user:7")
    log.record("gateway.release", "client:3", "student:101", {"scope": "roster-core.readonly"})
    log.record("gateway.release", "client:3", "student:102", {"scope": "roster-core.readonly"})
    log.record("auth.login_failed", "anonymous", "", {"reason": "bad password"})
    log.record("consent.given", "user:8", "student:101", {"purpose": "leerlingvolgsysteem"})
    log.record("admin.saved", "user:7", "school:1", {"model": "School", "fields": ["name"]})
    log.record("imports.finished", "system", "", {"rows": 412})
    log.record("gateway.refused", "client:4", "student:102", {"reason": "no licence"})
    log.record("orders.received", "nv-client:00000001000000000001", "student:103", {"n": 1})
    log.record("auth.logout", "user:7")
    return log


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def audit(
    tmp_path: Path, log: Log, lines: list[str], *keys: str
) -> subprocess.CompletedProcess[str]:
    return run("audit", write(tmp_path / "export.jsonl", lines), *(keys or log.keys()))


def failures(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in done.stdout.splitlines() if not line.startswith(("NOT ", "  "))]


# -- the export audit -----------------------------------------------------------------------------


def test_an_untouched_export_verifies(tmp_path: Path) -> None:
    log = school_log()
    done = audit(tmp_path, log, log.export_lines())
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("VERIFIED: all 10 leaves and their side rows\n")
    assert f"co-signed:   {log.witness_key} at 2026-12-05 00:00:00 UTC" in done.stdout


def test_the_keys_can_come_from_the_hubs_key_list(tmp_path: Path) -> None:
    log = school_log()
    keys = write(tmp_path / "keys.txt", [log.log_key, log.witness_key])
    done = audit(tmp_path, log, log.export_lines(), "--keys", str(keys))
    assert done.returncode == 0, done.stdout + done.stderr
    assert log.witness_key in done.stdout
    other = Log()
    keys = write(tmp_path / "keys.txt", [log.log_key, other.witness_key])
    done = audit(tmp_path, log, log.export_lines(), "--keys", str(keys))
    assert done.returncode == 1
    assert "no cosignature from witness.board.example/w1" in done.stdout


def test_one_changed_byte_in_a_leaf_is_found(tmp_path: Path) -> None:
    log = school_log()
    lines = log.export_lines()
    # The time of leaf 4 moves one minute: still a canonical leaf, but not the one in the tree.
    lines[5] = lines[5].replace("T08:04:00", "T08:05:00")
    done = audit(tmp_path, log, lines)
    assert done.returncode == 1
    assert failures(done) == [
        "the root hash over the 10 leaves is not the checkpoint's: a leaf was changed, deleted,"
        " inserted or moved"
    ]


def test_one_changed_byte_in_a_leafs_commitment_names_the_leaf(tmp_path: Path) -> None:
    log = school_log()
    lines = log.export_lines()
    digit = json.loads(lines[3])["leaf"].split('"details":"')[1][0]
    lines[3] = lines[3].replace(
        f'details\\":\\"{digit}', f'details\\":\\"{"0" if digit != "0" else "1"}'
    )
    done = audit(tmp_path, log, lines)
    assert done.returncode == 1
    assert failures(done)[0] == "leaf 2: the side row does not open the leaf's details commitment"
    assert "root hash" in failures(done)[1]


def test_a_deleted_leaf_is_found(tmp_path: Path) -> None:
    log = school_log()
    lines = log.export_lines()
    del lines[4]
    done = audit(tmp_path, log, lines)
    assert done.returncode == 1
    assert failures(done) == [
        "leaf 3: numbered 4 where 3 was due (deleted, inserted or moved)",
        "the export has 9 leaves, the checkpoint's tree 10",
    ]


def test_an_inserted_leaf_is_found(tmp_path: Path) -> None:
    log = school_log()
    extra = Log(signer=log.signer)
    extra.record("gateway.release", "client:3", "student:104", {"scope": "roster-core.readonly"})
    lines = log.export_lines()
    line = json.loads(extra.export_lines()[1])
    line["index"] = 5
    lines.insert(6, json.dumps(line))
    done = audit(tmp_path, log, lines)
    assert done.returncode == 1
    assert failures(done) == [
        "leaf 6: numbered 5 where 6 was due (deleted, inserted or moved)",
        "the export has 11 leaves, the checkpoint's tree 10",
    ]


def test_an_inserted_leaf_with_the_indices_renumbered_is_found(tmp_path: Path) -> None:
    log = school_log()
    tampered = Log(signer=log.signer, entries=list(log.entries))
    tampered.entries.insert(5, Entry(log.entries[1].leaf, log.entries[1].event))
    lines = tampered.export_lines(log.checkpoint())
    done = audit(tmp_path, log, lines)
    assert done.returncode == 1
    assert failures(done) == ["the export has 11 leaves, the checkpoint's tree 10"]


def test_reordered_leaves_are_found(tmp_path: Path) -> None:
    log = school_log()
    lines = log.export_lines()
    lines[3], lines[4] = lines[4], lines[3]
    done = audit(tmp_path, log, lines)
    assert done.returncode == 1
    assert failures(done)[:2] == [
        "leaf 2: numbered 3 where 2 was due (deleted, inserted or moved)",
        "leaf 3: numbered 2 where 4 was due (deleted, inserted or moved)",
    ]
    assert "root hash" in failures(done)[-1]
    renumbered = [json.loads(line) for line in lines]
    renumbered[3]["index"], renumbered[4]["index"] = 2, 3
    done = audit(tmp_path, log, [json.dumps(item) for item in renumbered])
    assert done.returncode == 1
    assert failures(done) == [
        "the root hash over the 10 leaves is not the checkpoint's: a leaf was changed, deleted,"
        " inserted or moved"
    ]


def test_a_changed_side_row_is_found(tmp_path: Path) -> None:
    log = school_log()
    lines = log.export_lines()
    row = json.loads(lines[8])
    row["event"]["details"]["reason"] = "licence expired"
    lines[8] = json.dumps(row)
    actor = json.loads(lines[2])
    actor["event"]["actor"] = "client:5"
    lines[2] = json.dumps(actor)
    done = audit(tmp_path, log, lines)
    assert done.returncode == 1
    assert failures(done) == [
        "leaf 1: the side row does not open the leaf's details commitment",
        "leaf 7: the side row does not open the leaf's details commitment",
    ]


def test_a_side_row_removed_without_an_erasure_leaf_is_refused(tmp_path: Path) -> None:
    log = school_log()
    lines = log.export_lines()
    for number in (3, 8):  # student:102's rows, leaves 2 and 7
        row = json.loads(lines[number])
        row["event"] = None
        lines[number] = json.dumps(row)
    done = audit(tmp_path, log, lines)
    assert done.returncode == 1
    assert failures(done) == [
        f"leaf 2: its side row is missing and no later {ERASED} leaf has its subject hash: the row"
        " was deleted behind the hub's back (and 1 later leaves of the same subject)"
    ]


def test_a_side_row_erased_with_an_erasure_leaf_is_accepted(tmp_path: Path) -> None:
    log = school_log()
    erasure = log.erase("student:102")
    log.record("gateway.refused", "client:4", "student:102", {"reason": "erased"})
    assert log.entries[2].event is None
    assert log.entries[7].event is None
    done = audit(tmp_path, log, log.export_lines())
    assert done.returncode == 0, done.stdout
    assert done.stdout.startswith("VERIFIED: all 12 leaves")
    assert json.loads(log.export_lines()[erasure + 1])["event"]["details"] == {"count": 2}
    # The erasure leaf covers only the leaves before it, and only its own subject.
    lines = log.export_lines()
    for number in (12, 2):  # student:102 after the erasure; student:101's release
        row = json.loads(lines[number])
        row["event"] = None
        lines[number] = json.dumps(row)
    done = audit(tmp_path, log, lines)
    uncovered = (
        f"its side row is missing and no later {ERASED} leaf has its subject hash: the row was"
        " deleted behind the hub's back"
    )
    assert failures(done) == [f"leaf 1: {uncovered}", f"leaf 11: {uncovered}"]


def test_a_leaf_without_subject_never_loses_its_side_row(tmp_path: Path) -> None:
    log = school_log()
    lines = log.export_lines()
    row = json.loads(lines[7])  # imports.finished, no subject
    row["event"] = None
    lines[7] = json.dumps(row)
    done = audit(tmp_path, log, lines)
    assert failures(done) == [
        "leaf 6: its side row is missing, but a leaf without subject is never erased"
    ]


def test_a_forged_checkpoint_signature_is_refused(tmp_path: Path) -> None:
    log = school_log()
    note = log.checkpoint(cosigned=False)
    line = note.splitlines()[-1].decode()
    signature = bytearray(base64.b64decode(line.split(" ")[2]))
    signature[-1] ^= 1
    forged = note.replace(line.encode(), f"— {ORIGIN} {b64(bytes(signature))}".encode())
    done = audit(tmp_path, log, log.export_lines(forged), "--log-key", log.log_key)
    assert (done.returncode, failures(done)) == (1, [])
    assert done.stdout == (
        "NOT VERIFIED: the checkpoint's signatures do not hold: the signature of"
        f" {ORIGIN} does not verify\n"
    )
    impostor = Log()  # another key under the log's name
    done = audit(tmp_path, log, impostor.export_lines(), "--log-key", log.log_key)
    assert done.stdout == (
        "NOT VERIFIED: the checkpoint's signatures do not hold: the note is not signed by any"
        " trusted key\n"
    )
    (tmp_path / "cp").write_bytes(forged)
    done = run("checkpoint", tmp_path / "cp", "--log-key", log.log_key)
    assert done.returncode == 1
    assert "does not verify" in done.stdout


def test_a_checkpoint_for_another_size_is_refused(tmp_path: Path) -> None:
    log = school_log()
    done = audit(tmp_path, log, log.export_lines(log.checkpoint(9)))
    assert done.returncode == 1
    assert failures(done) == ["the export has 10 leaves, the checkpoint's tree 9"]
    lines = log.export_lines(log.checkpoint(9))[:-1]  # the first 9 leaves: that verifies
    assert audit(tmp_path, log, lines).returncode == 0


def test_a_missing_witness_cosignature_is_refused_when_a_witness_key_is_given(
    tmp_path: Path,
) -> None:
    log = school_log()
    lines = log.export_lines(log.checkpoint(cosigned=False))
    done = audit(tmp_path, log, lines)
    assert done.returncode == 1
    assert done.stdout == (
        "NOT VERIFIED: the checkpoint's signatures do not hold: the checkpoint has no cosignature"
        " from witness.board.example/w1\n"
    )
    assert audit(tmp_path, log, lines, "--log-key", log.log_key).returncode == 0


def test_a_non_canonical_leaf_is_refused_even_when_signed(tmp_path: Path) -> None:
    log = school_log()
    log.entries[4].leaf = log.entries[4].leaf.replace(b'{"actor"', b'{ "actor"')
    log.entries[6].leaf = log.entries[6].leaf.replace(b'"v":1', b'"v":2')
    done = audit(tmp_path, log, log.export_lines())
    assert done.returncode == 1
    assert failures(done) == [
        "leaf 4: the leaf is not a canonical version 1 leaf: the leaf is not in canonical form"
        " (RFC 8785)",
        "leaf 6: the leaf is not a canonical version 1 leaf: the leaf's version is not 1",
    ]


def test_a_malformed_note_or_export_is_a_clear_error(tmp_path: Path) -> None:
    log = school_log()
    note = log.checkpoint()
    cases: dict[str, bytes] = {
        "the note has no blank line before its signatures": note.replace(b"\n\n", b"\n"),
        "a signature line is malformed": note.replace("—".encode(), b"-"),
        "a checkpoint's tree size is not a decimal number": note.replace(b"\n10\n", b"\nten\n"),
    }
    for message, data in cases.items():
        done = audit(tmp_path, log, log.export_lines(data))
        assert done.returncode == 2
        assert done.stdout == ""
        assert done.stderr == (
            f"regie-verify: the checkpoint is not a well-formed signed note: {message}\n"
        )
        (tmp_path / "cp").write_bytes(data)
        done = run("checkpoint", tmp_path / "cp", "--log-key", log.log_key)
        assert (done.returncode, message in done.stderr) == (2, True)
    export = tmp_path / "export.jsonl"
    for first_line, message in [
        ("not json", "the export's first line is not UTF-8 JSON"),
        ('{"format": "other"}', "the export's first line does not say format"),
    ]:
        export.write_text(first_line + "\n")
        done = run("audit", export, *log.keys())
        assert done.returncode == 2
        assert message in done.stderr
    done = run("audit", tmp_path / "missing.jsonl", *log.keys())
    assert done.returncode == 2
    assert "cannot read the export" in done.stderr
    done = run("audit", export)
    assert (done.returncode, done.stderr) == (
        2,
        "regie-verify: give the log's key: --log-key VKEY or --keys FILE (the hub's /log/keys)\n",
    )
    done = run("audit", export, "--log-key", "not-a-key")
    assert done.returncode == 2
    assert "--log-key: a verifier key must read" in done.stderr


def test_a_broken_leaf_line_is_named_and_the_rest_still_audited(tmp_path: Path) -> None:
    log = school_log()
    lines = log.export_lines()
    lines[3] = "{broken"
    lines[6] = json.dumps({"index": 5, "event": None})
    done = audit(tmp_path, log, lines)
    assert done.returncode == 1
    assert failures(done)[:2] == [
        "leaf 2: the line is not UTF-8 JSON",
        "leaf 5: the line has no leaf (a JSON object with a 'leaf' string)",
    ]


# -- checkpoint, inclusion, consistency -----------------------------------------------------------


def test_checkpoint_says_who_signed(tmp_path: Path) -> None:
    log = school_log()
    (tmp_path / "cp").write_bytes(log.checkpoint())
    done = run("checkpoint", tmp_path / "cp", *log.keys())
    assert done.returncode == 0
    assert done.stdout.splitlines()[:4] == [
        "VERIFIED: the checkpoint is signed by the log and co-signed by every witness given",
        f"  log:         {ORIGIN}",
        "  tree size:   10",
        f"  root hash:   {b64(log.root())}",
    ]


def test_inclusion_from_the_hubs_proof_json_and_from_options(tmp_path: Path) -> None:
    log = school_log()
    checkpoint = tmp_path / "cp"
    checkpoint.write_bytes(log.checkpoint())
    proof = tmp_path / "proof.json"
    for index in range(10):
        proof.write_text(json.dumps(log.inclusion(index)))
        done = run("inclusion", "--checkpoint", checkpoint, "--proof-json", proof, *log.keys())
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.startswith(f"VERIFIED: leaf {index} is in the tree of 10 leaves\n")
    claim = log.inclusion(3)
    (tmp_path / "leaf").write_bytes(log.entries[3].leaf)
    by_options: list[str | Path] = [
        *("inclusion", "--checkpoint", checkpoint, "--index", "3"),
        *("--proof", ",".join(claim["inclusion_path"])),
        *log.keys(),
    ]
    assert run(*by_options, "--leaf-hash", claim["leaf_hash"]).returncode == 0
    assert run(*by_options, "--leaf", tmp_path / "leaf").returncode == 0
    done = run(*by_options, "--leaf-hash", log.inclusion(4)["leaf_hash"])
    assert done.returncode == 1
    assert done.stdout.startswith("NOT VERIFIED: the leaf is not proven to be in the tree")
    done = run("inclusion", "--checkpoint", checkpoint, "--index", "3", *log.keys())
    assert done.returncode == 2
    assert "give --proof-json FILE, or --index, --proof and --leaf-hash" in done.stderr


def test_a_proof_for_a_different_tree_size_is_refused(tmp_path: Path) -> None:
    log = school_log()
    checkpoint = tmp_path / "cp"
    checkpoint.write_bytes(log.checkpoint())
    proof = tmp_path / "proof.json"
    proof.write_text(json.dumps(log.inclusion(3, 7)))
    done = run("inclusion", "--checkpoint", checkpoint, "--proof-json", proof, *log.keys())
    assert (done.returncode, done.stdout) == (
        1,
        "NOT VERIFIED: the proof is for a tree of 7 leaves, the checkpoint's has 10\n",
    )
    relabelled = log.inclusion(3, 7) | {"tree_size": 10}
    proof.write_text(json.dumps(relabelled))
    done = run("inclusion", "--checkpoint", checkpoint, "--proof-json", proof, *log.keys())
    assert done.returncode == 1
    assert done.stdout.startswith("NOT VERIFIED: the leaf is not proven to be in the tree:")
    proof.write_text(json.dumps(log.inclusion(3) | {"inclusion_path": ["not base64!"]}))
    done = run("inclusion", "--checkpoint", checkpoint, "--proof-json", proof, *log.keys())
    assert (done.returncode, done.stderr) == (
        2,
        "regie-verify: inclusion_path[0] is not valid base64\n",
    )


def consistency_json(log: Log, first: int, second: int) -> str:
    path = rfc9162.consistency_proof(first, second, log.perfect)
    return json.dumps(
        {
            "tree_size_1": first,
            "tree_size_2": second,
            "consistency_path": [b64(item) for item in path],
        }
    )


def test_consistency_between_two_checkpoints(tmp_path: Path) -> None:
    log = school_log()
    old, new, proof = tmp_path / "old", tmp_path / "new", tmp_path / "proof.json"
    old.write_bytes(log.checkpoint(6))
    new.write_bytes(log.checkpoint())
    proof.write_text(consistency_json(log, 6, 10))
    args: tuple[str | Path, ...] = (
        "consistency",
        "--old",
        old,
        "--new",
        new,
        "--proof-json",
        proof,
        *log.keys(),
    )
    done = run(*args)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("VERIFIED: the tree of 10 leaves extends the tree of 6 leaves")
    proof.write_text(consistency_json(log, 5, 10))
    done = run(*args)
    assert (done.returncode, done.stdout) == (
        1,
        "NOT VERIFIED: the proof is from 5 to 10 leaves, the checkpoints have 6 and 10\n",
    )
    # A log rewritten after size 6: a fork the consistency proof cannot bridge.
    forked = school_log()
    forked.signer = log.signer
    forked.entries[:6] = log.entries[:6]
    forked.entries[2] = Entry(log.entries[3].leaf, log.entries[3].event)
    new.write_bytes(forked.checkpoint())
    proof.write_text(consistency_json(forked, 6, 10))
    done = run("consistency", "--old", old, "--new", new, "--proof-json", proof, *log.keys()[:2])
    assert done.returncode == 1
    assert done.stdout.startswith("NOT VERIFIED: the newer tree does not extend the older one")


# -- the proof bundle -----------------------------------------------------------------------------


def test_a_bundle_is_explained_in_plain_words(tmp_path: Path) -> None:
    log = school_log()
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps(log.bundle(1)))
    done = run("bundle", bundle, *log.keys())
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[:8] == [
        f"VERIFIED: this event is in the audit log of {ORIGIN}.",
        "It is event 1 of the 10 events the log held when it was signed.",
        "",
        "What happened:  gateway.release",
        "When:           2026-12-06 08:01:00.000000 UTC",
        "Done by:        a supplier's application",
        "About:          a person or thing (recorded as a keyed hash, not by name)",
        "",
    ]
    assert '  "scope": "roster-core.readonly"' in done.stdout
    assert f"Witness {log.witness_key} co-signed it on 2026-12-05 00:00:00 UTC." in done.stdout
    assert "WARNING" not in done.stdout
    dutch = run("bundle", bundle, *log.keys(), "--lang", "nl")
    assert dutch.returncode == 0
    assert "Gedaan door:     een applicatie van een leverancier" in dutch.stdout


def test_a_bundle_without_keys_given_warns_that_it_trusted_its_own(tmp_path: Path) -> None:
    log = school_log()
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps(log.bundle(4)))
    done = run("bundle", bundle)
    assert done.returncode == 0
    assert "WARNING: the keys were taken from the bundle itself" in done.stdout
    done = run("bundle", bundle, "--log-key", Log().log_key)
    assert done.returncode == 1
    assert done.stdout.startswith("NOT VERIFIED: the checkpoint's signatures do not hold")


def test_a_bundle_of_an_erased_event_still_proves_it_happened(tmp_path: Path) -> None:
    log = school_log()
    log.erase("student:101")
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps(log.bundle(4)))
    done = run("bundle", bundle, *log.keys())
    assert done.returncode == 0
    assert "What happened:  consent.given" in done.stdout
    assert "The personal details of this event were erased" in done.stdout


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: b["event"]["details"].update(scope="all"), "does not open the leaf's details"),
        (lambda b: b.update(leaf_index=2), "the event is not proven to be in the log"),
        (lambda b: b.update(tree_size=9), "the proof is for a tree of 9 leaves"),
        (lambda b: b.update(leaf=b["leaf"].replace("client", "user")), "not proven"),
        (lambda b: b.update(leaf=b["leaf"] + " "), "not in canonical form"),
    ],
)
def test_a_changed_bundle_is_not_verified(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], message: str
) -> None:
    log = school_log()
    data = log.bundle(1)
    change(data)
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps(data))
    done = run("bundle", bundle, *log.keys())
    assert done.returncode == 1
    assert done.stdout.startswith("NOT VERIFIED: ")
    assert message in done.stdout
    dutch = run("bundle", bundle, *log.keys(), "--lang", "nl")
    assert dutch.stdout.startswith("NIET GECONTROLEERD: ")


def test_a_malformed_bundle_is_a_clear_error(tmp_path: Path) -> None:
    log = school_log()
    bundle = tmp_path / "bundle.json"
    for data, message in [
        ("[]", "the bundle is not a JSON object"),
        (json.dumps(log.bundle(1) | {"format": "x"}), "format is not 'regie-log-proof/v1'"),
        (json.dumps(log.bundle(1) | {"leaf_index": -1}), "leaf_index is not a whole number"),
        (json.dumps({k: v for k, v in log.bundle(1).items() if k != "leaf"}), "no field 'leaf'"),
    ]:
        bundle.write_text(data)
        done = run("bundle", bundle, *log.keys())
        assert (done.returncode, done.stdout) == (2, "")
        assert message in done.stderr


# -- no Django ------------------------------------------------------------------------------------


def test_the_verifier_imports_no_django() -> None:
    code = (
        "import sys, regie.audit.verify, regie.audit.leaves\n"
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.stdout.strip() == "[]"


def test_subject_hashes_here_follow_the_designs_form() -> None:
    expected = hmac.new(SUBJECT_KEY, b"regie-audit-subject" + b"student:101", hashlib.sha256)
    assert subject_hash("student:101") == expected.hexdigest()
    assert subject_hash("") == ""


# -- any change: never a traceback, never a silent pass -------------------------------------------

FUZZED = school_log()
FUZZED.erase("student:102")
FUZZED_LINES = FUZZED.export_lines()
FUZZED_BYTES = "".join(line + "\n" for line in FUZZED_LINES).encode()


def in_process(*args: str) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            return verify.main(list(args))
        except SystemExit as leaving:  # argparse
            return int(leaving.code or 0)


@settings(max_examples=150, deadline=None)
@given(position=st.integers(0, len(FUZZED_BYTES) - 1), value=st.integers(0, 255))
def test_no_changed_byte_passes_unless_it_changes_nothing(position: int, value: int) -> None:
    changed = bytearray(FUZZED_BYTES)
    changed[position] = value
    with tempfile.TemporaryDirectory() as directory:
        export = Path(directory) / "export.jsonl"
        export.write_bytes(bytes(changed))
        status = in_process("audit", str(export), *FUZZED.keys())
    assert status in (0, 1, 2)
    if status == 0:  # only a change JSON does not see (white space between fields) may pass
        lines = bytes(changed).decode().splitlines()
        assert [json.loads(line) for line in lines] == [json.loads(x) for x in FUZZED_LINES]
