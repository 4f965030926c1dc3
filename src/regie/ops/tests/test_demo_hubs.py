"""The demo's second hub (Stichting Het Baken, fictional): a separate hub, set up by child
processes, with pseudonyms from the first hub's number service over HTTP."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from regie.agreements.demo import REKENWERELD_KVK
from regie.audit import signed_note
from regie.conftest import regie_command, start_server, subprocess_env
from regie.core.models import Board
from regie.lib.hpgn import decode_salt, hpgn
from regie.nummervoorziening.models import Batch
from regie.ops import demo_hubs
from regie.ops.management.commands.demo import ensure_client
from regie.roster import demo_board


def rows(database: Path, query: str, *params: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(query, params).fetchall()


def test_the_second_board_is_small_fictional_and_its_own() -> None:
    board = demo_hubs.het_baken_board()
    assert board.name == "Stichting Het Baken (fictief)"
    assert len(board.export.students) == demo_hubs.HUB_B_PUPILS
    assert sum(1 for pupil in board.export.students if pupil.pgn) == demo_hubs.HUB_B_PGN_PUPILS
    assert {school.brin for school in board.export.schools} == {"99XC", "99XD"}
    assert all("(fictief)" in school.name for school in board.export.schools)
    addresses = [guardian.email for guardian in board.export.guardians]
    addresses += [member.email for member in board.export.staff]
    assert addresses
    domains = {address.partition("@")[2] for address in addresses}
    assert domains == {"hetbaken.example", demo_board.GUARDIAN_DOMAIN}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_second_hub_is_a_separate_hub_with_pseudonyms_from_the_first_hubs_number_service(
    keys_dir: Path, tmp_path: Path
) -> None:
    # The first hub's number service, over HTTP; a hub client for the second hub, as `regie demo`.
    key = ensure_client(*demo_hubs.HUB_B_CLIENT, quota=1000, role="hub")
    server, url = start_server(keys_dir, tmp_path / "server.log")
    var_dir = tmp_path / "hub-b"
    try:
        hub = demo_hubs.set_up_second_hub(
            var_dir, nv_url=f"{url}/nummervoorziening", nv_key=key, oversight_url=""
        )
        again = demo_hubs.set_up_second_hub(
            var_dir, nv_url=f"{url}/nummervoorziening", nv_key=key, oversight_url=""
        )
        # Each PGN pupil's stampseudonym is the one the first hub's number service gives.
        pupils = {p.key: p.pgn for p in demo_hubs.het_baken_board().export.students if p.pgn}
        salt = decode_salt(settings.HPGN_SALT)
        expected = {
            las_key: httpx.post(
                f"{url}/nummervoorziening/api/v1/stampseudonyms",
                json={"hpgn": hpgn(pgn, salt)},
                headers={"Authorization": f"Bearer {key}"},
            ).json()["stampseudonym"]
            for las_key, pgn in pupils.items()
        }
    finally:
        server.terminate()
        server.wait(60)

    database = var_dir / "regie.sqlite3"
    assert database.exists()
    assert rows(database, "SELECT name, bestuursnummer FROM core_board") == [
        (demo_hubs.HUB_B_NAME, demo_hubs.HUB_B_BESTUURSNUMMER)
    ]
    # The board came in through the importer, once (the second run changed nothing).
    assert rows(database, "SELECT file_name, status FROM roster_importrun") == [
        (demo_hubs.HUB_B_EXPORT, "applied")
    ]
    assert rows(database, "SELECT count(*) FROM roster_student WHERE status = 'active'") == [
        (demo_hubs.HUB_B_PUPILS,)
    ]
    stored = {
        str(las_key): str(stampseudonym)
        for las_key, stampseudonym in rows(
            database, "SELECT las_key, stampseudonym FROM roster_student WHERE stampseudonym <> ''"
        )
    }
    assert len(expected) == demo_hubs.HUB_B_PGN_PUPILS
    assert stored == expected
    # ... obtained by the second hub's own client (the first hub's database holds its batches).
    obtained = Batch.objects.filter(client__oin=demo_hubs.HUB_B_CLIENT[0], kind="stampseudonym")
    assert sum(batch.item_count for batch in obtained) == demo_hubs.HUB_B_PGN_PUPILS
    # Its own register: an active agreement with the demo supplier Rekenwereld.
    assert rows(
        database,
        "SELECT a.status FROM agreements_processingagreement a JOIN agreements_supplier s "
        "ON a.supplier_id = s.id WHERE s.kvk = ? AND a.board_id IS NOT NULL",
        REKENWERELD_KVK,
    ) == [("active",)]
    # Its own log key, named by its own origin, kept on a second run; not the first hub's.
    own = signed_note.signer_from_skey((var_dir / "log-key").read_text())
    first = signed_note.signer_from_skey((keys_dir / "log-key").read_text())
    assert hub.vkey == again.vkey == own.verifier.vkey
    assert own.name == demo_hubs.HUB_B_ORIGIN
    assert own.verifier.vkey != first.verifier.vkey
    assert own.skey != first.skey
    assert hub.summary == "Stichting Het Baken (fictief): geïmporteerd, 40 leerlingen"
    assert "al geladen" in again.summary


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_setup_command_refuses_the_first_demo_hubs_database(
    keys_dir: Path, tmp_path: Path
) -> None:
    """`regie demo-hub` run on the first hub's database would put a second board in it."""
    Board.objects.create(name=demo_board.BOARD_NAME, bestuursnummer=demo_board.BESTUURSNUMMER)
    done = subprocess.run(
        regie_command("demo-hub"),
        env=subprocess_env(keys_dir),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "holds the first demo board" in done.stderr
    assert Board.objects.count() == 1
