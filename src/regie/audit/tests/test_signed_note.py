"""C2SP signed notes, checkpoints and cosignatures: the specs' own examples, Go's sumdb/note
test vector, and what a verifier must refuse."""

from __future__ import annotations

import base64
import binascii
import struct

import pytest

from regie.audit import signed_note as sn

# The example in c2sp.org/signed-note ("Verifier keys", Example).
C2SP_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_NOTE = (
    "This is an example message.\n\n"
    "\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mF"
    "XmRKuwHjG1Yu72IneyaQM=\n"
).encode()

# golang.org/x/mod/sumdb/note's test vector (note_test.go): Ed25519 is deterministic, so signing
# the text with the private key must give exactly this signature line.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    b"If you think cryptography is the answer to your problem,\n"
    b"then you don't know what your problem is.\n"
)
GO_SIGNATURE = (
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqd"
    "ngotpRZb6KE6RyyBwJnAM=\n"
)


def test_the_c2sp_example_note_verifies_with_its_vkey() -> None:
    verifier = sn.verifier_from_vkey(C2SP_VKEY)
    note = sn.open_note(C2SP_NOTE, [verifier])
    assert note.text == b"This is an example message.\n"
    assert note.verified_by == (verifier,)
    assert verifier.vkey == C2SP_VKEY


def test_the_go_vector_is_reproduced_byte_for_byte() -> None:
    signer = sn.signer_from_skey(GO_SKEY)
    assert signer.verifier.vkey == GO_VKEY
    assert signer.skey == GO_SKEY
    assert sn.sign_note(GO_TEXT, signer) == GO_TEXT + b"\n" + GO_SIGNATURE.encode()


def test_a_changed_text_or_signature_is_refused() -> None:
    verifier = sn.verifier_from_vkey(C2SP_VKEY)
    with pytest.raises(sn.NoteError, match="does not verify"):
        sn.open_note(C2SP_NOTE.replace(b"example message", b"example massage"), [verifier])
    line = C2SP_NOTE.split(b"\n")[2].decode()
    raw = bytearray(base64.b64decode(line.split(" ")[2]))
    raw[10] ^= 1
    forged = b"This is an example message.\n\n" + (
        f"\u2014 example.com/foo {base64.b64encode(bytes(raw)).decode()}\n".encode()
    )
    with pytest.raises(sn.NoteError, match="does not verify"):
        sn.open_note(forged, [verifier])


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("AQ==", True),
        ("AR==", False),  # the same byte, with unused bits set
        ("AQI=", True),
        ("AQJ=", False),
        ("AQID", True),
        ("AQ", False),  # padding missing
        ("A Q==", False),
    ],
)
def test_base64_is_read_only_in_its_canonical_spelling(text: str, canonical: bool) -> None:
    if canonical:
        assert base64.b64encode(sn.b64decode_canonical(text)).decode() == text
    else:
        with pytest.raises(binascii.Error):
            sn.b64decode_canonical(text)


def test_a_signature_spelled_another_way_is_refused() -> None:
    """The example's signature ends in "M=": "N=" decodes to the same bytes (unused low bits),
    so a lenient reader would accept a changed note; every byte of a note counts."""
    verifier = sn.verifier_from_vkey(C2SP_VKEY)
    assert C2SP_NOTE.endswith(b"M=\n")
    respelled = C2SP_NOTE[:-3] + b"N=\n"
    line = respelled.split(b"\n")[2].decode()
    assert base64.b64decode(line.split(" ")[2]) == base64.b64decode(
        C2SP_NOTE.split(b"\n")[2].decode().split(" ")[2]
    )
    with pytest.raises(sn.NoteError, match="not valid base64"):
        sn.open_note(respelled, [verifier])


def test_unknown_signatures_are_ignored_but_one_known_one_is_needed() -> None:
    other = sn.generate_signer("other.example/key")
    signed_by_other = sn.sign_note(b"hello\n", other)
    with pytest.raises(sn.NoteError, match="not signed by any trusted key"):
        sn.open_note(signed_by_other, [sn.verifier_from_vkey(C2SP_VKEY)])
    both = sn.add_signatures(C2SP_NOTE, [other.signature_line(b"This is an example message.\n")])
    note = sn.open_note(both, [sn.verifier_from_vkey(C2SP_VKEY)])
    assert len(note.signatures) == 2
    assert len(note.verified_by) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("no blank line\n\u2014 a AAAA\n", "blank line"),
        ("text\n\n", "no signatures"),
        ("text\n\nnot a signature\n", "malformed"),
        ("text\n\n\u2014 a !!!!\n", "malformed"),
        ("text\n\n\u2014 a AAA=\n", "too short"),
        ("te\x01xt\n\n\u2014 a AAAAAAAA\n", "control character"),
        ("text\n\n\u2014 a AAAAAAAA", "newline"),
    ],
)
def test_malformed_notes_get_a_clear_error(data: str, message: str) -> None:
    with pytest.raises(sn.NoteError, match=message):
        sn.parse_note(data.encode())


def test_a_note_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(sn.NoteError, match="not UTF-8"):
        sn.parse_note(b"\xff\n\n" + "\u2014 a AAAAAAAA\n".encode())


@pytest.mark.parametrize(
    ("vkey", "message"),
    [
        ("example.com/foo+530d903a", "must read"),
        ("example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "key ID"),
        ("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv", "known type"),
        ("example.com/foo+530d903a+%%%", "base64"),
        ("+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", "must read|non-empty"),
    ],
)
def test_malformed_keys_get_a_clear_error(vkey: str, message: str) -> None:
    with pytest.raises(sn.NoteError, match=message):
        sn.verifier_from_vkey(vkey)


def test_a_checkpoint_round_trips_and_malformed_bodies_are_refused() -> None:
    checkpoint = sn.Checkpoint("hub.example/log", 20852163, bytes(range(32)))
    assert sn.parse_checkpoint(checkpoint.text()) == checkpoint
    assert checkpoint.text().split(b"\n")[1] == b"20852163"
    for body, message in [
        (b"hub.example/log\n12\n", "three lines"),
        (b"hub.example/log\n012\n" + base64.b64encode(bytes(32)) + b"\n", "decimal"),
        (b"hub.example/log\n12\n" + base64.b64encode(bytes(31)) + b"\n", "32 bytes"),
        (b"\n12\n" + base64.b64encode(bytes(32)) + b"\n", "must not be empty"),
    ]:
        with pytest.raises(sn.NoteError, match=message):
            sn.parse_checkpoint(body)


def test_cosignatures_follow_tlog_cosignature_v1() -> None:
    """The example checkpoint of c2sp.org/tlog-cosignature, cosigned by a witness: the signed
    message is the spec's, the signature carries the key ID, the timestamp and Ed25519."""
    log = sn.generate_signer("example.com/behind-the-sofa")
    witness = sn.generate_signer("witness.example.com/w1", cosigner=True)
    assert isinstance(witness, sn.CosignatureSigner)
    text = sn.Checkpoint("example.com/behind-the-sofa", 20852163, bytes(32)).text()
    note = sn.sign_note(text, log)
    line = witness.cosign(text, 1679315147)
    raw = base64.b64decode(line.split(" ")[2])
    assert raw[:4] == witness.verifier.key_id
    assert struct.unpack(">Q", raw[4:12]) == (1679315147,)
    message = b"cosignature/v1\ntime 1679315147\n" + text
    witness.private_key.public_key().verify(raw[12:], message)
    assert base64.b64decode(witness.verifier.vkey.split("+", 2)[2])[0] == 0x04

    cosigned = sn.add_signatures(note, [line])
    witness_key = sn.verifier_from_vkey(witness.verifier.vkey)
    checkpoint, opened = sn.open_checkpoint(cosigned, log.verifier, [witness_key])
    assert checkpoint.size == 20852163
    assert len(opened.verified_by) == 2
    with pytest.raises(sn.NoteError, match=r"no cosignature from witness\.example\.com/w1"):
        sn.open_checkpoint(note, log.verifier, [witness_key])
    other_log = sn.generate_signer("example.com/behind-the-sofa")
    with pytest.raises(sn.NoteError, match="not signed by the log's key"):
        sn.open_checkpoint(cosigned, other_log.verifier, [witness_key])
