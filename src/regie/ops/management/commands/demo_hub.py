"""``regie demo-hub``: set up the demo's second hub (Stichting Het Baken, fictional) here.

``regie demo`` runs it as a child process, with the second hub's own ``REGIE_VAR_DIR`` and
``DATABASE_URL``, after ``regie migrate``: it makes the hub's log key when missing, imports the
small fictional board through the real importer (its PGN pupils get their pseudonyms from the
number service in ``REGIE_NV_URL``, with the key in ``REGIE_NV_API_KEY``), loads the demo register
(an active agreement with the demo supplier Rekenwereld), and prints the log's public key as its
last line (``vkey: …``), for the sector dashboard. Running it again changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from regie.agreements.demo import load_demo_register
from regie.core.models import Board
from regie.ops import demo_hubs
from regie.roster import demo_board
from regie.roster.models import Student, StudentStatus
from regie.roster.services import ExportRefused
from regie.transparency import keys


class Command(BaseCommand):
    help = (
        "Set up the demo's second hub (Stichting Het Baken, fictional) in this database: log key, "
        "board (through the importer), register. Run by `regie demo`."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        # Never in the first demo hub's database: the second board belongs to a separate hub.
        if Board.objects.filter(bestuursnummer=demo_board.BESTUURSNUMMER).exists():
            raise CommandError(
                "this database holds the first demo board: run regie demo-hub with the second "
                "hub's own REGIE_VAR_DIR and DATABASE_URL"
            )
        path, made = keys.ensure()
        if made:
            self.stdout.write(f"made the log's signing key {path}")
        try:
            board, loaded = demo_hubs.load_het_baken(Path(settings.VAR_DIR) / "demo")
        except ExportRefused as error:
            raise CommandError(f"the second demo board's import was refused: {error}") from None
        load_demo_register(board)
        pupils = Student.objects.filter(school__board=board, status=StudentStatus.ACTIVE).count()
        self.stdout.write(
            f"{board.name}: {'geïmporteerd' if loaded else 'al geladen'}, {pupils} leerlingen"
        )
        self.stdout.write(f"vkey: {keys.verifier().vkey}")
