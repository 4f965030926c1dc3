"""Fixtures of the published log: a log key in a temporary file, and a real witness process
(``regie witness serve``) with its own state directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import LazySettings

from regie.agreements.tests.conftest import world

from .. import keys
from .witnesses import WitnessProcess, start_witness

__all__ = ["world"]


@pytest.fixture(autouse=True)
def log_key(settings: LazySettings, tmp_path: Path) -> str:
    """A fresh log key for each test (origin ``hub.regie.example/log``); its vkey."""
    settings.LOG_KEY_FILE = tmp_path / "log-key"
    settings.LOG_ORIGIN = "hub.regie.example/log"
    keys.ensure()
    return keys.verifier().vkey


@pytest.fixture
def witness(tmp_path: Path, log_key: str) -> Iterator[WitnessProcess]:
    running = start_witness(tmp_path, "witness.regie.example/w1", keys.origin(), log_key)
    yield running
    running.process.kill()
    running.process.wait(10)
