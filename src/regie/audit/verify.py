"""``regie-verify``: check regie's audit log from outside the hub (issue 14, ``docs/verify.md``).

Anyone — a parent, a supervisor, another board — can run it on files the hub hands out, with the
keys the hub publishes at ``/log/keys``:

- ``regie-verify checkpoint FILE`` — a checkpoint (C2SP tlog-checkpoint) is signed by the log's
  key and co-signed by every witness key given;
- ``regie-verify inclusion --checkpoint FILE --proof-json FILE`` (or ``--leaf-hash``, ``--index``,
  ``--proof``) — a leaf is in the checkpoint's tree (RFC 9162 2.1.3.2);
- ``regie-verify consistency --old FILE --new FILE --proof-json FILE`` — the newer checkpoint's
  tree extends the older one (RFC 9162 2.1.4.2): nothing was removed or rewritten in between;
- ``regie-verify bundle FILE`` — a proof bundle (one event, its inclusion proof, the co-signed
  checkpoint), explained in plain words (``--lang nl`` for Dutch);
- ``regie-verify audit EXPORT`` — the full export of the log, every leaf and side row, read as a
  stream (memory stays flat: only the tree's root stack and the subject hashes awaiting an erasure
  leaf are kept).

Keys come from ``--log-key VKEY`` and ``--witness-key VKEY`` (repeatable), or ``--keys FILE``: the
text of ``/log/keys``, the log's key on the first line and witness keys after it.

Exit status: 0 verified, 1 not verified (tampering, a bad signature or proof), 2 the command or
its input is malformed. Every problem is one line of text, never a traceback.

No Django: this imports only ``rfc9162``, ``signed_note`` and ``leaves`` (a test checks).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import struct
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, NoReturn

from regie.audit import rfc9162
from regie.audit import signed_note as sn
from regie.audit.leaves import (
    ERASED,
    Leaf,
    LeafError,
    actor_role,
    details_commitment,
    parse_leaf,
    parse_time,
    well_formed_salt,
)

EXPORT_FORMAT = "regie-log-export/v1"
BUNDLE_FORMAT = "regie-log-proof/v1"

VERIFIED, NOT_VERIFIED, MALFORMED = 0, 1, 2


class Malformed(Exception):
    """The command or its input cannot be read (exit 2)."""


class NotVerified(Exception):
    """The input is well-formed but does not prove what it claims (exit 1)."""


# -- reading input --------------------------------------------------------------------------------


def _read_bytes(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise Malformed(f"cannot read {what} {path}: {error.strerror or error}") from None


def _read_json(path: str, what: str) -> Any:
    data = _read_bytes(path, what)
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise Malformed(f"{what} {path} is not UTF-8 JSON") from None


def _b64_hash(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise Malformed(f"{what} is not a base64 string")
    try:
        value = sn.b64decode_canonical(text)
    except binascii.Error:
        raise Malformed(f"{what} is not valid base64") from None
    if len(value) != rfc9162.HASH_SIZE:
        raise Malformed(f"{what} is {len(value)} bytes, not a {rfc9162.HASH_SIZE}-byte hash")
    return value


def _b64_path(values: object, what: str) -> list[bytes]:
    if not isinstance(values, list):
        raise Malformed(f"{what} is not a list of base64 hashes")
    return [_b64_hash(value, f"{what}[{n}]") for n, value in enumerate(values)]


def _natural(value: object, what: str) -> int:
    if type(value) is not int or value < 0:
        raise Malformed(f"{what} is not a whole number of zero or more")
    return value


def _field(obj: object, name: str, what: str) -> Any:
    if not isinstance(obj, dict):
        raise Malformed(f"{what} is not a JSON object")
    if name not in obj:
        raise Malformed(f"{what} has no field {name!r}")
    return obj[name]


# -- keys -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    log: sn.Verifier | None
    witnesses: tuple[sn.Verifier, ...]


def _verifier(text: str, what: str) -> sn.Verifier:
    try:
        return sn.verifier_from_vkey(text)
    except sn.NoteError as error:
        raise Malformed(f"{what}: {error}") from None


def keys_from(options: argparse.Namespace) -> Keys:
    """The trusted keys from ``--keys FILE``, ``--log-key`` and ``--witness-key``."""
    log = _verifier(options.log_key, "--log-key") if options.log_key else None
    witnesses = [_verifier(text, "--witness-key") for text in options.witness_key or ()]
    if options.keys:
        lines = [line.strip() for line in _read_bytes(options.keys, "the key list").splitlines()]
        texts = [line.decode("utf-8", errors="replace") for line in lines if line]
        if not texts:
            raise Malformed(f"the key list {options.keys} holds no key")
        if log is None:
            log = _verifier(texts[0], f"the first key in {options.keys}")
        witnesses += [_verifier(text, f"a witness key in {options.keys}") for text in texts[1:]]
    return Keys(log, _distinct(witnesses))


def _distinct(verifiers: Sequence[sn.Verifier]) -> tuple[sn.Verifier, ...]:
    return tuple({verifier.vkey: verifier for verifier in verifiers}.values())


def _need_log_key(keys: Keys) -> sn.Verifier:
    if keys.log is None:
        raise Malformed("give the log's key: --log-key VKEY or --keys FILE (the hub's /log/keys)")
    return keys.log


# -- checkpoints ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signed:
    """A checkpoint whose signatures verified: who signed, and when each witness co-signed."""

    checkpoint: sn.Checkpoint
    log: sn.Verifier
    cosigned: tuple[tuple[sn.Verifier, datetime | None], ...]


def open_checkpoint(data: bytes, log: sn.Verifier, witnesses: Sequence[sn.Verifier]) -> Signed:
    """The checkpoint in ``data``: :class:`Malformed` when it is not a well-formed checkpoint
    note, :class:`NotVerified` when the log's signature or a witness's cosignature is missing
    or does not verify."""
    try:
        note = sn.parse_note(data)
        sn.parse_checkpoint(note.text)
    except sn.NoteError as error:
        raise Malformed(f"the checkpoint is not a well-formed signed note: {error}") from None
    try:
        checkpoint, opened = sn.open_checkpoint(data, log, witnesses)
    except sn.NoteError as error:
        raise NotVerified(f"the checkpoint's signatures do not hold: {error}") from None
    cosigned = []
    for witness in witnesses:
        when = None
        for signature in opened.signatures:
            same = (signature.name, signature.key_id) == (witness.name, witness.key_id)
            if same and witness.key_type == sn.COSIGNATURE_V1:
                (timestamp,) = struct.unpack(">Q", signature.signature[:8])
                when = datetime.fromtimestamp(timestamp, UTC)
        cosigned.append((witness, when))
    return Signed(checkpoint, log, tuple(cosigned))


def _checkpoint_file(path: str, keys: Keys) -> Signed:
    return open_checkpoint(_read_bytes(path, "the checkpoint"), _need_log_key(keys), keys.witnesses)


def _signed_lines(signed: Signed) -> list[str]:
    cp = signed.checkpoint
    lines = [
        f"log:         {cp.origin}",
        f"tree size:   {cp.size}",
        f"root hash:   {base64.b64encode(cp.root_hash).decode()}",
        f"signed by:   {signed.log.vkey}",
    ]
    for witness, when in signed.cosigned:
        at = f" at {when:%Y-%m-%d %H:%M:%S} UTC" if when else ""
        lines.append(f"co-signed:   {witness.vkey}{at}")
    return lines


# -- side rows ----------------------------------------------------------------------------------


def side_row_problems(leaf: Leaf, event: object) -> list[str]:
    """What is wrong with a side row (an ``event`` of the export or bundle) as the opening of
    ``leaf``: empty when it opens the leaf's details commitment and agrees with the leaf."""
    if not isinstance(event, dict):
        return ["the side row is not a JSON object"]
    actor, subject = event.get("actor"), event.get("subject")
    details, salt = event.get("details"), event.get("salt")
    if not (isinstance(actor, str) and isinstance(subject, str) and isinstance(salt, str)):
        return ["the side row's actor, subject and salt must be strings"]
    if not isinstance(details, dict):
        return ["the side row's details are not a JSON object"]
    problems = []
    if not well_formed_salt(salt):
        problems.append("the side row's salt is not 16 bytes of unpadded base64url")
    try:
        opens = details_commitment(actor, subject, details, salt) == leaf.details
    except ValueError:
        opens = False
        problems.append("the side row's details cannot be encoded as RFC 8785 JSON")
    else:
        if not opens:
            problems.append("the side row does not open the leaf's details commitment")
    if actor_role(actor) != leaf.actor:
        problems.append(f"the side row's actor is not a {leaf.actor!r}, as the leaf says")
    if bool(subject) != bool(leaf.subject):
        problems.append("the side row and the leaf disagree on whether there is a subject")
    for name, value in (("type", leaf.type), ("time", leaf.time)):
        if name in event and event[name] != value:
            problems.append(f"the side row's {name} is not the leaf's")
    return problems


# -- checkpoint, inclusion, consistency -----------------------------------------------------------


def run_checkpoint(options: argparse.Namespace, out: IO[str]) -> int:
    signed = _checkpoint_file(options.file, keys_from(options))
    out.write("VERIFIED: the checkpoint is signed by the log")
    out.write(" and co-signed by every witness given\n" if signed.cosigned else "\n")
    out.write("".join(f"  {line}\n" for line in _signed_lines(signed)))
    return VERIFIED


def _inclusion_claim(options: argparse.Namespace) -> tuple[int, int | None, bytes, list[bytes]]:
    """(leaf index, tree size or None, leaf hash, path) from the options or the proof JSON."""
    given_hash = None
    if options.leaf is not None:
        given_hash = rfc9162.leaf_hash(_read_bytes(options.leaf, "the leaf"))
    if options.leaf_hash is not None:
        from_option = _b64_hash(options.leaf_hash, "--leaf-hash")
        if given_hash is not None and given_hash != from_option:
            raise NotVerified("--leaf-hash is not the hash of the --leaf file")
        given_hash = from_option
    if options.proof_json is not None:
        if options.index is not None or options.proof is not None:
            raise Malformed("give either --proof-json or --index and --proof, not both")
        proof = _read_json(options.proof_json, "the proof")
        what = "the proof JSON"
        index = _natural(_field(proof, "leaf_index", what), "leaf_index")
        size = _natural(_field(proof, "tree_size", what), "tree_size")
        leaf = _b64_hash(_field(proof, "leaf_hash", what), "leaf_hash")
        path = _b64_path(_field(proof, "inclusion_path", what), "inclusion_path")
        if given_hash is not None and given_hash != leaf:
            raise NotVerified("the proof is for another leaf than the one given")
        return index, size, leaf, path
    if options.index is None or options.proof is None or given_hash is None:
        raise Malformed("give --proof-json FILE, or --index, --proof and --leaf-hash (or --leaf)")
    hashes = [item for item in options.proof.split(",") if item]
    path = [_b64_hash(item, f"--proof hash {n}") for n, item in enumerate(hashes)]
    return options.index, None, given_hash, path


def run_inclusion(options: argparse.Namespace, out: IO[str]) -> int:
    signed = _checkpoint_file(options.checkpoint, keys_from(options))
    index, size, leaf, path = _inclusion_claim(options)
    cp = signed.checkpoint
    if size is not None and size != cp.size:
        raise NotVerified(
            f"the proof is for a tree of {size} leaves, the checkpoint's has {cp.size}"
        )
    try:
        rfc9162.verify_inclusion(leaf, index, cp.size, path, cp.root_hash)
    except rfc9162.ProofError as error:
        raise NotVerified(f"the leaf is not proven to be in the tree: {error}") from None
    out.write(f"VERIFIED: leaf {index} is in the tree of {cp.size} leaves\n")
    out.write(f"  leaf hash:   {base64.b64encode(leaf).decode()}\n")
    out.write("".join(f"  {line}\n" for line in _signed_lines(signed)))
    return VERIFIED


def run_consistency(options: argparse.Namespace, out: IO[str]) -> int:
    keys = keys_from(options)
    old = _checkpoint_file(options.old, keys)
    new = _checkpoint_file(options.new, keys)
    proof = _read_json(options.proof_json, "the proof")
    what = "the proof JSON"
    first = _natural(_field(proof, "tree_size_1", what), "tree_size_1")
    second = _natural(_field(proof, "tree_size_2", what), "tree_size_2")
    path = _b64_path(_field(proof, "consistency_path", what), "consistency_path")
    a, b = old.checkpoint, new.checkpoint
    if a.origin != b.origin:
        raise NotVerified(f"the checkpoints are of two logs: {a.origin} and {b.origin}")
    if (first, second) != (a.size, b.size):
        raise NotVerified(
            f"the proof is from {first} to {second} leaves, the checkpoints have {a.size} and"
            f" {b.size}"
        )
    try:
        rfc9162.verify_consistency(a.size, b.size, path, a.root_hash, b.root_hash)
    except rfc9162.ProofError as error:
        raise NotVerified(f"the newer tree does not extend the older one: {error}") from None
    out.write(
        f"VERIFIED: the tree of {b.size} leaves extends the tree of {a.size} leaves"
        " (nothing in the older tree was changed or removed)\n"
    )
    out.write("".join(f"  {line}\n" for line in _signed_lines(new)))
    return VERIFIED


# -- the export audit -----------------------------------------------------------------------------


@dataclass
class Audit:
    """The state of an export audit: the failures so far and the erased rows still uncovered."""

    out: IO[str]
    failures: int = 0
    awaiting_erasure: dict[str, tuple[int, int]] = field(default_factory=dict)  # hash: first, count

    def fail(self, index: int | None, message: str) -> None:
        self.failures += 1
        self.out.write(f"leaf {index}: {message}\n" if index is not None else f"{message}\n")

    def leaf_hashes(self, lines: Iterator[bytes]) -> Iterator[bytes]:
        """The hash of every leaf line, in file order, checking each line on the way."""
        expected = 0
        for position, raw in enumerate(lines):
            data = self.leaf_data(position, raw, expected)
            expected = (data[0] if data else position) + 1
            if data is None:
                continue
            _, leaf_text, event = data
            try:
                leaf_bytes = leaf_text.encode("utf-8")
            except UnicodeEncodeError:
                self.fail(position, "the leaf is not valid Unicode text")
                continue
            yield rfc9162.leaf_hash(leaf_bytes)
            try:
                leaf = parse_leaf(leaf_bytes)
            except LeafError as error:
                self.fail(position, f"the leaf is not a canonical version 1 leaf: {error}")
                continue
            self.check_event(position, leaf, event)

    def leaf_data(self, position: int, raw: bytes, expected: int) -> tuple[int, str, Any] | None:
        try:
            line = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            self.fail(position, "the line is not UTF-8 JSON")
            return None
        if not isinstance(line, dict) or not isinstance(line.get("leaf"), str):
            self.fail(position, "the line has no leaf (a JSON object with a 'leaf' string)")
            return None
        index = line.get("index")
        if type(index) is not int:
            self.fail(position, "the line has no whole-number index")
            return None
        if index != expected:
            self.fail(
                position, f"numbered {index} where {expected} was due (deleted, inserted or moved)"
            )
        if "event" not in line:
            self.fail(position, "the line has no 'event' (null when the side row was erased)")
        return index, line["leaf"], line.get("event")

    def check_event(self, position: int, leaf: Leaf, event: object) -> None:
        if leaf.type == ERASED:
            self.awaiting_erasure.pop(leaf.subject, None)
        if event is None:
            if not leaf.subject:
                self.fail(
                    position, "its side row is missing, but a leaf without subject is never erased"
                )
            else:
                first, count = self.awaiting_erasure.get(leaf.subject, (position, 0))
                self.awaiting_erasure[leaf.subject] = (first, count + 1)
            return
        for problem in side_row_problems(leaf, event):
            self.fail(position, problem)

    def finish(self) -> None:
        for first, count in sorted(self.awaiting_erasure.values()):
            more = f" (and {count - 1} later leaves of the same subject)" if count > 1 else ""
            self.fail(
                first,
                f"its side row is missing and no later {ERASED} leaf has its subject hash: the row"
                f" was deleted behind the hub's back{more}",
            )


def _export_header(raw: bytes) -> bytes:
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise Malformed("the export's first line is not UTF-8 JSON") from None
    if not isinstance(header, dict) or header.get("format") != EXPORT_FORMAT:
        raise Malformed(f"the export's first line does not say format {EXPORT_FORMAT!r}")
    checkpoint = header.get("checkpoint")
    if not isinstance(checkpoint, str):
        raise Malformed("the export's first line has no checkpoint text")
    return checkpoint.encode("utf-8", errors="replace")


def run_audit(options: argparse.Namespace, out: IO[str]) -> int:
    keys = keys_from(options)
    log = _need_log_key(keys)
    try:
        export = Path(options.export).open("rb")  # noqa: SIM115 - closed below
    except OSError as error:
        raise Malformed(f"cannot read the export {options.export}: {error.strerror}") from None
    with export:
        signed = open_checkpoint(_export_header(export.readline()), log, keys.witnesses)
        cp = signed.checkpoint
        audit = Audit(out)
        counted = 0

        def counting(lines: Iterator[bytes]) -> Iterator[bytes]:
            nonlocal counted
            for line in lines:
                counted += 1
                yield line

        root = rfc9162.root(audit.leaf_hashes(counting(iter(export))))
    if counted != cp.size:
        audit.fail(None, f"the export has {counted} leaves, the checkpoint's tree {cp.size}")
    elif root != cp.root_hash:
        audit.fail(
            None,
            f"the root hash over the {counted} leaves is not the checkpoint's: a leaf was changed,"
            " deleted, inserted or moved",
        )
    audit.finish()
    if audit.failures:
        out.write(f"NOT VERIFIED: {audit.failures} problem(s) in the export of {cp.origin}\n")
        return NOT_VERIFIED
    out.write(f"VERIFIED: all {cp.size} leaves and their side rows\n")
    out.write("".join(f"  {line}\n" for line in _signed_lines(signed)))
    return VERIFIED


# -- the proof bundle -----------------------------------------------------------------------------

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "verified": "VERIFIED: this event is in the audit log of {origin}.",
        "position": "It is event {number} of the {size} events the log held when it was signed.",
        "what": "What happened:  {type}",
        "when": "When:           {time}",
        "who": "Done by:        {role}",
        "subject": "About:          a person or thing (recorded as a keyed hash, not by name)",
        "no_subject": "About:          nothing in particular (the event has no subject)",
        "details": "Details (checked against the log):",
        "erased": "The personal details of this event were erased; the log still proves that it"
        " happened and when.",
        "signed": "The log's key signed it: {key}",
        "cosigned": "Witness {key} co-signed it{at}.",
        "at": " on {time}",
        "not_cosigned": "No witness key was checked: give --witness-key to require a cosignature.",
        "bundle_keys": "WARNING: the keys were taken from the bundle itself. That proves nothing"
        " about who made it: take the keys from the hub's published list (/log/keys) and pass"
        " them with --keys, --log-key and --witness-key.",
        "not_verified": "NOT VERIFIED: {reason}",
        "system": "the hub itself (a scheduled or automatic task)",
        "anonymous": "someone who was not logged in",
        "user": "a person logged in at the hub",
        "client": "a supplier's application",
        "nv-client": "a client of the number service",
    },
    "nl": {
        "verified": "GECONTROLEERD: deze gebeurtenis staat in het auditlogboek van {origin}.",
        "position": "Het is gebeurtenis {number} van de {size} die het logboek had toen het werd"
        " ondertekend.",
        "what": "Wat er gebeurde: {type}",
        "when": "Wanneer:         {time}",
        "who": "Gedaan door:     {role}",
        "subject": "Over:            een persoon of ding (vastgelegd als sleutelhash, niet bij"
        " naam)",
        "no_subject": "Over:            niets in het bijzonder (de gebeurtenis heeft geen"
        " onderwerp)",
        "details": "Details (gecontroleerd tegen het logboek):",
        "erased": "De persoonsgegevens van deze gebeurtenis zijn gewist; het logboek bewijst nog"
        " steeds dat ze plaatsvond, en wanneer.",
        "signed": "De sleutel van het logboek heeft ondertekend: {key}",
        "cosigned": "Getuige {key} heeft medeondertekend{at}.",
        "at": " op {time}",
        "not_cosigned": "Er is geen getuigesleutel gecontroleerd: geef --witness-key om een"
        " medeondertekening te eisen.",
        "bundle_keys": "WAARSCHUWING: de sleutels komen uit het bestand zelf. Dat bewijst niet wie"
        " het maakte: neem de sleutels uit de gepubliceerde lijst van de hub (/log/keys) en geef"
        " ze mee met --keys, --log-key en --witness-key.",
        "not_verified": "NIET GECONTROLEERD: {reason}",
        "system": "de hub zelf (een geplande of automatische taak)",
        "anonymous": "iemand die niet was ingelogd",
        "user": "een persoon die was ingelogd bij de hub",
        "client": "een applicatie van een leverancier",
        "nv-client": "een client van de nummervoorziening",
    },
}


@dataclass(frozen=True)
class Bundle:
    origin: str
    leaf_index: int
    leaf: str
    event: Any
    tree_size: int
    inclusion_path: list[bytes]
    checkpoint: str
    log_key: str
    witness_keys: list[str]


def read_bundle(path: str) -> Bundle:
    data = _read_json(path, "the bundle")
    what = "the bundle"
    if _field(data, "format", what) != BUNDLE_FORMAT:
        raise Malformed(f"the bundle's format is not {BUNDLE_FORMAT!r}")
    strings = {name: _field(data, name, what) for name in ("origin", "leaf", "checkpoint")}
    for name, value in strings.items():
        if not isinstance(value, str):
            raise Malformed(f"the bundle's {name} is not a string")
    log_key = data.get("log_key", "")
    witness_keys = data.get("witness_keys", [])
    if not isinstance(log_key, str) or not isinstance(witness_keys, list):
        raise Malformed("the bundle's log_key or witness_keys are not a key and a list of keys")
    if not all(isinstance(key, str) for key in witness_keys):
        raise Malformed("the bundle's witness_keys are not all key texts")
    return Bundle(
        origin=strings["origin"],
        leaf_index=_natural(_field(data, "leaf_index", what), "leaf_index"),
        leaf=strings["leaf"],
        event=_field(data, "event", what),
        tree_size=_natural(_field(data, "tree_size", what), "tree_size"),
        inclusion_path=_b64_path(_field(data, "inclusion_path", what), "inclusion_path"),
        checkpoint=strings["checkpoint"],
        log_key=log_key,
        witness_keys=witness_keys,
    )


def _bundle_keys(options: argparse.Namespace, bundle: Bundle) -> tuple[Keys, bool]:
    """The keys to trust, and whether they came from the bundle itself."""
    keys = keys_from(options)
    if keys.log is not None:
        return keys, False
    if not bundle.log_key:
        raise Malformed("the bundle names no log key: give --log-key or --keys")
    log = _verifier(bundle.log_key, "the bundle's log_key")
    witnesses = [
        _verifier(text, "a key in the bundle's witness_keys") for text in bundle.witness_keys
    ]
    return Keys(log, _distinct([*keys.witnesses, *witnesses])), True


def check_bundle(bundle: Bundle, keys: Keys) -> tuple[Signed, Leaf]:
    """The verified checkpoint and the leaf; :class:`NotVerified` when the bundle proves less."""
    signed = open_checkpoint(bundle.checkpoint.encode("utf-8"), _need_log_key(keys), keys.witnesses)
    cp = signed.checkpoint
    if bundle.origin != cp.origin:
        raise NotVerified(f"the bundle says log {bundle.origin}, its checkpoint {cp.origin}")
    if bundle.tree_size != cp.size:
        raise NotVerified(
            f"the proof is for a tree of {bundle.tree_size} leaves, the checkpoint's has {cp.size}"
        )
    try:
        leaf_bytes = bundle.leaf.encode("utf-8")
        leaf = parse_leaf(leaf_bytes)
    except (UnicodeEncodeError, LeafError) as error:
        raise NotVerified(f"the leaf is not a canonical version 1 leaf: {error}") from None
    try:
        rfc9162.verify_inclusion(
            rfc9162.leaf_hash(leaf_bytes),
            bundle.leaf_index,
            cp.size,
            bundle.inclusion_path,
            cp.root_hash,
        )
    except rfc9162.ProofError as error:
        raise NotVerified(f"the event is not proven to be in the log: {error}") from None
    if bundle.event is not None:
        problems = side_row_problems(leaf, bundle.event)
        if problems:
            raise NotVerified("; ".join(problems))
    return signed, leaf


def _explain(bundle: Bundle, signed: Signed, leaf: Leaf, words: dict[str, str]) -> list[str]:
    moment = parse_time(leaf.time)
    lines = [
        words["verified"].format(origin=signed.checkpoint.origin),
        words["position"].format(number=bundle.leaf_index, size=signed.checkpoint.size),
        "",
        words["what"].format(type=leaf.type),
        words["when"].format(time=f"{moment:%Y-%m-%d %H:%M:%S.%f} UTC"),
        words["who"].format(role=words.get(leaf.actor, leaf.actor)),
        words["subject" if leaf.subject else "no_subject"],
    ]
    if bundle.event is None:
        lines += ["", words["erased"]]
    else:
        details = json.dumps(bundle.event["details"], ensure_ascii=False, indent=2, sort_keys=True)
        lines += ["", words["details"], *("  " + line for line in details.splitlines())]
    lines += ["", words["signed"].format(key=signed.log.vkey)]
    for witness, when in signed.cosigned:
        at = words["at"].format(time=f"{when:%Y-%m-%d %H:%M:%S} UTC") if when else ""
        lines.append(words["cosigned"].format(key=witness.vkey, at=at))
    if not signed.cosigned:
        lines.append(words["not_cosigned"])
    return lines


def run_bundle(options: argparse.Namespace, out: IO[str]) -> int:
    words = WORDS[options.lang]
    bundle = read_bundle(options.file)
    keys, from_bundle = _bundle_keys(options, bundle)
    try:
        signed, leaf = check_bundle(bundle, keys)
    except NotVerified as error:
        out.write(words["not_verified"].format(reason=error) + "\n")
        return NOT_VERIFIED
    out.write("".join(line + "\n" for line in _explain(bundle, signed, leaf, words)))
    if from_bundle:
        out.write("\n" + words["bundle_keys"] + "\n")
    return VERIFIED


# -- the command line -----------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(MALFORMED, f"{self.prog}: error: {message}\n")


def _key_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--log-key", metavar="VKEY", help="the log's key (from /log/keys)")
    command.add_argument(
        "--witness-key",
        metavar="VKEY",
        action="append",
        help="a witness's key: its cosignature is required (repeatable)",
    )
    command.add_argument(
        "--keys", metavar="FILE", help="the hub's /log/keys: the log's key first, then witnesses"
    )


def parser() -> argparse.ArgumentParser:
    main_parser = _Parser(
        prog="regie-verify",
        description="Check regie's audit log: checkpoints, proofs, proof bundles and exports."
        " Exit status 0 verified, 1 not verified, 2 malformed input.",
    )
    commands = main_parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    check = commands.add_parser("checkpoint", help="check a checkpoint's signatures")
    check.add_argument("file", metavar="FILE", help="the checkpoint (a signed note)")
    _key_options(check)
    check.set_defaults(run=run_checkpoint)

    inclusion = commands.add_parser("inclusion", help="check that a leaf is in the tree")
    inclusion.add_argument("--checkpoint", metavar="FILE", required=True)
    inclusion.add_argument(
        "--proof-json", metavar="FILE", help="the hub's /log/proof/inclusion answer"
    )
    inclusion.add_argument("--leaf", metavar="FILE", help="the leaf's bytes (hashed here)")
    inclusion.add_argument("--leaf-hash", metavar="B64", help="the leaf's hash")
    inclusion.add_argument("--index", metavar="I", type=int, help="the leaf's index")
    inclusion.add_argument("--proof", metavar="B64,...", help="the inclusion path, comma-separated")
    _key_options(inclusion)
    inclusion.set_defaults(run=run_inclusion)

    consistency = commands.add_parser("consistency", help="check that a tree extends an older one")
    consistency.add_argument("--old", metavar="FILE", required=True, help="the older checkpoint")
    consistency.add_argument("--new", metavar="FILE", required=True, help="the newer checkpoint")
    consistency.add_argument(
        "--proof-json",
        metavar="FILE",
        required=True,
        help="the hub's /log/proof/consistency answer",
    )
    _key_options(consistency)
    consistency.set_defaults(run=run_consistency)

    bundle = commands.add_parser("bundle", help="check a proof bundle and say what it proves")
    bundle.add_argument("file", metavar="FILE", help="the bundle (regie-log-proof/v1)")
    bundle.add_argument("--lang", choices=sorted(WORDS), default="en", help="en (default) or nl")
    _key_options(bundle)
    bundle.set_defaults(run=run_bundle)

    audit = commands.add_parser("audit", help="audit a full export of the log")
    audit.add_argument("export", metavar="EXPORT", help="the export (regie-log-export/v1)")
    _key_options(audit)
    audit.set_defaults(run=run_audit)
    return main_parser


def main(argv: list[str] | None = None) -> int:
    options = parser().parse_args(argv)
    out = sys.stdout
    try:
        status: int = options.run(options, out)
    except NotVerified as error:
        out.write(f"NOT VERIFIED: {error}\n")
        return NOT_VERIFIED
    except Malformed as error:
        print(f"regie-verify: {error}", file=sys.stderr)
        return MALFORMED
    return status


if __name__ == "__main__":
    sys.exit(main())
