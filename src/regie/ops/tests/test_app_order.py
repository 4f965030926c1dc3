"""The floor plan: no app imports one below it in the table of ``docs/architecture.md``.

The table's rows are the order (the first row at the bottom of the house, ``ops`` at the top) and
its "depends on" column names what each app may import. The rules are written out under the table;
this test reads the table itself, so the document and the code cannot drift apart. Imports are
read with :mod:`ast` from every module under ``src/regie/``, imports inside functions and under
``TYPE_CHECKING`` included.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PACKAGE = ROOT / "src" / "regie"
ARCHITECTURE = ROOT / "docs" / "architecture.md"

# The project's own modules, which wire every app (only ops imports them), and the shared test
# support (only tests import it).
PROJECT_MODULES = {"settings", "urls", "wsgi", "cli", "__main__"}
TEST_SUPPORT = {"conftest", "browser", "logins"}
TOP = "ops"
EVERY_APP_ABOVE = "every app above"
DEPENDENCY = re.compile(r"`(\w+)`(?:\s*\((\w+)\))?")


@dataclass(frozen=True)
class Row:
    app: str
    depends_on: dict[str, str | None]  # app -> the one module allowed, or None for all of it
    started: bool


@dataclass(frozen=True)
class Import:
    path: Path  # relative to src/
    line: int
    module: str  # dotted, absolute


def read_table(text: str) -> list[Row]:
    """The rows of the table under ``## The apps``, in order."""
    section = text.split("## The apps", 1)[1].split("\n## ", 1)[0]
    rows: list[Row] = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[0].startswith("`"):
            continue
        app, _owns, depends_on, state = cells
        if depends_on == EVERY_APP_ABOVE:
            allowed: dict[str, str | None] = {row.app: None for row in rows}
        elif depends_on == "—":
            allowed = {}
        else:
            allowed = {name: module or None for name, module in DEPENDENCY.findall(depends_on)}
            assert allowed, f"cannot read the dependencies of {app}: {depends_on!r}"
        rows.append(Row(app.strip("`"), allowed, state == "started"))
    return rows


def reachable(rows: list[Row], app: str) -> dict[str, str | None]:
    """What a module of ``app`` may import: its row's dependencies and, through them, theirs.
    An app reached only through a bracketed module is limited to that module."""
    by_app = {row.app: row for row in rows}
    allowed: dict[str, str | None] = {}
    pending = list(by_app[app].depends_on.items())
    while pending:
        name, module = pending.pop()
        if name in allowed and (allowed[name] is None or allowed[name] == module):
            continue
        allowed[name] = None if name in allowed or module is None else module
        pending.extend(by_app[name].depends_on.items())
    return allowed


def is_module(source: Path, dotted: str) -> bool:
    """Whether ``dotted`` names a module or package under ``source`` (src/)."""
    path = source.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports(path: Path, source: Path) -> Iterator[Import]:
    """Every ``regie.…`` import of the module at ``path``, relative ones resolved (``source`` is
    the directory that holds the regie package)."""
    relative = path.relative_to(source)
    package = list(relative.with_suffix("").parts)[:-1]  # a package's __init__ too
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            # ``from regie import roster`` imports the package roster.
            # ``from regie.nummervoorziening import client`` imports the module client.
            names = [
                f"{module}.{alias.name}"
                if module == "regie" or is_module(source, f"{module}.{alias.name}")
                else module
                for alias in node.names
            ]
        else:
            continue
        for name in names:
            if name == "regie" or name.startswith("regie."):
                yield Import(relative, node.lineno, name)


def owner(relative: Path) -> str | None:
    """The app a module belongs to, or None for a project module directly under regie/."""
    return relative.parts[1] if len(relative.parts) > 2 else None


def is_test(relative: Path) -> bool:
    return "tests" in relative.parts or relative.name == "conftest.py"


def violations(package: Path, rows: list[Row]) -> list[str]:
    """Every import that breaks the rules under the table, as ``path:line: reason``."""
    order = [row.app for row in rows]
    found = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package.parent)
        app = owner(relative)
        if app is None:
            continue  # the project modules wire everything
        for item in sorted(imports(path, package.parent), key=lambda item: item.line):
            parts = item.module.split(".")
            if len(parts) == 1:
                found.append(f"{item.path}:{item.line}: imports the whole of regie")
                continue
            target = parts[1]
            if target == app:
                continue
            where = f"{item.path}:{item.line}: {app} imports {item.module}"
            if target in PROJECT_MODULES:
                if app != TOP:
                    found.append(f"{where}, a project module that only {TOP} may import")
                continue
            if target in TEST_SUPPORT:
                if not is_test(relative):
                    found.append(f"{where}, which is test support")
                continue
            if target not in order or app not in order:
                continue  # reported by test_every_package_has_a_row
            if is_test(relative):
                if order.index(target) > order.index(app):
                    found.append(f"{where}: {target} is a later app than {app}")
                continue
            allowed = reachable(rows, app)
            if target not in allowed:
                later = order.index(target) > order.index(app)
                reason = "a later app" if later else f"not in the row of {app}"
                found.append(f"{where}: {target} is {reason} in docs/architecture.md")
            elif allowed[target] is not None and parts[2:3] != [allowed[target]]:
                found.append(f"{where}: only regie.{target}.{allowed[target]} is allowed")
    return list(dict.fromkeys(found))  # one line per import, however many names it takes


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    return read_table(ARCHITECTURE.read_text(encoding="utf-8"))


def test_the_table_lists_the_apps_from_lib_up_to_ops(rows: list[Row]) -> None:
    order = [row.app for row in rows]
    assert order[0] == "lib"
    assert order[-1] == TOP
    assert {"core", "audit", "nummervoorziening", "roster", "gateway", "demosupplier"} <= set(order)
    assert order.index("audit") < order.index("core") < order.index("nummervoorziening")
    assert order.index("roster") < order.index("accounts") < order.index("agreements")
    assert order.index("agreements") < order.index("gateway") < order.index(TOP)


def test_every_dependency_in_the_table_points_down(rows: list[Row]) -> None:
    seen: set[str] = set()
    for row in rows:
        assert set(row.depends_on) <= seen, f"{row.app} depends on a later app"
        seen.add(row.app)


def test_every_package_has_a_row_and_every_started_app_a_package(rows: list[Row]) -> None:
    packages = {path.parent.name for path in PACKAGE.glob("*/__init__.py")}
    packages -= {"locale"}
    listed = {row.app for row in rows}
    assert packages - listed == set(), "add a row to the table in docs/architecture.md"
    started = {row.app for row in rows if row.started}
    assert started - packages == set(), "a row marked started has no package"


def test_no_app_imports_a_later_one(rows: list[Row]) -> None:
    assert violations(PACKAGE, rows) == []


def test_it_sees_an_import_inside_a_function_and_a_relative_one(
    tmp_path: Path, rows: list[Row]
) -> None:
    """The check itself: a lower app importing a higher one, the ways code does it."""
    package = tmp_path / "regie"
    (package / "core" / "tests").mkdir(parents=True)
    (package / "demosupplier").mkdir()
    (package / "core" / "__init__.py").write_text("")
    (package / "core" / "models.py").write_text(
        "from regie.lib import env\n"
        "def load():\n"
        "    from regie.gateway import claims\n"
        "from ..roster import services\n"
        "from regie import agreements\n"
    )
    (package / "core" / "tests" / "test_x.py").write_text(
        "from regie.lib import env\n"
        "from regie.conftest import make_bsn\n"
        "from regie.roster import services\n"
    )
    (package / "demosupplier" / "app.py").write_text(
        "from regie.lib.serving import wake\nfrom regie.core.models import Board\n"
    )
    found = violations(package, rows)
    assert [item.split(": ", 1)[0] for item in found] == [
        "regie/core/models.py:3",
        "regie/core/models.py:4",
        "regie/core/models.py:5",
        "regie/core/tests/test_x.py:3",
        "regie/demosupplier/app.py:2",
    ], found
    assert "core imports regie.gateway: gateway is a later app" in found[0]
    assert "core imports regie.roster: roster is a later app" in found[1]
    assert "core imports regie.agreements: agreements is a later app" in found[2]
    assert "roster is a later app than core" in found[3]
    assert "core is not in the row of demosupplier" in found[4]


def test_a_bracketed_module_allows_only_that_module(rows: list[Row]) -> None:
    assert reachable(rows, "roster")["nummervoorziening"] == "client"
    assert reachable(rows, "gateway")["nummervoorziening"] == "client"
    assert reachable(rows, TOP)["nummervoorziening"] is None
    assert set(reachable(rows, "demosupplier")) == {"lib"}
