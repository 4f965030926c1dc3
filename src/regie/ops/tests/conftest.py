"""Fixtures of the end-to-end tests: the gateway's (signing keys, a live hub with launchable
pupils), the register's ``world`` and the real browser, reused here."""

from __future__ import annotations

from regie.agreements.tests.conftest import world
from regie.browser import browser, page
from regie.gateway.tests.conftest import launchable, oidc_keys_dir, oidc_keys_in_settings

__all__ = ["browser", "launchable", "oidc_keys_dir", "oidc_keys_in_settings", "page", "world"]
