"""The texts to translate, as Django's ``makemessages`` finds them, compared with the English .po.

``makemessages`` rewrites the whole .po, which makes merges hard; so it runs here on a copy of the
source tree, into a fresh catalogue, and only the set of messages is compared. Run this module to
append the messages the .po lacks to its end (with their ``#:`` lines and an empty msgstr to fill
in; the translation tests fail until it is filled in)::

    .venv/bin/python -m regie.core.tests.messages

Then translate them and compile (``cd src/regie && ../../.venv/bin/regie compilemessages``).
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SRC_DIR = Path(__file__).resolve().parents[2]
ENGLISH_PO = SRC_DIR / "locale" / "en" / "LC_MESSAGES" / "django.po"
_KEYWORD = re.compile(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d\])?)\s+("(?:[^"\\]|\\.)*")\s*$')
_CONTINUATION = re.compile(r'^("(?:[^"\\]|\\.)*")\s*$')


@dataclass(frozen=True)
class Entry:
    """One message of a catalogue: its key (context, msgid) and its text as written."""

    context: str
    msgid: str
    text: str


def entries(text: str) -> list[Entry]:
    """The messages of a catalogue's text (the header and obsolete ``#~`` entries left out)."""
    found = []
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        keyword = ""
        for line in block.splitlines():
            match = _KEYWORD.match(line)
            continuation = _CONTINUATION.match(line)
            if match:
                keyword = match.group(1)
                fields[keyword] = ast.literal_eval(match.group(2))
            elif continuation and keyword:
                fields[keyword] += ast.literal_eval(continuation.group(1))
        if fields.get("msgid"):
            found.append(Entry(fields.get("msgctxt", ""), fields["msgid"], block.strip()))
    return found


@contextmanager
def _inside(directory: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(before)


def extracted() -> list[Entry]:
    """Every message the code and templates mark for translation (tests left out), from
    ``makemessages`` run on a copy of the source tree into an empty catalogue."""
    from django.core.management import call_command
    from django.test import override_settings

    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "regie"
        shutil.copytree(
            SRC_DIR,
            copy,
            ignore=shutil.ignore_patterns("locale", "tests", "__pycache__", "static", "*.pyc"),
        )
        (copy / "locale" / "en" / "LC_MESSAGES").mkdir(parents=True)
        with override_settings(LOCALE_PATHS=[]), _inside(copy):
            call_command("makemessages", locale=["en"], no_obsolete=True, verbosity=0)
        po_file = copy / "locale" / "en" / "LC_MESSAGES" / "django.po"
        return entries(po_file.read_text(encoding="utf-8"))


def missing(po_file: Path = ENGLISH_PO) -> list[Entry]:
    """The messages marked for translation that ``po_file`` does not have."""
    known = {(entry.context, entry.msgid) for entry in entries(po_file.read_text("utf-8"))}
    return [entry for entry in extracted() if (entry.context, entry.msgid) not in known]


def append_missing(po_file: Path = ENGLISH_PO) -> list[Entry]:
    """Append the missing messages to the end of ``po_file``; returns them."""
    new = missing(po_file)
    if new:
        text = po_file.read_text(encoding="utf-8").rstrip("\n")
        blocks = [re.sub(r"^#, fuzzy\n", "", entry.text, flags=re.M) for entry in new]
        po_file.write_text(text + "\n\n" + "\n\n".join(blocks) + "\n", encoding="utf-8")
    return new


if __name__ == "__main__":  # pragma: no cover - a developer's tool
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "regie.settings")
    django.setup()
    for entry in append_missing():
        print(f"added: {entry.msgid!r}")
