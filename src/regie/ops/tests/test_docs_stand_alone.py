"""The project stands alone: what a contributor needs is in the repository (docs/design.md,
docs/style.md, docs/architecture.md), nothing points at files outside it, and every relative link
in the Markdown pages leads somewhere."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
SKIP = {".git", ".venv", ".tools", "var", "node_modules", "__pycache__", ".mypy_cache"}
TEXT = {".md", ".py", ".toml", ".txt", ".yaml", ".yml", ".html", ".cfg", ".json", ".po", ".ini"}
# Steering documents that live outside the repository, by the names they have there (written in
# pieces, so that this file does not name them itself).
SHARED = "shared"
OUTSIDE = re.compile(
    "|".join(
        [
            r"\.\./" + SHARED,
            "/work/" + SHARED,
            SHARED + "/interop",
            "DESIGN" + r"\.md",
            "STYLE" + r"\.md",
        ]
    )
)
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def files(root: Path) -> Iterator[Path]:
    for path in root.iterdir():
        if path.name in SKIP:
            continue
        if path.is_dir():
            yield from files(path)
        elif path.suffix in TEXT or path.name in {"Makefile", "run"}:
            yield path


def test_nothing_points_outside_the_repository() -> None:
    found = []
    for path in files(ROOT):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if OUTSIDE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:80]}")
    assert found == []


def test_the_contributor_pages_are_linked_from_the_readme_and_developers_md() -> None:
    for page in ("README.md", "DEVELOPERS.md"):
        text = (ROOT / page).read_text(encoding="utf-8")
        assert "docs/design.md" in text, page
        assert "docs/style.md" in text, page
    design = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    for section in ("## 1. Principles", "## 4. The pseudonym chain", "## 5. The apps"):
        assert section in design


def test_every_relative_link_in_the_markdown_pages_leads_to_a_file() -> None:
    broken = []
    for path in files(ROOT):
        if path.suffix != ".md":
            continue
        for target in LINK.findall(path.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue  # http:, https:, mailto:
            if not (path.parent / target).exists():
                broken.append(f"{path.relative_to(ROOT)}: {target}")
    assert broken == []
