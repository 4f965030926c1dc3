"""``regie nv-keys``: generate, list and rotate the number service's keys; produce conversions.

Key material is never printed. After a rotation, restart the servers and workers so they load the
new version; values issued under older versions keep being understood.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from regie.audit.services import SYSTEM, record
from regie.lib import csvsafe
from regie.nummervoorziening import events, services
from regie.nummervoorziening.keys import (
    ROTATABLE_KINDS,
    KeyringError,
    add_key_version,
    generate_keyring,
    load_keyring,
)


class Command(BaseCommand):
    help = (
        "Manage the number service's versioned keys (in REGIE_NV_KEYS_DIR, never in the database)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("generate", help="Create version 1 of every key that is missing.")
        actions.add_parser("list", help="Show the current version of every key (no key material).")
        rotate = actions.add_parser("rotate", help="Add a new version of one key.")
        rotate.add_argument("--kind", required=True, choices=ROTATABLE_KINDS)
        convert = actions.add_parser(
            "convert",
            help="Conversion table for a chain party: a file of old values (one per line) → "
            "CSV old,new,error at the current key version.",
        )
        convert.add_argument("--kind", required=True, choices=ROTATABLE_KINDS)
        convert.add_argument("input", type=Path)
        convert.add_argument("output", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        directory = Path(settings.NV_KEYS_DIR)
        try:
            if options["action"] == "generate":
                written = generate_keyring(directory)
                for path in written:
                    self.stdout.write(f"created {path}")
                if not written:
                    self.stdout.write(f"all keys present in {directory}")
            elif options["action"] == "list":
                keyring = load_keyring(directory)
                for kind in keyring.keys:
                    self.stdout.write(f"{kind}: version {keyring.current_version(kind)}")
            elif options["action"] == "rotate":
                path = add_key_version(directory, options["kind"])
                record(events.KEY_ROTATED, SYSTEM, f"nv-key:{options['kind']}", {"file": path.name})
                self.stdout.write(
                    f"created {path}. Restart servers and workers; then give chain parties "
                    f"their conversion table with `regie nv-keys convert --kind {options['kind']}`."
                )
            else:
                self._convert(options["kind"], options["input"], options["output"])
        except KeyringError as error:
            raise CommandError(str(error)) from None

    def _convert(self, kind: str, source: Path, target: Path) -> None:
        services.get_deriver.cache_clear()
        try:
            values = [
                line.rstrip("\r\n") for line in source.read_text(encoding="utf-8").splitlines()
            ]
        except OSError as error:
            raise CommandError(f"cannot read {source}: {error.strerror}") from None
        table = services.convert_values(kind, [value for value in values if value])
        # Pseudonyms are personal data: the table is readable by its owner only.
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(descriptor, "w", encoding="utf-8", newline="") as handle:
            writer = csvsafe.writer(handle)  # opened in spreadsheets too: no formulas
            writer.writerow(["old", "new", "error"])
            for row in table:
                writer.writerow([row.old, row.new or "", row.error or ""])
        failed = sum(1 for row in table if row.error)
        self.stderr.write(f"{len(table) - failed} converted, {failed} not recognised → {target}")
