"""Fixtures of the portal tests: the portal's world, and the real browser."""

from __future__ import annotations

import random

import pytest

from regie.browser import browser, page

from .people import PortalWorld

__all__ = ["browser", "page", "world"]


@pytest.fixture
def world(db: None, rng: random.Random) -> PortalWorld:
    return PortalWorld(rng)
