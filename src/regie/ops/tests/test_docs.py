"""Generated references are current: every setting, audit event type and scope is documented."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from regie.audit.events import declared as declared_event_types
from regie.gateway.scopes import SCOPES
from regie.lib.env import REGISTRY as SETTINGS

DOCS = Path(settings.BASE_DIR) / "docs"


def test_every_setting_is_in_the_configuration_reference() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert SETTINGS, "settings declare themselves on import"
    for name, setting in SETTINGS.items():
        assert f"`{name}`" in text
        assert setting.help in text


def test_every_audit_event_type_is_documented() -> None:
    text = (DOCS / "audit-events.md").read_text(encoding="utf-8")
    for event_type in declared_event_types():
        assert f"`{event_type.name}`" in text


def test_every_scope_is_documented() -> None:
    text = (DOCS / "scopes.md").read_text(encoding="utf-8")
    for name, scope in SCOPES.items():
        assert f"`{name}`" in text
        assert scope.description in text


def test_generated_pages_and_openapi_files_are_current() -> None:
    call_command("docs", "--check")
    call_command("openapi", "--check")
