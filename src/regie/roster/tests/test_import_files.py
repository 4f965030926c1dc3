"""Reading uploads safely: size limits, zip safety and encoding detection (importing/files.py)."""

from __future__ import annotations

import codecs
import io
import stat
import struct
import warnings
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regie.roster.importing.files import (
    MAX_LINE_CHARS,
    MAX_MEMBERS,
    READ_CHUNK,
    BoundedReader,
    check_upload_size,
    detect_encoding,
    open_text,
    open_zip,
    path_opener,
)
from regie.roster.importing.records import ImportRefused, Limits, Problem
from regie.roster.tests.exports import in_english

MIB = 1024 * 1024
LIMITS = Limits(
    max_upload_bytes=256 * MIB, max_uncompressed_bytes=512 * MIB, max_compression_ratio=200
)


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def patch_headers(path: Path, *, central: dict[int, bytes], local: dict[int, bytes]) -> None:
    """Overwrite fields of the (first) local and central headers, as a forger would."""
    data = bytearray(path.read_bytes())
    for signature, fields in ((b"PK\x01\x02", central), (b"PK\x03\x04", local)):
        start = data.index(signature)
        for offset, value in fields.items():
            data[start + offset : start + offset + len(value)] = value
    path.write_bytes(bytes(data))


def refusal(error: pytest.ExceptionInfo[ImportRefused]) -> Problem:
    return in_english(error.value.problem)


# --- sizes ---------------------------------------------------------------------------------


def test_it_refuses_an_empty_upload(tmp_path: Path) -> None:
    upload = tmp_path / "export.zip"
    upload.write_bytes(b"")
    with pytest.raises(ImportRefused) as error:
        check_upload_size(upload, LIMITS, "export.zip")
    assert refusal(error) == Problem("export.zip", None, None, "the file is empty")


def test_it_refuses_an_upload_larger_than_the_limit(tmp_path: Path) -> None:
    upload = tmp_path / "export.zip"
    upload.write_bytes(b"x" * 3000)
    small = Limits(max_upload_bytes=2048, max_uncompressed_bytes=4096, max_compression_ratio=10)
    with pytest.raises(ImportRefused) as error:
        check_upload_size(upload, small, "export.zip")
    assert refusal(error).reason == "the file is 2.9 KiB; the largest accepted is 2 KiB"


def test_it_accepts_an_upload_at_the_limit(tmp_path: Path) -> None:
    upload = tmp_path / "export.zip"
    upload.write_bytes(b"x" * 2048)
    small = Limits(max_upload_bytes=2048, max_uncompressed_bytes=4096, max_compression_ratio=10)
    check_upload_size(upload, small, "export.zip")


def test_it_refuses_a_1_gib_upload_under_the_default_limits(tmp_path: Path) -> None:
    upload = tmp_path / "huge.zip"
    with upload.open("wb") as handle:
        handle.truncate(2**30)  # sparse: costs no disk
    with pytest.raises(ImportRefused) as error:
        check_upload_size(upload, Limits.from_settings(), "huge.zip")
    assert refusal(error) == Problem(
        "huge.zip", None, None, "the file is 1 GiB; the largest accepted is 256 MiB"
    )


# --- zip safety ----------------------------------------------------------------------------


def test_it_opens_a_safe_zip_and_reads_its_members(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "export.zip", {"orgs.csv": b"a,b\r\n", "users.csv": b"c\r\n"})
    with open_zip(path, LIMITS) as archive:
        assert archive.names == ("orgs.csv", "users.csv")
        with archive.open("orgs.csv") as member:
            assert member.read() == b"a,b\r\n"
    assert sorted(item.name for item in tmp_path.iterdir()) == ["export.zip"]  # nothing extracted


def test_it_refuses_what_is_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    path.write_bytes(b"sourcedId,name\r\n1,De Vlinder\r\n")
    with pytest.raises(ImportRefused) as error:
        open_zip(path, LIMITS)
    assert refusal(error) == Problem("export.zip", None, None, "not a zip file")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../users.csv", "contains .. (path traversal)"),
        ("/etc/users.csv", "absolute path (path traversal)"),
        ("C:users.csv", "absolute path (path traversal)"),
        ("..\\users.csv", "backslash (path traversal)"),
        ("export/users.csv", "subdirectories"),
        ("export/", "subdirectories"),
    ],
)
def test_it_refuses_members_outside_the_top_level(tmp_path: Path, name: str, reason: str) -> None:
    path = write_zip(tmp_path / "export.zip", {"manifest.csv": b"x\r\n", name: b"y\r\n"})
    with pytest.raises(ImportRefused) as error:
        open_zip(path, LIMITS)
    assert refusal(error).file == "export.zip"
    assert reason in refusal(error).reason


def test_it_refuses_a_symbolic_link(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    link = zipfile.ZipInfo("users.csv")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(ImportRefused) as error:
        open_zip(path, LIMITS)
    assert refusal(error).reason == "users.csv is a symbolic link"


def test_it_refuses_an_encrypted_member(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "export.zip", {"users.csv": b"sourcedId\r\n"})
    patch_headers(path, central={8: b"\x01"}, local={6: b"\x01"})
    with pytest.raises(ImportRefused) as error:
        open_zip(path, LIMITS)
    assert refusal(error).reason == "users.csv is encrypted"


def test_it_refuses_duplicate_names(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns about the duplicate
        archive.writestr("users.csv", "a\r\n")
        archive.writestr("users.csv", "b\r\n")
    with pytest.raises(ImportRefused) as error:
        open_zip(path, LIMITS)
    assert "users.csv twice (duplicate names)" in refusal(error).reason


def test_it_refuses_names_differing_only_in_case(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "export.zip", {"users.csv": b"a\r\n", "USERS.csv": b"b\r\n"})
    with pytest.raises(ImportRefused) as error:
        open_zip(path, LIMITS)
    assert "duplicate names" in refusal(error).reason


def test_it_does_not_repeat_an_unusual_member_name(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "export.zip", {"123456782.csv": b"\0" * 100_000})
    with pytest.raises(ImportRefused) as error:
        open_zip(path, LIMITS)
    assert "123456782" not in str(error.value)
    assert "(a member with an unusual name) is compressed more than 200 to 1" in str(
        in_english(error.value.problem)
    )
    assert "(een bestand met een ongewone naam) is meer dan 200 op 1" in str(error.value.problem)


def test_it_refuses_a_zip_with_too_many_members_before_loading_them(tmp_path: Path) -> None:
    members = {f"file{index:03d}.csv": b"" for index in range(MAX_MEMBERS + 1)}
    path = write_zip(tmp_path / "export.zip", members)
    with pytest.raises(ImportRefused) as error:
        open_zip(path, LIMITS)
    assert (
        refusal(error).reason == f"the zip holds {MAX_MEMBERS + 1} files; the most accepted is 100"
    )


def test_it_accepts_a_zip_with_the_most_members_allowed(tmp_path: Path) -> None:
    members = {f"file{index:03d}.csv": b"" for index in range(MAX_MEMBERS)}
    with open_zip(write_zip(tmp_path / "export.zip", members), LIMITS) as archive:
        assert len(archive.names) == MAX_MEMBERS


def test_it_refuses_an_honest_zip_bomb_by_its_ratio(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "export.zip", {"users.csv": b"0" * MIB})
    with pytest.raises(ImportRefused) as error:
        open_zip(path, LIMITS)
    assert refusal(error).reason == "users.csv is compressed more than 200 to 1 (a zip bomb)"


def test_it_refuses_a_zip_whose_files_hold_too_much_together(tmp_path: Path) -> None:
    members = {f"{name}.csv": bytes(range(256)) * 8 for name in ("orgs", "users", "classes")}
    path = write_zip(tmp_path / "export.zip", members)
    small = Limits(max_upload_bytes=MIB, max_uncompressed_bytes=4096, max_compression_ratio=200)
    with pytest.raises(ImportRefused) as error:
        open_zip(path, small)
    assert refusal(error).reason == (
        "the files in the zip hold 6 KiB together; the most accepted is 4 KiB"
    )


def test_it_stops_reading_a_bomb_whose_header_lies_about_its_size(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "export.zip", {"users.csv": b"0" * MIB})
    with zipfile.ZipFile(path) as archive:
        packed = archive.getinfo("users.csv").compress_size
    declared = struct.pack("<I", packed * 2)  # an innocent ratio of 2 to 1
    patch_headers(path, central={24: declared}, local={22: declared})
    with open_zip(path, LIMITS) as archive, pytest.raises(ImportRefused) as error:
        archive.open("users.csv").read()
    assert "does not match its header" in refusal(error).reason


def test_it_bounds_a_stream_at_its_limit() -> None:
    problem = Problem("export.zip", None, None, "inflates to more than allowed")
    assert BoundedReader(io.BytesIO(b"x" * 50), 50, problem).read() == b"x" * 50
    with pytest.raises(ImportRefused) as error:
        BoundedReader(io.BytesIO(b"x" * 51), 50, problem).read()
    assert error.value.problem == problem


# --- encodings -----------------------------------------------------------------------------


def text_file(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "users.csv"
    path.write_bytes(content)
    return path


def read_text(path: Path) -> str:
    with open_text(path_opener(path), "users.csv") as lines:
        return "".join(lines)


@pytest.mark.parametrize(
    ("content", "encoding"),
    [
        ("givenName\r\nZoë\r\n".encode(), "utf-8"),
        (codecs.BOM_UTF8 + "givenName\r\nZoë\r\n".encode(), "utf-8-sig"),
        ("givenName\r\nZoë\r\n".encode("cp1252"), "cp1252"),
        (b"givenName\r\nJan\r\n", "utf-8"),
    ],
)
def test_it_detects_the_encoding(tmp_path: Path, content: bytes, encoding: str) -> None:
    path = text_file(tmp_path, content)
    assert detect_encoding(path_opener(path), "users.csv") == encoding


def test_it_reads_windows_1252_text_as_such(tmp_path: Path) -> None:
    path = text_file(tmp_path, "Zoë;Anaïs;€\r\n".encode("cp1252"))
    assert read_text(path) == "Zoë;Anaïs;€\r\n"


def test_it_drops_the_byte_order_mark(tmp_path: Path) -> None:
    path = text_file(tmp_path, codecs.BOM_UTF8 + b"sourcedId\r\n")
    assert read_text(path) == "sourcedId\r\n"


def test_it_keeps_utf_8_when_a_character_straddles_two_chunks(tmp_path: Path) -> None:
    content = b"a" * (READ_CHUNK - 1) + "ë\n".encode()
    assert detect_encoding(path_opener(text_file(tmp_path, content)), "users.csv") == "utf-8"


def test_it_reads_a_file_wholly_in_windows_1252_as_such_however_late_its_first_accent(
    tmp_path: Path,
) -> None:
    content = b"a,b\n" * READ_CHUNK + "Zoë\n".encode("cp1252")
    assert detect_encoding(path_opener(text_file(tmp_path, content)), "users.csv") == "cp1252"


def test_it_refuses_utf_8_with_a_stray_windows_1252_byte_naming_its_line(tmp_path: Path) -> None:
    """One stray byte late in a UTF-8 file used to turn the whole file into Windows-1252: every
    Zoë became ZoÃ«, silently."""
    lines = ["sourcedId,givenName\n", "stu-1,Zoë\n"] + [f"stu-{n},Daan\n" for n in range(2, 44)]
    content = "".join(lines).encode() + "stu-44,Anaïs\n".encode("cp1252") + b"stu-45,Sem\n"
    path = text_file(tmp_path, content)
    with pytest.raises(ImportRefused) as error:
        detect_encoding(path_opener(path), "users.csv")
    problem = refusal(error)
    assert (problem.file, problem.line, problem.field) == ("users.csv", 45, None)
    assert "not UTF-8" in problem.reason
    assert "mixed" in problem.reason


def test_it_refuses_a_utf_8_file_that_breaks_after_a_chunk_with_the_line(tmp_path: Path) -> None:
    content = "ë\n".encode() * READ_CHUNK + "Zoë\n".encode("cp1252")
    with pytest.raises(ImportRefused) as error:
        detect_encoding(path_opener(text_file(tmp_path, content)), "users.csv")
    assert refusal(error).line == READ_CHUNK + 1


def test_it_refuses_a_byte_order_mark_before_text_that_is_not_utf_8(tmp_path: Path) -> None:
    content = codecs.BOM_UTF8 + "givenName\nZoë\n".encode("cp1252")
    with pytest.raises(ImportRefused) as error:
        detect_encoding(path_opener(text_file(tmp_path, content)), "users.csv")
    problem = refusal(error)
    assert problem.line == 2
    assert "byte order mark" in problem.reason


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text file (binary content)"),
        (b"sourcedId\r\nab\x07c\r\n", "not a text file (binary content)"),
        (b"a" * READ_CHUNK + b"\x00", "not a text file (binary content)"),
        (b"", "the file is empty"),
        (codecs.BOM_UTF8, "the file is empty"),
    ],
)
def test_it_refuses_what_is_not_text(tmp_path: Path, content: bytes, reason: str) -> None:
    path = text_file(tmp_path, content)
    with pytest.raises(ImportRefused) as error:
        detect_encoding(path_opener(path), "users.csv")
    assert refusal(error) == Problem("users.csv", None, None, reason)


def test_it_refuses_text_in_no_encoding_it_knows_naming_the_line(tmp_path: Path) -> None:
    path = text_file(tmp_path, b"givenName\r\nZo\x81\r\n")
    with pytest.raises(ImportRefused) as error:
        detect_encoding(path_opener(path), "users.csv")
    assert refusal(error) == Problem(
        "users.csv", 2, None, "the text is neither UTF-8 nor Windows-1252"
    )


def test_it_refuses_a_line_longer_than_the_limit(tmp_path: Path) -> None:
    path = text_file(tmp_path, b"sourcedId\r\n" + b"x" * (MAX_LINE_CHARS + 1) + b"\r\n")
    with pytest.raises(ImportRefused) as error:
        read_text(path)
    assert refusal(error) == Problem(
        "users.csv", 2, None, f"the line is longer than {MAX_LINE_CHARS:,} characters"
    )


def test_it_yields_one_physical_line_at_a_time(tmp_path: Path) -> None:
    path = text_file(tmp_path, b"a\r\nb\nc\rd")
    with open_text(path_opener(path), "users.csv") as lines:
        assert list(lines) == ["a\r\n", "b\n", "c\r", "d"]


def test_it_reads_zip_members_as_text_twice(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "export.zip", {"users.csv": "Zoë\r\n".encode("cp1252")})
    with open_zip(path, LIMITS) as archive, open_text(archive.opener("users.csv"), "x") as lines:
        assert list(lines) == ["Zoë\r\n"]


TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")) | st.sampled_from("\t\r\n"),
    min_size=1,
).filter(lambda text: not text.startswith("\ufeff"))  # a leading U+FEFF reads as a BOM


@given(text=TEXT, bom=st.booleans())
def test_it_reads_back_any_utf_8_text(text: str, bom: bool) -> None:
    content = (codecs.BOM_UTF8 if bom else b"") + text.encode()
    with open_text(lambda: io.BytesIO(content), "users.csv") as lines:
        assert "".join(lines) == text
