"""The Makefile with a default Python that is too old: one clear line that says which version it
found and how to choose another (``make demo PYTHON=python3.12``), before anything is made."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
MAKE = shutil.which("make") or "/usr/bin/make"


def test_an_old_python_is_named_with_the_way_to_choose_another(tmp_path: Path) -> None:
    old_python = tmp_path / "python3"
    old_python.write_text(
        '#!/bin/sh\n[ "$1" = --version ] && { echo "Python 3.9.2"; exit 0; }\nexit 1\n'
    )
    old_python.chmod(0o755)
    result = subprocess.run(
        [
            MAKE,
            "-C",
            str(ROOT),
            f"TOOLS={tmp_path / 'tools'}",
            f"VENV={tmp_path / 'venv'}",
            f"PYTHON={old_python}",
            "demo",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "regie needs Python 3.11 or newer" in result.stderr
    assert "Python 3.9.2" in result.stderr
    assert "make demo PYTHON=python3.12" in result.stderr
    assert not (tmp_path / "tools").exists()
    assert not (tmp_path / "venv").exists()
