"""Fixtures of the agreements tests: the register world, and the real browser."""

from __future__ import annotations

import random

import pytest

from regie.browser import browser, page

from .register import World

__all__ = ["browser", "page", "world"]


@pytest.fixture
def world(db: None, rng: random.Random) -> World:
    return World(rng)
