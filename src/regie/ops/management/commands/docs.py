"""``regie docs``: write the generated reference pages, or ``--check`` that they are current."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from regie.audit import events
from regie.gateway import scopes
from regie.lib import env


def pages() -> dict[str, str]:
    apps.check_apps_ready()
    return {
        "configuration.md": env.reference_markdown(),
        "audit-events.md": events.reference_markdown(),
        "scopes.md": scopes.reference_markdown(),
    }


class Command(BaseCommand):
    help = "Regenerate docs/configuration.md, audit-events.md and scopes.md, or check them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true", help="Fail when a page differs.")

    def handle(self, *args: Any, **options: Any) -> None:
        directory = Path(settings.BASE_DIR) / "docs"
        stale = []
        for name, text in pages().items():
            path = directory / name
            if options["check"]:
                if not path.exists() or path.read_text(encoding="utf-8") != text:
                    stale.append(str(path))
            else:
                directory.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
                self.stdout.write(f"wrote {path}")
        if stale:
            raise CommandError(f"out of date (run `regie docs`): {', '.join(stale)}")
