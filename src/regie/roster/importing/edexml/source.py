"""Reading an EDEXML file's bytes: size, encoding and well-formedness, then the records.

:func:`parse_edexml` streams the file through expat (via defusedxml: no DTD, no entities) into a
:class:`~.reader.Reader`, a chunk at a time.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError
from django.utils.translation import gettext_noop

from regie.roster.importing.files import (
    BOM_NOT_UTF8,
    EMPTY,
    detect_encoding,
    encoding_name,
    path_opener,
)
from regie.roster.importing.records import Limits, RosterExport

from .reader import Reader, refused

_CHUNK_BYTES = 64 * 1024
_BOM = b"\xef\xbb\xbf"
_UTF16_STARTS = (b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<")
_DECLARED_ENCODING = re.compile(
    rb"<\?xml\s[^>]*?encoding\s*=\s*[\"']([A-Za-z][A-Za-z0-9._-]*)[\"']"
)
_EXPAT_ENCODINGS = {"utf-8", "utf-16", "utf-16-le", "utf-16-be", "iso8859-1", "ascii"}


@dataclass(frozen=True)
class _Encoding:
    """What the first bytes say about a file's encoding (:func:`_sniff`)."""

    declared: str  # the codec an XML declaration or UTF-16 start names; "" for UTF-8 or none
    utf8_reason: str  # why the file is refused when it is not UTF-8; "" when expat decides
    recognise: bool = False  # no declaration, no BOM: a file wholly in Windows-1252 is read


class _NotUtf8(Exception):
    """An undeclared file turned out not to be UTF-8: is it wholly Windows-1252?"""


def parse_edexml(
    source: Path, limits: Limits | None = None, *, name: str | None = None
) -> RosterExport:
    """Read and validate one EDEXML file. Content problems are in ``problems``, naming the file
    as ``name`` (the name it was uploaded under; default: its own name on disk).

    The encoding: the one its XML declaration (or UTF-16 start) names; without one, UTF-8, or —
    as for OneRoster CSV (:func:`~regie.roster.importing.files.detect_encoding`) — a file wholly
    in Windows-1252; a file mixing UTF-8 with another encoding is refused, naming the line. The
    encoding, when not UTF-8, is in the result's ``encodings`` for the preview to name.

    Raises :class:`ImportRefused` when the file cannot be read as EDEXML at all: empty, too
    large, not XML, badly encoded, malformed, declaring a DTD or entities, or another root.
    """
    limits = limits or Limits.from_settings()
    file = name or source.name
    size = source.stat().st_size
    if size == 0:
        raise refused(file, None, EMPTY)
    if size > limits.max_upload_bytes:
        reason = gettext_noop(
            "het bestand is %(size)s bytes; er worden er hoogstens %(most)s geaccepteerd"
        )
        raise refused(file, None, reason, {"size": size, "most": limits.max_upload_bytes})
    try:
        return _parse(source, file, limits, None)
    except _NotUtf8:
        codec = detect_encoding(path_opener(source), file)  # refuses mixed text, with its line
        return _parse(source, file, limits, codec)


def _parse(source: Path, file: str, limits: Limits, codec: str | None) -> RosterExport:
    """One pass of expat over the file; ``codec`` overrides the document's own encoding."""
    reader = Reader(file)
    parser = DefusedXMLParser(target=reader, forbid_dtd=True, encoding=codec)
    reader.line_number = lambda: parser.parser.CurrentLineNumber
    with source.open("rb") as stream:
        try:
            encoding = _feed(stream, parser, file, limits.max_upload_bytes, check=codec is None)
        except ParseError as error:
            # expat explains in English and may quote the file: the reason stays general.
            reason = gettext_noop("het bestand is geen goed gevormde XML")
            raise refused(file, error.position[0], reason) from None
        except DefusedXmlException:
            line = parser.parser.CurrentLineNumber
            reason = gettext_noop(
                "de XML declareert een DTD of entiteiten, en die zijn niet toegestaan"
            )
            raise refused(file, line, reason) from None
    export = reader.finish()
    used = codec or encoding.declared
    if used and not used.startswith("utf-8"):
        export.encodings[file] = encoding_name(used)
    return export


def _feed(
    stream: IO[bytes], parser: DefusedXMLParser, file: str, max_bytes: int, *, check: bool
) -> _Encoding:
    chunk = stream.read(_CHUNK_BYTES)
    encoding = _sniff(chunk, file)
    decoder = None
    if check and encoding.utf8_reason:
        decoder = codecs.getincrementaldecoder("utf-8")()
    lines_before = 0
    total = 0
    while chunk:
        total += len(chunk)
        if total > max_bytes:
            reason = gettext_noop("het bestand is groter dan %(most)s bytes")
            raise refused(file, None, reason, {"most": max_bytes})
        if decoder is not None:
            _check_utf8(decoder, chunk, lines_before, file, encoding)
            lines_before += chunk.count(b"\n")
        parser.feed(chunk)
        chunk = stream.read(_CHUNK_BYTES)
    if decoder is not None:
        _check_utf8(decoder, b"", lines_before, file, encoding, final=True)
    parser.close()
    return encoding


def _sniff(first: bytes, file: str) -> _Encoding:
    """Refuse what is not XML or names an unusable encoding; say how to check the encoding."""
    if first.startswith(_UTF16_STARTS):
        return _Encoding("utf-16", "")
    bom = first.startswith(_BOM)
    body = first.removeprefix(_BOM).lstrip(b" \t\r\n")
    if not body:
        raise refused(file, None, gettext_noop("het bestand is leeg: het bevat alleen witruimte"))
    if not body.startswith(b"<") or b"\x00" in first:
        raise refused(file, None, gettext_noop("geen XML-bestand"))
    declared = _DECLARED_ENCODING.match(body)
    if declared is None and bom:
        return _Encoding("", BOM_NOT_UTF8)
    if declared is None:
        return _Encoding("", gettext_noop("het bestand is geen geldige UTF-8"), recognise=True)
    try:
        codec = codecs.lookup(declared[1].decode("ascii")).name
    except LookupError:
        reason = gettext_noop(
            "de XML-declaratie noemt een onbekende codering; gebruik UTF-8 of windows-1252"
        )
        raise refused(file, 1, reason) from None
    if codec == "utf-8":
        return _Encoding(
            "", gettext_noop("het bestand zegt UTF-8 te zijn, maar is geen geldige UTF-8")
        )
    if codec not in _EXPAT_ENCODINGS and len(bytes(range(256)).decode(codec, "replace")) != 256:
        reason = gettext_noop(
            "de XML-declaratie noemt een multibytecodering; gebruik UTF-8 of windows-1252"
        )
        raise refused(file, 1, reason)
    return _Encoding(codec, "")


def _check_utf8(
    decoder: codecs.IncrementalDecoder,
    chunk: bytes,
    lines_before: int,
    file: str,
    encoding: _Encoding,
    final: bool = False,
) -> None:
    pending = decoder.getstate()[0]
    try:
        decoder.decode(chunk, final=final)
    except UnicodeDecodeError as error:
        if encoding.recognise:
            raise _NotUtf8 from None
        # ``pending`` is the start of a multi-byte sequence: it holds no newline.
        line = lines_before + chunk[: max(0, error.start - len(pending))].count(b"\n") + 1
        raise refused(file, line, encoding.utf8_reason) from None
