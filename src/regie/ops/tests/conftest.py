"""The gateway's fixtures (signing keys, a live hub with launchable pupils) and the register's
``world``, reused here."""

from __future__ import annotations

from regie.agreements.tests.conftest import world
from regie.gateway.tests.conftest import _oidc_keys, launchable, oidc_keys_dir

__all__ = ["_oidc_keys", "launchable", "oidc_keys_dir", "world"]
