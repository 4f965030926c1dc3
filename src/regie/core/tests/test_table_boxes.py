"""Fit for a phone (WCAG 1.4.10): every table on the hub's pages scrolls sideways inside its own
box, never the page. The box is one piece of markup (``regie-table-scroll``: focusable, so the
keyboard can scroll it, and named); a template that forgets it fails here, whatever page it is on.
The phone browser test (``ops/tests/test_browser_phone.py``) shows that the box works."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings as django_settings

BOX = re.compile(
    r'<div class="regie-table-scroll" role="group" tabindex="0" aria-label="[^"]*"[^>]*>\s*$'
)
PRINT_ONLY = {"privacy_statement_print.html"}  # paper has no sideways scrolling


def tables_outside_a_box(src_dir: Path) -> list[str]:
    found = []
    for template in sorted(src_dir.glob("*/templates/**/*.html")):
        if template.name in PRINT_ONLY:
            continue
        text = template.read_text(encoding="utf-8")
        for match in re.finditer(r"<table\b", text):
            before = text[: match.start()]
            if not BOX.search(before.replace('{% translate "', "").replace('" %}', "")):
                line = before.count("\n") + 1
                found.append(f"{template.relative_to(src_dir)}:{line}")
    return found


def test_every_table_scrolls_in_its_own_box() -> None:
    assert tables_outside_a_box(django_settings.SRC_DIR) == []


def test_the_check_finds_a_table_without_its_box(tmp_path: Path) -> None:
    page = tmp_path / "demo" / "templates" / "demo" / "page.html"
    page.parent.mkdir(parents=True)
    page.write_text("<p>x</p>\n<table><tr><td>1</td></tr></table>\n", encoding="utf-8")
    assert tables_outside_a_box(tmp_path) == ["demo/templates/demo/page.html:2"]
