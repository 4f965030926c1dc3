"""A transparency-log witness: C2SP tlog-witness (c2sp.org/tlog-witness), ``add-checkpoint``.

A witness keeps, for each log it watches (known by its origin line and its key), the latest
checkpoint it cosigned, and cosigns a new one only when it is consistent with that one. A hub
that rewrote or truncated its audit log cannot get a new checkpoint past a witness, and a
checkpoint that carries the witness's cosignature is one the witness saw as an extension of every
earlier one. Another board, the Autoriteit Persoonsgegevens or a sector body runs it with
``regie witness`` (``docs/witness.md``).

The protocol (section "add-checkpoint"):

- ``POST /add-checkpoint`` with ``old <size>``, the consistency proof (base64 hashes, one a line,
  at most 63), an empty line, then the signed checkpoint note;
- 200: the witness's cosignature lines (cosignature/v1, c2sp.org/tlog-cosignature: a timestamped
  Ed25519 signature); 400 a malformed request or an old size above the checkpoint's;
  403 no trusted signature from the log, or one that does not verify; 404 an unknown origin;
  409 the old size is not the witness's latest (body: its size, ``text/x.tlog.size``);
  422 the checkpoint is not consistent with the latest (a fork), or an empty tree with a root
  that is not the empty tree's.
- ``GET /<hex SHA-256 of the origin>/checkpoint`` (section "Monitor Retrieval Mechanism"): the
  latest checkpoint it cosigned, with the log's signature and its cosignature.

Its state is a SQLite file of its own (stdlib :mod:`sqlite3`, never the hub's database): the
logs it witnesses, their keys and the latest size and root hash it cosigned, and the refused
checkpoints that were validly signed (evidence that a log misbehaved). Checking the old size and
storing the new checkpoint happen in one write transaction whose update is also a compare-and-
swap, so that two requests at once cannot both advance (the race the spec describes).

No Django here (a test checks): a witness is run by people who do not run regie's hub.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import os
import re
import signal
import sqlite3
import sys
import threading
import time
import typing
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment

from regie.audit import rfc9162
from regie.audit.signed_note import (
    Checkpoint,
    CosignatureSigner,
    Note,
    NoteError,
    Verifier,
    add_signatures,
    b64decode_canonical,
    generate_signer,
    open_note,
    parse_checkpoint,
    parse_note,
    signer_from_skey,
    verifier_from_vkey,
)
from regie.lib.logging import configure_logging, get_logger
from regie.lib.serving import port_taken, run_until_stopped, stop_serving

logger = get_logger(__name__)

SIZE_CONTENT_TYPE = "text/x.tlog.size"
COSIGNATURE_CONTENT_TYPE = "text/plain; charset=utf-8"
MAX_PROOF_LINES = 63
MAX_BODY_BYTES = 1 << 17  # 63 proof lines and a note of at most 64 KiB fit easily
KEY_FILE = "witness.key"
STATE_FILE = "witness.sqlite3"
_OLD_LINE = re.compile(r"old (0|[1-9][0-9]{0,18})")
_ORIGIN_HASH_PATH = re.compile(r"/([0-9a-f]{64})/checkpoint")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS log (
    origin TEXT PRIMARY KEY,
    size INTEGER NOT NULL DEFAULT 0,
    root BLOB NOT NULL,
    checkpoint BLOB,
    updated_at INTEGER
);
CREATE TABLE IF NOT EXISTS log_key (
    origin TEXT NOT NULL REFERENCES log (origin),
    vkey TEXT NOT NULL,
    PRIMARY KEY (origin, vkey)
);
CREATE TABLE IF NOT EXISTS refused (
    id INTEGER PRIMARY KEY,
    origin TEXT NOT NULL REFERENCES log (origin),
    received_at INTEGER NOT NULL,
    old_size INTEGER NOT NULL,
    reason TEXT NOT NULL,
    request BLOB NOT NULL
);
"""


# --- The spec's answers, one exception class each --------------------------------------------


class AddCheckpointError(Exception):
    """A request the witness answers with an error status; the message is the one-line body."""

    status = "500 Internal Server Error"


class BadRequest(AddCheckpointError):
    status = "400 Bad Request"


class Forbidden(AddCheckpointError):
    status = "403 Forbidden"


class UnknownLog(AddCheckpointError):
    status = "404 Not Found"


class SizeConflict(AddCheckpointError):
    """The old size is not the latest the witness cosigned (409, its size in the body)."""

    status = "409 Conflict"

    def __init__(self, size: int) -> None:
        super().__init__(f"the latest size this witness cosigned is {size}")
        self.size = size


class Inconsistent(AddCheckpointError):
    """The checkpoint does not extend the latest one the witness cosigned (422)."""

    status = "422 Unprocessable Entity"


# --- The request ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AddCheckpoint:
    """An add-checkpoint request body, parsed: the format only, nothing verified yet."""

    old_size: int
    proof: tuple[bytes, ...]
    note: bytes


def format_add_checkpoint(old_size: int, proof: Sequence[bytes], note: bytes) -> bytes:
    """The request body: ``old N``, the proof's hashes in base64, an empty line, the note."""
    lines = [f"old {old_size}\n", *(base64.b64encode(h).decode() + "\n" for h in proof), "\n"]
    return "".join(lines).encode() + note


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """The request's parts; raises :class:`BadRequest` naming the first thing that is wrong."""
    head, blank, note = body.partition(b"\n\n")
    if not blank:
        raise BadRequest("the request has no empty line between the proof and the checkpoint")
    try:
        lines = head.decode("ascii").split("\n")
    except UnicodeDecodeError:
        raise BadRequest("the old size and proof lines must be ASCII") from None
    match = _OLD_LINE.fullmatch(lines[0])
    if match is None:
        raise BadRequest("the first line must be 'old <size>' (a decimal, no leading zeroes)")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise BadRequest(f"the consistency proof has more than {MAX_PROOF_LINES} lines")
    proof = []
    for number, line in enumerate(lines[1:], start=2):
        try:
            value = b64decode_canonical(line)
        except binascii.Error:
            raise BadRequest(f"line {number} is not a base64 hash") from None
        if len(value) != rfc9162.HASH_SIZE:
            raise BadRequest(f"line {number} is not a {rfc9162.HASH_SIZE}-byte hash")
        proof.append(value)
    return AddCheckpoint(int(match[1]), tuple(proof), note)


# --- The state ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogState:
    origin: str
    size: int
    root: bytes
    keys: tuple[str, ...]
    checkpoint: bytes | None  # the latest cosigned note, None before the first


class State:
    """The witness's SQLite file: a fresh connection per use (requests run in threads)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        # isolation_level=None: transactions are begun explicitly (BEGIN IMMEDIATE below).
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as connection:
            connection.execute("PRAGMA foreign_keys = ON")
            yield connection

    def create(self) -> None:
        with self.connect() as connection:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.executescript(_SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction taken at once: other writers wait until it ends."""
        with self.connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def add_log(self, origin: str, vkey: str) -> None:
        """Witness the log ``origin`` and trust ``vkey`` for its checkpoints (a log may have
        several keys, e.g. while it rotates its key)."""
        with self.transaction() as connection:
            connection.execute(
                "INSERT OR IGNORE INTO log (origin, root) VALUES (?, ?)",
                (origin, rfc9162.EMPTY_ROOT),
            )
            connection.execute(
                "INSERT OR IGNORE INTO log_key (origin, vkey) VALUES (?, ?)", (origin, vkey)
            )

    def log(self, origin: str, connection: sqlite3.Connection | None = None) -> LogState | None:
        if connection is None:
            with self.connect() as own:
                return self.log(origin, own)
        row = connection.execute(
            "SELECT size, root, checkpoint FROM log WHERE origin = ?", (origin,)
        ).fetchone()
        if row is None:
            return None
        keys = connection.execute(
            "SELECT vkey FROM log_key WHERE origin = ? ORDER BY vkey", (origin,)
        ).fetchall()
        return LogState(origin, row[0], row[1], tuple(key for (key,) in keys), row[2])

    def origins(self) -> list[str]:
        with self.connect() as connection:
            return [o for (o,) in connection.execute("SELECT origin FROM log ORDER BY origin")]

    @staticmethod
    def advance(
        connection: sqlite3.Connection,
        latest: LogState,
        size: int,
        root: bytes,
        checkpoint: bytes,
        now: int,
    ) -> bool:
        """Store the new latest checkpoint if the latest is still ``latest`` (compare-and-swap);
        whether it was stored."""
        cursor = connection.execute(
            "UPDATE log SET size = ?, root = ?, checkpoint = ?, updated_at = ?"
            " WHERE origin = ? AND size = ? AND root = ?",
            (size, root, checkpoint, now, latest.origin, latest.size, latest.root),
        )
        return cursor.rowcount == 1

    @staticmethod
    def keep_refused(
        connection: sqlite3.Connection, origin: str, old_size: int, reason: str, request: bytes
    ) -> None:
        connection.execute(
            "INSERT INTO refused (origin, received_at, old_size, reason, request)"
            " VALUES (?, ?, ?, ?, ?)",
            (origin, int(time.time()), old_size, reason, request),
        )

    def refused(self, origin: str) -> list[tuple[int, str, bytes]]:
        """The validly signed checkpoints refused for ``origin``: old size, reason, request."""
        with self.connect() as connection:
            return list(
                connection.execute(
                    "SELECT old_size, reason, request FROM refused WHERE origin = ? ORDER BY id",
                    (origin,),
                )
            )


# --- The witness ----------------------------------------------------------------------------


def _verifiers(keys: Iterable[str]) -> list[Verifier]:
    return [verifier_from_vkey(key) for key in keys]


def _check_consistency(latest: LogState, request: AddCheckpoint, size: int, root: bytes) -> None:
    """The checks of section add-checkpoint after the old size matched; raises Inconsistent."""
    if size == 0 and root != rfc9162.EMPTY_ROOT:
        raise Inconsistent("a checkpoint of size 0 must have the empty tree's root hash")
    if request.old_size == 0:
        if request.proof:
            raise Inconsistent("from old size 0 the consistency proof must be empty")
        return
    if request.old_size == size:
        if latest.root != root:
            raise Inconsistent("the checkpoint has this size but a different root hash (a fork)")
        if request.proof:
            raise Inconsistent("between equal sizes the consistency proof must be empty")
        return
    try:
        rfc9162.verify_consistency(request.old_size, size, request.proof, latest.root, root)
    except rfc9162.ProofError as error:
        raise Inconsistent(f"the consistency proof does not verify: {error}") from None


class Witness:
    """The witness: its cosigning key and its state; :meth:`add_checkpoint` is the protocol."""

    def __init__(self, signer: CosignatureSigner, state: State) -> None:
        self.signer = signer
        self.state = state

    @classmethod
    def load(cls, directory: Path) -> Witness:
        """The witness kept in ``directory`` (made by :func:`init`)."""
        key_path = directory / KEY_FILE
        try:
            signer = signer_from_skey(key_path.read_text(encoding="utf-8"))
        except OSError as error:
            raise SetupError(
                f"cannot read the witness key {key_path} ({error.strerror}): "
                "run `regie witness init` first"
            ) from None
        except NoteError as error:
            raise SetupError(f"the witness key {key_path} is not usable: {error}") from None
        if not isinstance(signer, CosignatureSigner):
            raise SetupError(f"the key in {key_path} is not a cosignature/v1 key")
        state = State(directory / STATE_FILE)
        state.create()
        return cls(signer, state)

    @property
    def vkey(self) -> str:
        return self.signer.verifier.vkey

    def open(self, request: AddCheckpoint) -> tuple[Note, Checkpoint]:
        """The request's checkpoint, signed by its log (400, 404, 403 in the spec's order)."""
        try:
            checkpoint = parse_checkpoint(parse_note(request.note).text)
        except NoteError as error:
            raise BadRequest(f"the checkpoint is malformed: {error}") from None
        known = self.state.log(checkpoint.origin)
        if known is None:
            raise UnknownLog("this witness does not witness a log with this origin")
        try:
            note = open_note(request.note, _verifiers(known.keys))
        except NoteError as error:
            raise Forbidden(f"the log's signature does not verify: {error}") from None
        if request.old_size > checkpoint.size:
            raise BadRequest("the old size is larger than the checkpoint's size")
        return note, checkpoint

    def add_checkpoint(self, body: bytes, now: int | None = None) -> str:
        """Answer an add-checkpoint request: the cosignature line (or an AddCheckpointError)."""
        request = parse_add_checkpoint(body)
        note, checkpoint = self.open(request)
        timestamp = int(time.time()) if now is None else now
        if timestamp <= 0:
            raise AddCheckpointError("the clock is before 1970: refusing to cosign")
        with self.state.transaction() as connection:
            latest = self.state.log(checkpoint.origin, connection)
            if latest is None:  # logs are never removed
                raise UnknownLog("this witness does not witness a log with this origin")
            if request.old_size != latest.size:
                raise SizeConflict(latest.size)
            try:
                _check_consistency(latest, request, checkpoint.size, checkpoint.root_hash)
            except Inconsistent as error:
                # Validly signed yet inconsistent: kept as evidence that the log misbehaved.
                State.keep_refused(connection, latest.origin, request.old_size, str(error), body)
                refusal: Inconsistent | None = error
            else:
                refusal = None
                line = self.signer.cosign(note.text, timestamp)
                cosigned = add_signatures(_log_signed(note), [line])
                if not State.advance(
                    connection, latest, checkpoint.size, checkpoint.root_hash, cosigned, timestamp
                ):
                    raise SizeConflict(latest.size)  # cannot happen under BEGIN IMMEDIATE
        if refusal is not None:
            logger.warning(
                "witness.refused_inconsistent",
                origin=latest.origin,
                old_size=request.old_size,
                size=checkpoint.size,
                reason=str(refusal),
            )
            raise refusal
        logger.info(
            "witness.cosigned",
            origin=latest.origin,
            old_size=request.old_size,
            size=checkpoint.size,
        )
        return line

    def checkpoint_for(self, origin_hash: str) -> bytes | None:
        """The latest cosigned checkpoint of the log whose origin hashes to ``origin_hash``."""
        for origin in self.state.origins():
            if hashlib.sha256(origin.encode()).hexdigest() == origin_hash:
                known = self.state.log(origin)
                return None if known is None else known.checkpoint
        return None


def _log_signed(note: Note) -> bytes:
    """The note with only the log's signatures that verified (no unverified third parties)."""
    trusted = {(v.name, v.key_id) for v in note.verified_by}
    lines = [s.line for s in note.signatures if (s.name, s.key_id) in trusted]
    return note.text + b"\n" + "".join(lines).encode()


# --- HTTP -----------------------------------------------------------------------------------


class WitnessApp:
    """The WSGI application: ``POST /add-checkpoint``, ``GET /<origin hash>/checkpoint`` and
    ``GET /`` (the witness's verifier key, for people setting it up)."""

    def __init__(self, witness: Witness) -> None:
        self.witness = witness

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/add-checkpoint":
            if method != "POST":
                return _answer(start_response, "405 Method Not Allowed", "use POST\n", allow="POST")
            return self.add_checkpoint(environ, start_response)
        if method not in ("GET", "HEAD"):
            return _answer(start_response, "405 Method Not Allowed", "use GET\n", allow="GET")
        if path == "/":
            return _answer(start_response, "200 OK", self.witness.vkey + "\n")
        match = _ORIGIN_HASH_PATH.fullmatch(path)
        checkpoint = None if match is None else self.witness.checkpoint_for(match[1])
        if checkpoint is None:
            return _answer(start_response, "404 Not Found", "no such checkpoint\n")
        return _answer(start_response, "200 OK", checkpoint.decode())

    def add_checkpoint(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> list[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _answer(start_response, "400 Bad Request", "a bad Content-Length\n")
        if length > MAX_BODY_BYTES:
            return _answer(start_response, "413 Content Too Large", "the request is too large\n")
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        try:
            line = self.witness.add_checkpoint(body)
        except SizeConflict as conflict:
            return _answer(
                start_response,
                conflict.status,
                f"{conflict.size}\n",
                content_type=SIZE_CONTENT_TYPE,
            )
        except AddCheckpointError as error:
            if not isinstance(error, Inconsistent):
                logger.info("witness.refused", status=error.status, reason=str(error))
            return _answer(start_response, error.status, f"{error}\n")
        return _answer(start_response, "200 OK", line, content_type=COSIGNATURE_CONTENT_TYPE)


def _answer(
    start_response: StartResponse,
    status: str,
    body: str,
    *,
    content_type: str = "text/plain; charset=utf-8",
    allow: str | None = None,
) -> list[bytes]:
    data = body.encode()
    headers = [("Content-Type", content_type), ("Content-Length", str(len(data)))]
    if allow is not None:
        headers.append(("Allow", allow))
    start_response(status, headers)
    return [data]


# --- Setting up and serving (``regie witness``) --------------------------------------------


class SetupError(Exception):
    """A witness that cannot be set up or started; the message is one line for the operator."""


def init(directory: Path, name: str) -> str:
    """Make a new witness in ``directory``: its cosigning key (file mode 0600) and its state.
    Returns its verifier key, which the logs it witnesses configure."""
    try:
        signer = generate_signer(name, cosigner=True)
    except NoteError as error:
        raise SetupError(f"the witness name is not usable: {error}") from None
    key_path = directory / KEY_FILE
    if key_path.exists():
        raise SetupError(f"{key_path} exists already: this directory has a witness")
    directory.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(signer.skey + "\n")
    State(directory / STATE_FILE).create()
    return signer.verifier.vkey


def add_log(directory: Path, origin: str, vkey: str) -> None:
    """Witness the log ``origin``, whose checkpoints are signed with ``vkey``."""
    witness = Witness.load(directory)
    if not origin or any(char.isspace() for char in origin):
        raise SetupError("an origin is one line without spaces, e.g. regie.bestuur.example/log")
    try:
        verifier = verifier_from_vkey(vkey)
    except NoteError as error:
        raise SetupError(f"the log's key is not usable: {error}") from None
    if verifier.key_type != 0x01:
        raise SetupError("the log's key must be an Ed25519 note key (type 0x01)")
    witness.state.add_log(origin, verifier.vkey)


def serve(directory: Path, *, host: str, port: int, threads: int = 4) -> None:
    """Serve the witness in ``directory`` until SIGTERM or SIGINT."""
    from waitress.server import create_server

    witness = Witness.load(directory)
    if port_taken(host, port):
        raise SetupError(f"port {port} is taken on {host}: choose another with --port")
    server: Any = create_server(
        WitnessApp(witness), host=host, port=port, threads=threads, ident="regie-witness"
    )
    stop = threading.Event()

    def shut_down(signum: int, frame: FrameType | None) -> None:
        logger.info("witness.stopping", signal=signal.Signals(signum).name)
        stop_serving(server, stop)

    signal.signal(signal.SIGTERM, shut_down)
    signal.signal(signal.SIGINT, shut_down)
    logger.info("witness.started", url=f"http://{host}:{port}/", vkey=witness.vkey)
    run_until_stopped(server, stop)
    logger.info("witness.stopped")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="regie witness",
        description="A C2SP tlog-witness: cosigns a log's checkpoints that extend the last one.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    init_command = commands.add_parser("init", help="make the witness's key; prints its vkey")
    init_command.add_argument("--name", required=True, help="its key name, e.g. ap.example/w1")
    add_command = commands.add_parser("add-log", help="witness a log (origin and its key)")
    add_command.add_argument("--origin", required=True, help="the log's checkpoint origin line")
    add_command.add_argument("--key", required=True, help="the log's verifier key (vkey)")
    serve_command = commands.add_parser("serve", help="serve POST /add-checkpoint over HTTP")
    serve_command.add_argument("--host", default="127.0.0.1")
    serve_command.add_argument("--port", type=int, default=8700)
    for command in (init_command, add_command, serve_command):
        command.add_argument("--state", required=True, type=Path, help="the witness's directory")
    return parser


def _configure_logging() -> None:
    """As the hub's settings do (``REGIE_LOG_LEVEL``, ``REGIE_LOG_FORMAT``), without Django."""
    level = os.environ.get("REGIE_LOG_LEVEL", "INFO")
    log_format = os.environ.get("REGIE_LOG_FORMAT", "console")
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"} or log_format not in {"console", "json"}:
        raise SetupError("REGIE_LOG_LEVEL or REGIE_LOG_FORMAT has a value regie does not know")
    configure_logging(level=level, json=log_format == "json")


def main(argv: Sequence[str] | None = None) -> int:
    """``regie witness init|add-log|serve``; errors are one line on stderr and exit status 2."""
    arguments = _parser().parse_args(argv)
    try:
        _configure_logging()
        if arguments.command == "init":
            print(init(arguments.state, arguments.name))
        elif arguments.command == "add-log":
            add_log(arguments.state, arguments.origin, arguments.key)
            print(f"witnessing {arguments.origin}")
        else:
            serve(arguments.state, host=arguments.host, port=arguments.port)
    except (SetupError, OSError, sqlite3.DatabaseError) as error:
        print(f"regie witness: {error}", file=sys.stderr)
        return 2
    return 0
