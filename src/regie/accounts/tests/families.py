"""Test data for guardians' logins: a board with two schools loaded through the real importer,
each pupil with a guardian who has an e-mail address (``ouder<n>.<prefix>@ouders.example``)."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from django.db import transaction

from regie.core.models import Board, School
from regie.roster.importing.plan import apply_export
from regie.roster.importing.records import RosterExport
from regie.roster.models import Guardian
from regie.roster.tests.exports import make_board, school_export

PASSWORD = "een-lang-fictief-wachtwoord-42"


@dataclass
class Families:
    board: Board
    school_a: School
    school_b: School
    export_a: RosterExport

    def guardian(self, email: str) -> Guardian:
        return Guardian.objects.get(school__board=self.board, email=email)

    def reimport_a_without(self, email: str) -> None:
        """The next import of school A, whose export no longer has the guardian ``email``."""
        export = replace(
            self.export_a,
            guardians=[g for g in self.export_a.guardians if g.email != email],
        )
        with transaction.atomic():
            apply_export(export, self.board, actor="test", pseudonyms={})


def load(board: Board, rng: random.Random, code: str, prefix: str) -> tuple[School, RosterExport]:
    export = school_export(rng, code=code, prefix=prefix, pupils=4)
    with transaction.atomic():
        apply_export(export, board, actor="test", pseudonyms={})
    return School.objects.get(brin=code[:4], vestiging=code[4:]), export


def families(rng: random.Random) -> Families:
    board = make_board()
    school_a, export_a = load(board, rng, "99XA", "A")
    school_b, _ = load(board, rng, "99XB", "B")
    return Families(board, school_a, school_b, export_a)
