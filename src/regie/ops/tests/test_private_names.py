"""No module uses another module's private names (``_name``): what another module needs is public.

Read with :mod:`ast` from every module of ``src/regie/`` and ``benchmarks/``, tests included:
``from regie.x import _name`` (or relative), and ``module._name`` where ``module`` is a regie
module bound by an import. Names of other libraries are theirs to name (``lxml.etree._Element``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
SOURCE = ROOT / "src"


def private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def is_module(source: Path, dotted: str) -> bool:
    path = source.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def absolute(source: Path, path: Path, node: ast.ImportFrom) -> str:
    """The module a (possibly relative) ``from … import`` in ``path`` names, dotted."""
    if not node.level:
        return node.module or ""
    package = list(path.relative_to(source).with_suffix("").parts)[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def uses(source: Path, path: Path) -> Iterator[str]:
    """Every use of another regie module's private name in the module at ``path`` (``source``:
    the directory holding the regie package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    regie_modules: set[str] = set()  # local names bound to regie modules
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = (
                absolute(source, path, node) if path.is_relative_to(source) else node.module or ""
            )
            if not module.startswith("regie"):
                continue
            for alias in node.names:
                if private(alias.name):
                    dots = "." * node.level
                    yield f"from {dots}{node.module or ''} import {alias.name}"
                elif is_module(source, f"{module}.{alias.name}"):
                    regie_modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("regie.") and alias.asname:
                    regie_modules.add(alias.asname)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and private(node.attr)
            and isinstance(node.value, ast.Name)
            and node.value.id in regie_modules
        ):
            yield f"{node.value.id}.{node.attr}"


def found_in(root: Path) -> set[str]:
    """Every use, as ``path: use``, in the modules of ``root``'s src/regie/ and benchmarks/."""
    paths = [*(root / "src" / "regie").rglob("*.py"), *(root / "benchmarks").rglob("*.py")]
    return {
        f"{path.relative_to(root)}: {use}" for path in paths for use in uses(root / "src", path)
    }


def test_no_module_uses_another_modules_private_names() -> None:
    assert found_in(ROOT) == set()


def test_it_sees_private_imports_and_attributes(tmp_path: Path) -> None:
    gateway = tmp_path / "src" / "regie" / "gateway"
    gateway.mkdir(parents=True)
    for name in ("__init__.py", "claims.py", "keys.py"):
        (gateway / name).write_text("")
    (tmp_path / "benchmarks").mkdir()
    (gateway / "probe.py").write_text(
        "from regie.gateway import claims\n"
        "from regie.nummervoorziening.services import _claim\n"
        "from .keys import _write\n"
        "from lxml.etree import _Element\n"
        "import regie.gateway.keys as keys\n"
        "claims._sector_ids\n"
        "keys._generate\n"
        "claims.__name__\n"
        "_Element.tag\n"
    )
    prefix = "src/regie/gateway/probe.py: "
    assert found_in(tmp_path) == {
        prefix + "from regie.nummervoorziening.services import _claim",
        prefix + "from .keys import _write",
        prefix + "claims._sector_ids",
        prefix + "keys._generate",
    }
