"""Reading an uploaded LAS export safely, for every format (OneRoster CSV zip, EDEXML).

Three guards, each refusing with an :class:`ImportRefused` whose :class:`Problem` names the file
and the reason, never a value from the file:

- **Size** (:func:`check_upload_size`): an empty upload, or one larger than
  ``Limits.max_upload_bytes``, is refused before anything is read.
- **Zip safety** (:func:`open_zip`, PKWARE APPNOTE.TXT §4.3–4.4): the archive must be a zip; its
  members must be plain files at the top level (no absolute paths, ``..``, backslashes, drive
  letters, subdirectories, symbolic links, encryption or duplicate names); the declared
  uncompressed sizes must stay under ``Limits.max_uncompressed_bytes`` together and under
  ``Limits.max_compression_ratio`` times their compressed size each. Declared sizes can lie, so
  the bytes actually inflated are counted while reading and reading stops at the limit
  (:class:`BoundedReader`). A zip of more than :data:`MAX_MEMBERS` files is refused before its
  central directory is loaded. Nothing is ever extracted to disk.
- **Text** (:func:`detect_encoding`, :func:`open_text`): a file is UTF-8 (``utf-8``, or
  ``utf-8-sig`` after a byte order mark), or wholly Windows-1252 (``cp1252``): no byte Windows-1252
  leaves undefined, and not one valid UTF-8 sequence of two or more bytes. A file with both UTF-8
  text and bytes that are not UTF-8 mixes encodings: reading it either way would garble names
  (Zoë → ZoÃ«), so it is refused, naming the line of the first byte that is not UTF-8; so is a
  byte order mark before text that is not UTF-8. The encoding used when it is not UTF-8 is told
  (``encodings``) so that the preview names it. Content with NUL or other C0 control characters
  (except tab, CR and LF) is binary, not text.

Both text functions stream: a file is read twice through an *opener* (a callable that opens the
content anew each time: a zip member or a file on disk), once in chunks to decide the encoding
and once line by line to parse. A large file is never held in memory whole, and a line longer
than :data:`MAX_LINE_CHARS` is refused.
"""

from __future__ import annotations

import codecs
import io
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, BinaryIO, Protocol

from django.utils.translation import gettext_noop

from regie.roster.importing.records import ImportRefused, Limits, Problem, Reason

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

READ_CHUNK = 64 * 1024
MAX_LINE_CHARS = 1024 * 1024
MAX_MEMBERS = 100  # a OneRoster 1.2 zip has at most 22 files
_EOCD_SEARCH = 22 + 65535  # the record and the longest zip comment

_BINARY = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_NOT_CP1252 = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")  # the five bytes Windows-1252 leaves undefined
# One well-formed UTF-8 sequence of two to four bytes (RFC 3629 §4).
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
BOM_NOT_UTF8 = gettext_noop(
    "geen UTF-8, hoewel het bestand begint met de byte order mark van UTF-8: sla het op als UTF-8"
)
MIXED_ENCODINGS = gettext_noop(
    "geen UTF-8, hoewel het bestand elders UTF-8-tekst bevat: gemengde coderingen zouden namen "
    "verminken; sla het bestand op als UTF-8"
)
EMPTY = gettext_noop("het bestand is leeg")
UNUSUAL_NAME = gettext_noop("(een bestand met een ongewone naam)")
ENCODING_NAMES = {"cp1252": "Windows-1252", "utf-16": "UTF-16", "iso8859-1": "ISO-8859-1"}
_PLAIN_NAME = re.compile(r"[A-Za-z][A-Za-z_.-]{0,63}")
_DRIVE = re.compile(r"[A-Za-z]:")
_UNITS = ("bytes", "KiB", "MiB", "GiB", "TiB")

Opener = Callable[[], BinaryIO]


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


def refuse(
    file: str,
    reason: str,
    line: int | None = None,
    params: Mapping[str, str | int] | None = None,
) -> ImportRefused:
    """The refusal of an upload: ``reason`` a Dutch msgid (``gettext_noop``), see :data:`Reason`."""
    return ImportRefused(
        Problem(file=file, line=line, field=None, reason=reason, params=dict(params or {}))
    )


def human_size(size: int) -> str:
    """``1073741824`` → ``"1 GiB"``, ``1610612736`` → ``"1.5 GiB"``."""
    value = float(size)
    unit = 0
    while value >= 1024 and unit < len(_UNITS) - 1:
        value /= 1024
        unit += 1
    if unit == 0:
        return f"{size} bytes"
    number = f"{value:.0f}" if value == int(value) else f"{value:.1f}"
    return f"{number} {_UNITS[unit]}"


def shown_name(name: str) -> str:
    """A member name fit for a problem: only plain names (letters, ``._-``) are repeated.

    A name is data from the upload too; one with digits or odd characters could carry anything,
    so it is described instead of shown.
    """
    return name if _PLAIN_NAME.fullmatch(name) else UNUSUAL_NAME


def check_upload_size(path: Path, limits: Limits, file: str) -> None:
    """Refuse an empty upload and one larger than ``limits.max_upload_bytes``."""
    size = path.stat().st_size
    if size == 0:
        raise refuse(file, EMPTY)
    if size > limits.max_upload_bytes:
        raise refuse(
            file,
            gettext_noop(
                "het bestand is %(size)s; het grootste dat wordt geaccepteerd is %(most)s"
            ),
            params={"size": human_size(size), "most": human_size(limits.max_upload_bytes)},
        )


class BoundedReader(io.RawIOBase):
    """A binary stream that refuses to deliver more than ``limit`` bytes of ``raw``.

    Reading past the limit raises ``ImportRefused(problem)``; ``count`` is the number of bytes
    delivered so far.
    """

    def __init__(self, raw: Readable, limit: int, problem: Problem) -> None:
        super().__init__()
        self._raw = raw
        self._limit = limit
        self._problem = problem
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        # Ask for one byte more than the limit allows, so that crossing it is noticed.
        wanted = min(len(view), self._limit - self.count + 1)
        data = self._raw.read(wanted)
        self.count += len(data)
        if self.count > self._limit:
            raise ImportRefused(self._problem)
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


class SafeZip:
    """A checked zip archive whose members are read through :class:`BoundedReader` only."""

    def __init__(self, archive: zipfile.ZipFile, file: str, limits: Limits) -> None:
        self._archive = archive
        self._file = file
        self._limits = limits
        self._infos = {info.filename: info for info in archive.infolist()}
        self._inflated: dict[str, int] = {}
        self.names: tuple[str, ...] = tuple(self._infos)

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._archive.close()

    def open(self, name: str) -> BinaryIO:
        """A fresh stream over one member, bounded by the ratio and the total size left."""
        info = self._infos[name]
        others = sum(count for member, count in self._inflated.items() if member != name)
        limit = min(
            max(info.compress_size, 1) * self._limits.max_compression_ratio,
            self._limits.max_uncompressed_bytes - others,
        )
        problem = Problem(
            self._file,
            None,
            None,
            gettext_noop(
                "%(file)s wordt bij uitpakken groter dan toegestaan (de opgegeven groottes "
                "kloppen niet: een zipbom)"
            ),
            {"file": shown_name(name)},
        )
        try:
            member = self._archive.open(info)
        except NotImplementedError:
            raise refuse(
                self._file,
                gettext_noop("een bestand in de zip gebruikt een niet-ondersteunde compressie"),
            ) from None
        reader = BoundedReader(_Guarded(member, self._file), limit, problem)
        return _Counted(reader, lambda count: self._note(name, count))

    def opener(self, name: str) -> Opener:
        return lambda: self.open(name)

    def _note(self, name: str, count: int) -> None:
        self._inflated[name] = max(self._inflated.get(name, 0), count)


class _Guarded(io.RawIOBase):
    """Turns zipfile's errors while inflating (bad CRC, truncated data) into a refusal."""

    def __init__(self, member: IO[bytes], file: str) -> None:
        super().__init__()
        self._member = member
        self._file = file

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        try:
            return self._member.read(size)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError):
            raise refuse(
                self._file,
                gettext_noop(
                    "de inhoud van een bestand in de zip past niet bij de kop (een beschadigde "
                    "zip of onjuiste groottes)"
                ),
            ) from None

    def close(self) -> None:
        self._member.close()
        super().close()


class _Counted(io.BufferedReader):
    """A buffered :class:`BoundedReader` that reports how many bytes it inflated when closed."""

    def __init__(self, reader: BoundedReader, report: Callable[[int], None]) -> None:
        super().__init__(reader, READ_CHUNK)
        self._reader = reader
        self._report = report

    def close(self) -> None:
        if not self.closed:
            self._report(self._reader.count)
        super().close()


def _member_problem(info: zipfile.ZipInfo, limits: Limits) -> Reason | None:
    name = info.filename
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return gettext_noop("een bestand in de zip heeft een absoluut pad (path traversal)"), {}
    if "\\" in name:
        return gettext_noop("de naam van een bestand in de zip bevat een backslash"), {}
    if ".." in name.split("/"):
        return gettext_noop("de naam van een bestand in de zip bevat .. (path traversal)"), {}
    if "/" in name or info.is_dir():
        return (
            gettext_noop("de zip heeft submappen; de bestanden moeten bovenaan in de zip staan"),
            {},
        )
    if info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16):
        return gettext_noop("%(file)s is een symbolische link"), {"file": shown_name(name)}
    if info.flag_bits & 0x1:
        return gettext_noop("%(file)s is versleuteld"), {"file": shown_name(name)}
    if info.file_size > max(info.compress_size, 1) * limits.max_compression_ratio:
        return (
            gettext_noop("%(file)s is meer dan %(ratio)s op 1 gecomprimeerd (een zipbom)"),
            {"file": shown_name(name), "ratio": limits.max_compression_ratio},
        )
    return None


def _declared_members(path: Path) -> int | None:
    """The member count in the end of central directory record (APPNOTE §4.3.16, §4.3.14).

    Read before :class:`zipfile.ZipFile` builds one object per member, so that a zip with
    millions of empty members is refused without using the memory. None when no record is found.
    """
    with path.open("rb") as handle:
        size = handle.seek(0, io.SEEK_END)
        handle.seek(max(0, size - _EOCD_SEARCH))
        tail = handle.read()
    end = tail.rfind(b"PK\x05\x06")
    if end < 0 or end + 22 > len(tail):
        return None
    (count,) = struct.unpack_from("<H", tail, end + 10)
    locator = end - 20
    if count == 0xFFFF and locator >= 0 and tail[locator : locator + 4] == b"PK\x06\x07":
        (offset,) = struct.unpack_from("<Q", tail, locator + 8)
        with path.open("rb") as handle:
            handle.seek(offset)
            record = handle.read(56)
        if record[:4] == b"PK\x06\x06" and len(record) == 56:
            (count,) = struct.unpack_from("<Q", record, 32)
    return int(count)


def open_zip(path: Path, limits: Limits, file: str | None = None) -> SafeZip:
    """Open ``path`` as a zip after checking every member header; refuse an unsafe archive.

    ``file`` names the upload in problems (default: the path's name). Use the result as a
    context manager; read members with :meth:`SafeZip.open` or :meth:`SafeZip.opener`.
    """
    file = file or path.name
    members = _declared_members(path)
    if members is not None and members > MAX_MEMBERS:
        raise refuse(
            file,
            gettext_noop(
                "de zip bevat %(members)s bestanden; het meeste dat wordt geaccepteerd is %(most)s"
            ),
            params={"members": members, "most": MAX_MEMBERS},
        )
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError):
        raise refuse(file, gettext_noop("geen zipbestand")) from None
    try:
        seen: set[str] = set()
        total = 0
        for info in archive.infolist():
            reason = _member_problem(info, limits)
            if reason is None and info.filename.casefold() in seen:
                reason = (
                    gettext_noop("de zip bevat %(file)s twee keer (dubbele namen)"),
                    {"file": shown_name(info.filename)},
                )
            if reason is not None:
                raise refuse(file, reason[0], params=reason[1])
            seen.add(info.filename.casefold())
            total += info.file_size
        if total > limits.max_uncompressed_bytes:
            raise refuse(
                file,
                gettext_noop(
                    "de bestanden in de zip zijn samen %(size)s; het meeste dat wordt "
                    "geaccepteerd is %(most)s"
                ),
                params={
                    "size": human_size(total),
                    "most": human_size(limits.max_uncompressed_bytes),
                },
            )
    except BaseException:
        archive.close()
        raise
    return SafeZip(archive, file, limits)


def path_opener(path: Path) -> Opener:
    """An opener for a file on disk (for a plain upload, such as an EDEXML file)."""
    return lambda: path.open("rb")


def encoding_name(codec: str) -> str:
    """How a preview names an encoding: ``cp1252`` → ``Windows-1252``."""
    name = codecs.lookup(codec).name
    return ENCODING_NAMES.get(name, name.upper())


@dataclass
class _Scan:
    """What one streaming pass learns about a file's bytes."""

    size: int = 0
    bom: bool = False
    utf8: bool = True
    bad_line: int | None = None  # the line of the first byte that is not UTF-8
    cp1252: bool = True
    utf8_sequence: bool = False  # a valid multi-byte UTF-8 sequence somewhere


def _scan(opener: Opener, file: str) -> _Scan:
    scan = _Scan()
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines_before = 0
    tail = b""  # the end of the previous chunk: a sequence may straddle two
    with opener() as stream:
        while chunk := stream.read(READ_CHUNK):
            if scan.size == 0 and chunk.startswith(codecs.BOM_UTF8):
                scan.bom = True
            scan.size += len(chunk)
            if _BINARY.search(chunk):
                raise refuse(file, gettext_noop("geen tekstbestand (binaire inhoud)"))
            scan.cp1252 = scan.cp1252 and not _NOT_CP1252.search(chunk)
            if scan.utf8:
                pending = decoder.getstate()[0]
                try:
                    text = decoder.decode(chunk)
                except UnicodeDecodeError as error:
                    # ``pending`` starts a multi-byte sequence: it holds no newline.
                    before = chunk[: max(0, error.start - len(pending))]
                    scan.utf8, scan.bad_line = False, lines_before + before.count(b"\n") + 1
                else:  # UTF-8 so far: a character beyond ASCII was a multi-byte sequence
                    scan.utf8_sequence = scan.utf8_sequence or not text.isascii()
                lines_before += chunk.count(b"\n")
            if not scan.utf8 and not scan.utf8_sequence:  # only needed once it is not UTF-8
                scan.utf8_sequence = _UTF8_SEQUENCE.search(tail + chunk) is not None
            tail = chunk[-3:]
    if scan.utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            scan.utf8, scan.bad_line = False, lines_before + 1
    return scan


def detect_encoding(opener: Opener, file: str) -> str:
    """Return ``"utf-8-sig"``, ``"utf-8"`` or ``"cp1252"`` after one streaming pass.

    Refuses content that is empty (or only a byte order mark), binary (NUL or other C0 control
    characters besides tab, CR and LF), neither UTF-8 nor wholly Windows-1252, or UTF-8 mixed with
    another encoding (see the module docstring); a refusal of the text names the line of its first
    byte that is not UTF-8.
    """
    scan = _scan(opener, file)
    if scan.size == 0 or (scan.bom and scan.size == len(codecs.BOM_UTF8)):
        raise refuse(file, EMPTY)
    if scan.utf8:
        return "utf-8-sig" if scan.bom else "utf-8"
    line = scan.bad_line
    if scan.bom:
        raise refuse(file, BOM_NOT_UTF8, line)
    if scan.utf8_sequence:
        raise refuse(file, MIXED_ENCODINGS, line)
    if scan.cp1252:
        return "cp1252"
    raise refuse(file, gettext_noop("de tekst is geen UTF-8 en geen Windows-1252"), line)


def _lines(stream: IO[str], file: str) -> Iterator[str]:
    number = 0
    while line := stream.readline(MAX_LINE_CHARS):
        number += 1
        if len(line) == MAX_LINE_CHARS and not line.endswith(("\n", "\r")):
            raise refuse(
                file,
                gettext_noop("de regel is langer dan %(most)s tekens"),
                number,
                {"most": MAX_LINE_CHARS},
            )
        yield line


@contextmanager
def open_text(
    opener: Opener, file: str, encodings: dict[str, str] | None = None
) -> Iterator[Iterator[str]]:
    """Detect the encoding, then yield the content's physical lines, decoded, one at a time.

    Line endings are kept untranslated (as :mod:`csv` wants, ``newline=""``); a byte order mark
    is dropped. Use as ``with open_text(opener, "users.csv") as lines: csv.reader(lines)``. When
    the file is not UTF-8, ``encodings[file]`` is set to the name of the encoding it is read in.
    """
    encoding = detect_encoding(opener, file)
    if encodings is not None and not encoding.startswith("utf-8"):
        encodings[file] = encoding_name(encoding)
    with io.TextIOWrapper(opener(), encoding=encoding, newline="") as stream:
        yield _lines(stream, file)
