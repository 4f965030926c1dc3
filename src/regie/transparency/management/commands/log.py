"""``regie log``: the audit log's key, checkpoints, witnesses and export.

- ``regie log key`` — make the checkpoint signing key when missing; print its public key (vkey);
- ``regie log publish`` — sign a checkpoint now and send it to the witnesses (what the periodic
  job does every few minutes);
- ``regie log add-witness URL VKEY`` — send checkpoints to this witness from now on;
- ``regie log export FILE`` — the full log (leaves and the details not erased) with the newest
  checkpoint, for ``regie-verify audit``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from regie.audit import log
from regie.audit.services import SYSTEM, record

from ... import keys, services
from ...events import WITNESS_SAVED
from ...models import Witness


class Command(BaseCommand):
    help = "The audit log: its signing key, checkpoints, witnesses and export."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        commands.add_parser("key", help="Make the log's signing key if missing; print its vkey.")
        commands.add_parser("publish", help="Sign a checkpoint now and send it to the witnesses.")
        witness = commands.add_parser("add-witness", help="Send checkpoints to this witness.")
        witness.add_argument("url", help="The witness's base URL (it serves /add-checkpoint).")
        witness.add_argument("vkey", help="The witness's cosigning key (name+id+key).")
        export = commands.add_parser("export", help="Write the full log for regie-verify audit.")
        export.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "_" + options["action"].replace("-", "_"))(options)
        except (keys.LogKeyError, services.LogInconsistent) as error:
            raise CommandError(str(error)) from None

    def _key(self, options: dict[str, Any]) -> None:
        path, made = keys.ensure()
        if made:
            self.stderr.write(f"made the log's signing key {path}")
        self.stdout.write(keys.verifier().vkey)

    def _publish(self, options: dict[str, Any]) -> None:
        checkpoint = services.publish()
        cosigned = checkpoint.cosignatures.count()
        self.stdout.write(
            f"checkpoint of {checkpoint.size} events, cosigned by {cosigned} of "
            f"{Witness.objects.filter(active=True).count()} witnesses"
        )

    def _add_witness(self, options: dict[str, Any]) -> None:
        witness = Witness.objects.filter(vkey=options["vkey"]).first() or Witness(
            vkey=options["vkey"]
        )
        witness.url = options["url"]
        witness.active = True
        try:
            witness.full_clean()
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        created = witness.pk is None
        witness.save()
        record(WITNESS_SAVED, SYSTEM, f"witness:{witness.pk}", {"created": created})
        self.stdout.write(f"witness {witness.name} at {witness.url}")

    def _export(self, options: dict[str, Any]) -> None:
        checkpoint = services.publish()
        with options["file"].open("w", encoding="utf-8") as out:
            log.export(out, checkpoint.cosigned().decode())
        self.stdout.write(f"{checkpoint.size} events written to {options['file']}")
