"""Fixtures of the agreements tests: the register world, and the real browser."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from regie.browser import browser, page

from ..services import proofs
from .register import TEST_PROOF, World

__all__ = ["browser", "page", "world"]


@pytest.fixture(autouse=True)
def destruction_proofs() -> Iterator[None]:
    """The register's tests take an agreement to "data destroyed" with a proof of their own kind
    (``register-test:<agreement pk>``), in place of the supplier's receipt that retention gives
    (an app above this one; its proofs are tested in ``retention/tests/test_contracts.py``)."""
    proofs.register_proof(TEST_PROOF, lambda agreement, value: value == str(agreement.pk))
    yield
    proofs.unregister_proof(TEST_PROOF)


@pytest.fixture
def world(db: None, rng: random.Random) -> World:
    return World(rng)
