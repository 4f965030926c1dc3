"""Fixtures of the roster's tests: the real browser (see ``regie.browser``), own import dirs."""

from pathlib import Path

import pytest
from django.conf import LazySettings

from regie.browser import browser, page

__all__ = ["browser", "page"]


@pytest.fixture(autouse=True)
def _own_import_dir(settings: LazySettings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Each test's uploads wait in a directory of its own."""
    directory = tmp_path_factory.mktemp("imports")
    settings.IMPORT_DIR = directory
    return directory
