"""The PGN, used once: hashed on the school side, exchanged at the number service, then forgotten."""

from __future__ import annotations

import logging
import random
from dataclasses import replace
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from pytest_django.live_server_helper import LiveServer

from regie.conftest import make_bsn
from regie.core.models import Board
from regie.lib.hpgn import decode_salt, hpgn
from regie.nummervoorziening import services as nv_services
from regie.nummervoorziening.client import NummervoorzieningClient, NummervoorzieningUnavailable
from regie.roster import services
from regie.roster.importing.oneroster import write_oneroster
from regie.roster.models import ImportStatus, PendingPseudonym, Student
from regie.roster.tests.exports import make_board, school_export

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HUB_OIN = "00000001000000000099"
CHAIN = "http://purl.edustandaard.nl/begrippenkader/e7ec7d3c-c235-4513-bfb6-e54e66854795"
PO = "http://purl.edustandaard.nl/begrippenkader/512e4729-03a4-43a2-95ba-758071d1b725"


@pytest.fixture
def hub_client(live_server: LiveServer) -> NummervoorzieningClient:
    _, key = nv_services.register_client(oin=HUB_OIN, name="regie-hub (fictief)", role="hub")
    return NummervoorzieningClient(f"{live_server.url}/nummervoorziening", key, 30)


def export_with_pgns(rng: random.Random, pgns: list[str], tmp_path: Path) -> Path:
    export = school_export(rng, pupils=5)
    export.students = [
        replace(student, eck_id="", pgn=pgns[index]) if index < len(pgns) else student
        for index, student in enumerate(export.students)
    ]
    path = tmp_path / "export.zip"
    write_oneroster(export, path)
    return path


def database_text() -> str:
    """Every row of every table, as text (to look for values that must not be stored)."""
    out: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (table names from the schema)
            out.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(out)


@pytest.mark.usefixtures("worker")
def test_it_exchanges_pgns_for_pseudonyms_and_keeps_neither_pgn_nor_hpgn(
    hub_client: NummervoorzieningClient,
    tmp_path: Path,
    rng: random.Random,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    settings: object,
) -> None:
    caplog.set_level(logging.DEBUG)
    board = make_board()
    pgns = [make_bsn(rng), make_bsn(rng)]
    path = export_with_pgns(rng, pgns, tmp_path)

    run = services.upload(path, "export.zip", board, user=None)
    assert run.status == ImportStatus.PREVIEWED, run.problems
    assert run.plan["schools"][0]["pgns_to_exchange"] == 2
    services.apply(run, user=None, client=hub_client)

    salt = decode_salt(settings.HPGN_SALT)  # type: ignore[attr-defined]
    hpgns = [hpgn(pgn, salt) for pgn in pgns]
    for index, value in enumerate(hpgns):
        student = Student.objects.get(las_key=f"A-LL-{index:04d}")
        stampseudonym = hub_client.stampseudonym(value)
        assert student.stampseudonym == stampseudonym
        assert student.eck_id == hub_client.eck_id(stampseudonym, CHAIN, PO)
    assert not PendingPseudonym.objects.exists()

    call_command("dumpdata", "--all")  # also through Django's own serialisation
    stored = database_text() + capfd.readouterr().out
    logged = caplog.text
    for secret in (*pgns, *hpgns):
        assert secret not in stored
        assert secret not in logged
    assert not list(Path(services.import_dir()).iterdir())  # the uploaded copy is gone


@pytest.mark.usefixtures("worker")
def test_pupils_already_known_are_not_hashed_again_and_an_interrupted_run_resumes(
    hub_client: NummervoorzieningClient, tmp_path: Path, rng: random.Random
) -> None:
    board: Board = make_board()
    pgns = [make_bsn(rng), make_bsn(rng)]
    path = export_with_pgns(rng, pgns, tmp_path)
    offline = NummervoorzieningClient("http://127.0.0.1:9/nummervoorziening", "nv_x_y", 1)

    # A first run that stops at the number service leaves nothing applied...
    first = services.upload(path, "export.zip", board, user=None)
    with pytest.raises(NummervoorzieningUnavailable):
        services.apply(first, user=None, client=offline)
    assert not Student.objects.exists()
    first.refresh_from_db()
    assert first.status == ImportStatus.PREVIEWED

    # ... and pseudonyms obtained are kept, so that the next run does not obtain them again.
    services.obtain_pseudonyms(services.read_export(path, "export.zip"), board, client=hub_client)
    assert PendingPseudonym.objects.count() == 2
    services.apply(first, user=None, client=offline)  # needs the number service no more
    assert Student.objects.exclude(eck_id="").count() == 5
    assert not PendingPseudonym.objects.exists()

    # Re-importing the same export: the pupils are known by LAS key, nobody is hashed again.
    again = services.upload(path, "export.zip", board, user=None)
    assert again.plan["schools"][0]["pgns_to_exchange"] == 0
    services.apply(again, user=None, client=offline)
    assert Student.objects.exclude(eck_id="").count() == 5
