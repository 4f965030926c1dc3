"""C2SP signed notes, transparency-log checkpoints and cosignatures.

- ``signed-note`` (c2sp.org/signed-note): a text ending in a newline, a blank line, then one or
  more lines ``— <key name> base64(key ID ‖ signature)``. Ed25519 signatures (type ``0x01``) over
  the text; the key ID is ``SHA-256(name ‖ "\\n" ‖ type ‖ public key)[:4]``; a verifier key
  (*vkey*) is ``<name>+<hex key ID>+base64(type ‖ public key)``. Private keys use the form of
  Go's ``golang.org/x/mod/sumdb/note``: ``PRIVATE+KEY+<name>+<hex key ID>+base64(type ‖ seed)``.
- ``tlog-checkpoint`` (c2sp.org/tlog-checkpoint): the note text ``origin``, ``tree size``,
  ``base64(root hash)``, then optional extension lines.
- ``tlog-cosignature`` (c2sp.org/tlog-cosignature), cosignature/v1 (type ``0x04``): a witness's
  timestamped Ed25519 signature over ``cosignature/v1\\ntime <t>\\n`` followed by the checkpoint
  text; the signature bytes are ``key ID ‖ uint64 timestamp ‖ Ed25519 signature``.

A verifier trusts only the keys it is given: signatures from unknown keys are kept but ignored, a
signature from a known key that does not verify rejects the note, and a note without a verified
signature from a known key is rejected (the spec's rules). No Django here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
MAX_SIGNATURES = 100
MAX_NOTE_BYTES = 1 << 16
EM_DASH = "\u2014"
_SIGNATURE_LINE = re.compile(r"\u2014 (?P<name>[^ ]+) (?P<signature>[A-Za-z0-9+/=]+)")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


class NoteError(ValueError):
    """A note, key or checkpoint that is malformed or not signed by a trusted key."""


def b64decode_canonical(text: str) -> bytes:
    """Standard base64 with padding, in its one canonical form: ``binascii.Error`` for anything
    else, also for a text whose unused low bits are not zero (``…wF=`` where ``…wE=`` decodes to
    the same bytes). Every base64 of the log's formats — signatures, keys, roots, proofs — is read
    with this, so that a text that verifies has exactly one spelling: no byte of a signed note, a
    checkpoint or a proof can change and still pass."""
    value = base64.b64decode(text, validate=True)
    if base64.b64encode(value).decode() != text:
        raise binascii.Error("not canonical base64")
    return value


def _b64decode(text: str, what: str) -> bytes:
    try:
        return b64decode_canonical(text)
    except binascii.Error as error:
        raise NoteError(f"{what} is not valid base64") from error


def _check_name(name: str) -> None:
    if not name or any(char.isspace() for char in name) or "+" in name:
        raise NoteError("a key name must be non-empty, without spaces or '+'")


def key_id(name: str, key_type: int, public_key: bytes) -> bytes:
    """The 4-byte key ID: ``SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]``."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public_key).digest()[:4]


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class Verifier:
    """A trusted key: a name, the key ID in signature lines, and what checks the signature."""

    name: str
    key_type: int
    public_key: Ed25519PublicKey

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.key_type, _raw_public(self.public_key))

    @property
    def vkey(self) -> str:
        material = bytes([self.key_type]) + _raw_public(self.public_key)
        return f"{self.name}+{self.key_id.hex()}+{base64.b64encode(material).decode()}"

    def verify(self, text: bytes, signature: bytes) -> bool:
        """Whether ``signature`` (without the key ID) is this key's over the note ``text``."""
        if self.key_type == COSIGNATURE_V1:
            if len(signature) != 8 + 64:
                return False
            (timestamp,) = struct.unpack(">Q", signature[:8])
            message = cosigned_message(text, timestamp)
            signature = signature[8:]
        else:
            message = text
        try:
            self.public_key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    """A note-signing key (Ed25519, type 0x01): the log's checkpoint key."""

    name: str
    private_key: Ed25519PrivateKey
    key_type: int = ED25519

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, self.key_type, self.private_key.public_key())

    @property
    def skey(self) -> str:
        seed = self.private_key.private_bytes_raw()
        material = base64.b64encode(bytes([self.key_type]) + seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id.hex()}+{material}"

    def signature_line(self, text: bytes) -> str:
        signature = self.verifier.key_id + self.private_key.sign(text)
        return f"{EM_DASH} {self.name} {base64.b64encode(signature).decode()}\n"


@dataclass(frozen=True)
class CosignatureSigner(Signer):
    """A witness's cosigning key (cosignature/v1, type 0x04)."""

    key_type: int = COSIGNATURE_V1

    def cosign(self, text: bytes, timestamp: int) -> str:
        """The signature line cosigning the checkpoint ``text`` at ``timestamp`` (POSIX)."""
        if not 0 <= timestamp < 1 << 63:
            raise NoteError("a cosignature's timestamp must fit in 63 bits")
        signed = self.private_key.sign(cosigned_message(text, timestamp))
        signature = self.verifier.key_id + struct.pack(">Q", timestamp) + signed
        return f"{EM_DASH} {self.name} {base64.b64encode(signature).decode()}\n"


def cosigned_message(text: bytes, timestamp: int) -> bytes:
    return b"cosignature/v1\ntime %d\n" % timestamp + text


def generate_signer(name: str, *, cosigner: bool = False) -> Signer:
    _check_name(name)
    key = Ed25519PrivateKey.generate()
    return CosignatureSigner(name, key) if cosigner else Signer(name, key)


def signer_from_skey(text: str) -> Signer:
    """A signer from its private key text (``PRIVATE+KEY+name+id+base64``)."""
    parts = text.strip().split("+", 4)  # base64 may hold "+"
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise NoteError("a private key must read PRIVATE+KEY+<name>+<key id>+<key>")
    name, hex_id, material = parts[2], parts[3], _b64decode(parts[4], "the private key")
    _check_name(name)
    if len(material) != 33 or material[0] not in (ED25519, COSIGNATURE_V1):
        raise NoteError("the private key is not an Ed25519 key of a known type")
    key = Ed25519PrivateKey.from_private_bytes(material[1:])
    cls = CosignatureSigner if material[0] == COSIGNATURE_V1 else Signer
    signer = cls(name, key)
    if signer.verifier.key_id.hex() != hex_id.lower():
        raise NoteError("the private key's key ID does not match its name and key")
    return signer


def verifier_from_vkey(text: str) -> Verifier:
    """A trusted key from its vkey text (``name+id+base64(type ‖ key)``), types 0x01 and 0x04."""
    parts = text.strip().split("+", 2)  # base64 may hold "+"
    if len(parts) != 3:
        raise NoteError("a verifier key must read <name>+<key id>+<key>")
    name, hex_id, material = parts[0], parts[1], _b64decode(parts[2], "the verifier key")
    _check_name(name)
    if len(material) != 33 or material[0] not in (ED25519, COSIGNATURE_V1):
        raise NoteError("the verifier key is not an Ed25519 key of a known type")
    verifier = Verifier(name, material[0], Ed25519PublicKey.from_public_bytes(material[1:]))
    if verifier.key_id.hex() != hex_id.lower():
        raise NoteError("the verifier key's key ID does not match its name and key")
    return verifier


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    signature: bytes  # without the key ID
    line: str


@dataclass(frozen=True)
class Note:
    text: bytes
    signatures: tuple[Signature, ...]
    verified_by: tuple[Verifier, ...] = field(default=())

    def to_bytes(self) -> bytes:
        return self.text + b"\n" + "".join(s.line for s in self.signatures).encode()


def parse_note(data: bytes) -> Note:
    """Split a signed note into its text and signature lines, checking the format only."""
    if len(data) > MAX_NOTE_BYTES:
        raise NoteError("the note is too large")
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise NoteError("the note is not UTF-8") from error
    if any(ord(char) < 0x20 and char != "\n" for char in decoded):
        raise NoteError("the note holds a control character")
    if not decoded.endswith("\n"):
        raise NoteError("the note does not end in a newline")
    split = decoded.rfind("\n\n")
    if split < 0:
        raise NoteError("the note has no blank line before its signatures")
    text, block = decoded[: split + 1], decoded[split + 2 :]
    lines = block.split("\n")[:-1]
    if not lines:
        raise NoteError("the note has no signatures")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError("the note has too many signatures")
    signatures = []
    for line in lines:
        match = _SIGNATURE_LINE.fullmatch(line)
        if match is None:
            raise NoteError("a signature line is malformed")
        raw = _b64decode(match["signature"], "a signature")
        if len(raw) < 5:
            raise NoteError("a signature is too short")
        signatures.append(Signature(match["name"], raw[:4], raw[4:], line + "\n"))
    return Note(text.encode(), tuple(signatures))


def open_note(data: bytes, verifiers: Iterable[Verifier]) -> Note:
    """Parse a note and check it against the trusted keys: every signature by a known key must
    verify, and at least one must. ``verified_by`` lists the keys whose signatures verified."""
    note = parse_note(data)
    known = {(v.name, v.key_id): v for v in verifiers}
    verified: list[Verifier] = []
    for signature in note.signatures:
        verifier = known.get((signature.name, signature.key_id))
        if verifier is None:
            continue
        if not verifier.verify(note.text, signature.signature):
            raise NoteError(f"the signature of {signature.name} does not verify")
        if verifier not in verified:
            verified.append(verifier)
    if not verified:
        raise NoteError("the note is not signed by any trusted key")
    return Note(note.text, note.signatures, tuple(verified))


def sign_note(text: bytes, *signers: Signer) -> bytes:
    """A signed note: ``text`` (ending in a newline), a blank line, one line per signer."""
    if not text.endswith(b"\n"):
        raise NoteError("a note's text must end in a newline")
    if not signers:
        raise NoteError("a note needs at least one signature")
    return text + b"\n" + "".join(s.signature_line(text) for s in signers).encode()


def add_signatures(data: bytes, lines: Sequence[str]) -> bytes:
    """The note with more signature lines (cosignatures), each line kept once."""
    note = parse_note(data)
    present = {s.line for s in note.signatures}
    extra = []
    for line in lines:
        line = line if line.endswith("\n") else line + "\n"
        if line not in present:
            parse_note(b"x\n\n" + line.encode())  # the line's own format
            present.add(line)
            extra.append(line)
    return data + "".join(extra).encode()


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> bytes:
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode()]
        return ("\n".join([*lines, *self.extensions]) + "\n").encode()


def parse_checkpoint(text: bytes) -> Checkpoint:
    """The checkpoint in a note's text (origin, size, root hash, extension lines)."""
    lines = text.decode("utf-8", errors="strict").split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise NoteError("a checkpoint has at least three lines, each ending in a newline")
    origin, size, root_hash, *extensions = lines[:-1]
    if not origin or any(not line for line in extensions):
        raise NoteError("a checkpoint's origin and extension lines must not be empty")
    if not _DECIMAL.fullmatch(size):
        raise NoteError("a checkpoint's tree size is not a decimal number")
    root = _b64decode(root_hash, "the checkpoint's root hash")
    if len(root) != 32:
        raise NoteError("a checkpoint's root hash is not 32 bytes")
    return Checkpoint(origin, int(size), root, tuple(extensions))


def open_checkpoint(
    data: bytes, log: Verifier, witnesses: Sequence[Verifier] = ()
) -> tuple[Checkpoint, Note]:
    """A checkpoint signed by the log's key, and cosigned by every one of ``witnesses``."""
    note = open_note(data, [log, *witnesses])
    if log not in note.verified_by:
        raise NoteError(f"the checkpoint is not signed by the log's key {log.name}")
    missing = [w.name for w in witnesses if w not in note.verified_by]
    if missing:
        raise NoteError(f"the checkpoint has no cosignature from {', '.join(missing)}")
    checkpoint = parse_checkpoint(note.text)
    if checkpoint.origin != log.name:
        raise NoteError("the checkpoint's origin is not the log's key name")
    return checkpoint, note
