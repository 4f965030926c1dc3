"""``regie openapi``: write the committed OpenAPI files, or ``--check`` that they are current."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


def documents() -> dict[str, dict[str, Any]]:
    from regie.gateway import openapi as gateway_openapi
    from regie.gateway.gradebook.api import ROOT_PATH as GRADEBOOK_ROOT
    from regie.gateway.gradebook.api import api as gradebook_api
    from regie.gateway.oneroster.api import ROOT_PATH
    from regie.gateway.oneroster.api import api as oneroster_api
    from regie.nummervoorziening.api import api as nummervoorziening_api
    from regie.orders import openapi as orders_openapi
    from regie.transparency import openapi as log_openapi

    return {
        "nummervoorziening.json": nummervoorziening_api.get_openapi_schema(
            path_prefix="/nummervoorziening/api/v1"
        ),
        "oneroster.json": oneroster_api.get_openapi_schema(path_prefix=ROOT_PATH),
        "oneroster-gradebook.json": gradebook_api.get_openapi_schema(path_prefix=GRADEBOOK_ROOT),
        "gateway.json": gateway_openapi.document(),
        "orders.json": orders_openapi.document(),
        "log.json": log_openapi.document(),
    }


class Command(BaseCommand):
    help = "Regenerate docs/openapi/*.json from the code, or check that they are up to date."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true", help="Fail when a file differs.")

    def handle(self, *args: Any, **options: Any) -> None:
        directory = Path(settings.BASE_DIR) / "docs" / "openapi"
        stale = []
        for name, schema in documents().items():
            text = json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
            path = directory / name
            if options["check"]:
                if not path.exists() or path.read_text(encoding="utf-8") != text:
                    stale.append(str(path))
            else:
                directory.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
                self.stdout.write(f"wrote {path}")
        if stale:
            raise CommandError(f"out of date (run `make openapi`): {', '.join(stale)}")
