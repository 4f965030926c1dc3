"""The problems of a refused import, downloaded as CSV, open safely in a spreadsheet."""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

import pytest
from django.urls import reverse

from regie.roster import services
from regie.roster.importing.edexml import write_edexml
from regie.roster.importing.records import StaffRole
from regie.roster.models import ImportStatus
from regie.roster.tests.exports import client_for, make_board, make_staff, school_export

pytestmark = pytest.mark.django_db


def test_a_file_name_that_is_a_formula_is_written_as_text(
    rng: random.Random, tmp_path: Path
) -> None:
    board = make_board()
    user, _ = make_staff(board, None, StaffRole.BOARD_ADMIN)
    export = school_export(rng, pupils=2)
    path = tmp_path / "upload"
    write_edexml(export, export.schools[0].key, path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("<geboortedatum>2017-", "<geboortedatum>2017-13-", 1))
    name = "=2+5+cmd|' /C calc'!A0.xml"
    run = services.upload(path, name, board, user=user)
    assert run.status == ImportStatus.REFUSED

    response = client_for(user).get(reverse("roster:import-problems", args=[run.pk]))

    assert response.status_code == 200
    header, *rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert header == ["bestand", "regel", "veld", "reden"]
    assert [row[0] for row in rows] == ["'" + name]
    assert rows[0][2] == "leerling/geboortedatum"
