"""The English translations: complete for the home page, and the committed .mo matches the .po.

The .mo file is committed so that neither a demo nor CI needs gettext; these tests catch a .po edit
that was not compiled (``cd src/regie && ../../.venv/bin/regie compilemessages``).
"""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

from django.conf import settings

from . import messages

LOCALE_DIR = settings.SRC_DIR / "locale"
HOME_TEMPLATE = settings.SRC_DIR / "core" / "templates" / "core" / "home.html"

_TRANSLATE_TAG = re.compile(r'{%\s*(?:translate|trans)\s+"([^"]+)"')
_MSGSTR = re.compile(r'^msgstr(?:\[\d\])? ((?:"(?:[^"\\]|\\.)*"\s*)+)', re.M)
_PO_LINE = re.compile(r'^(msgctxt|msgid|msgstr)?\s*("(?:[^"\\]|\\.)*")\s*$')


def read_po(path: Path) -> dict[tuple[str, str], str]:
    """The translated messages of a .po file (plurals left out), by (context, msgid)."""
    messages: dict[tuple[str, str], str] = {}
    current: dict[str, str] = {}
    keyword = ""
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        match = _PO_LINE.match(line)
        if match:
            keyword = match.group(1) or keyword
            current[keyword] = current.get(keyword, "") + ast.literal_eval(match.group(2))
        elif not line.strip() and current:
            if current.get("msgid") and current.get("msgstr"):
                messages[current.get("msgctxt", ""), current["msgid"]] = current["msgstr"]
            current = {}
    return messages


def test_it_compiled_every_po_file_into_the_committed_mo_file() -> None:
    po_files = sorted(LOCALE_DIR.glob("*/LC_MESSAGES/django.po"))
    assert po_files, f"no translations found under {LOCALE_DIR}"
    for po_file in po_files:
        with po_file.with_suffix(".mo").open("rb") as mo_file:
            catalog = gettext.GNUTranslations(mo_file)
        for (context, msgid), msgstr in read_po(po_file).items():
            compiled = catalog.pgettext(context, msgid) if context else catalog.gettext(msgid)
            assert compiled == msgstr, f"{po_file} is newer than its .mo file"


def test_it_has_an_english_translation_for_every_text_on_the_home_page() -> None:
    texts = _TRANSLATE_TAG.findall(HOME_TEMPLATE.read_text(encoding="utf-8"))
    english = {msgid for _, msgid in read_po(LOCALE_DIR / "en" / "LC_MESSAGES" / "django.po")}

    assert texts
    assert [text for text in texts if text not in english] == []


def test_it_leaves_no_message_untranslated_or_fuzzy() -> None:
    """Every text of the interface has its English translation (run makemessages, then fill in)."""
    text = (LOCALE_DIR / "en" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    entries = text.split("\n\n")[1:]  # the first entry is the header
    untranslated = [
        entry
        for entry in entries
        if re.search(r'msgstr(\[\d\])? ""\s*$', entry, re.M)
        and not re.search(r'msgstr(\[\d\])? ""\n"', entry)
    ]
    fuzzy = [entry for entry in entries if "#, fuzzy" in entry]
    assert untranslated == []
    assert fuzzy == []


def test_every_text_marked_for_translation_is_in_the_english_po() -> None:
    """makemessages, run on a copy (:mod:`.messages`), finds no text the .po lacks; run
    ``python -m regie.core.tests.messages`` to append the missing ones."""
    assert [entry.text for entry in messages.missing()] == []


def test_every_message_of_the_english_po_has_an_english_text() -> None:
    po_text = (LOCALE_DIR / "en" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    untranslated = [
        entry.text
        for entry in messages.entries(po_text)
        if not all(
            "".join(ast.literal_eval(part) for part in re.findall(r'"(?:[^"\\]|\\.)*"', value))
            for value in _MSGSTR.findall(entry.text)
        )
    ]
    assert messages.entries(po_text)
    assert untranslated == []
