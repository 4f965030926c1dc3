"""Fixtures of the agreements tests: the register world, and the real browser."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.utils import translation

from regie.browser import browser, page

from .register import World

__all__ = ["browser", "page", "world"]


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Every test starts in the default language (Dutch) and leaves it so: a request with the
    language cookie activates its language in the thread, and the register's refusals are
    rendered in the active language."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def world(db: None, rng: random.Random) -> World:
    return World(rng)
