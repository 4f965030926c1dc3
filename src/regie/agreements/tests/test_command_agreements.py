"""``regie agreements``: export, import and publish agreements as YAML/JSON from the console."""

from __future__ import annotations

import json
import subprocess
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import CommandError, call_command

from regie.agreements import privacy_as_code
from regie.agreements.models import AgreementStatus, ProcessingAgreement, Product, Supplier
from regie.agreements.tests.register import World
from regie.conftest import regie_command, subprocess_env

pytestmark = pytest.mark.django_db

EXAMPLE = Path(settings.BASE_DIR) / "docs" / "examples" / "verwerkersovereenkomst.yaml"


def counts() -> tuple[int, int, int]:
    return Supplier.objects.count(), Product.objects.count(), ProcessingAgreement.objects.count()


def run(*args: str) -> tuple[str, str]:
    stdout, stderr = StringIO(), StringIO()
    call_command("agreements", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def offer_file(tmp_path: Path) -> Path:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    for key in ("signatories", "start_date", "end_date"):
        del data["agreement"][key]
    path = tmp_path / "aanbod.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def bad_file(tmp_path: Path) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8").replace("year_level, results]", "shoe_size]")
    path = tmp_path / "fout.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_it_exports_an_agreement_to_stdout(world: World, fmt: str) -> None:
    output, _ = run("export", str(world.agreement.pk), "--format", fmt)

    document = privacy_as_code.parse(output, name=f"stdout.{fmt}")
    assert document.agreement.status == AgreementStatus.ACTIVE
    assert document.normalised() == privacy_as_code.dump_agreement(world.agreement)
    if fmt == "json":
        assert json.loads(output)["format"] == privacy_as_code.FORMAT


def test_it_refuses_to_export_an_unknown_agreement(world: World) -> None:
    with pytest.raises(CommandError, match="no agreement with id 999999"):
        run("export", "999999")


def test_it_imports_a_file_as_a_draft_of_the_board(world: World) -> None:
    output, _ = run("import", str(EXAMPLE), "--board", world.board_b.bestuursnummer)

    agreement = ProcessingAgreement.objects.get(supplier__kvk="99000101")
    assert output.strip() == f"created draft agreement of board {world.board_b}: id {agreement.pk}"
    assert agreement.board == world.board_b
    assert agreement.status == AgreementStatus.DRAFT


def test_it_publishes_an_offer(world: World, tmp_path: Path) -> None:
    output, _ = run("publish", str(offer_file(tmp_path)))

    offer = ProcessingAgreement.objects.offers().get()
    assert output.strip() == f"created offer: id {offer.pk}"
    assert offer.supplier.kvk == "99000101"


def test_it_refuses_a_bad_file_with_every_problem_and_changes_nothing(
    world: World, tmp_path: Path
) -> None:
    before = counts()
    stderr = StringIO()

    with pytest.raises(CommandError) as refused:
        call_command(
            "agreements",
            "import",
            str(bad_file(tmp_path)),
            "--board",
            world.board_a.bestuursnummer,
            stdout=StringIO(),
            stderr=stderr,
        )

    assert refused.value.returncode == 2
    assert str(refused.value) == "1 problem; nothing was changed"
    assert stderr.getvalue().strip() == (
        "schedules[0].processings[1].attributes[1]: unknown attribute 'shoe_size'"
    )
    assert counts() == before


def test_it_refuses_an_offer_with_signatures(world: World) -> None:
    before = counts()
    stderr = StringIO()

    with pytest.raises(CommandError):
        call_command("agreements", "publish", str(EXAMPLE), stdout=StringIO(), stderr=stderr)

    assert "agreement.signatories: an offer is signed" in stderr.getvalue()
    assert counts() == before


def test_it_refuses_an_unknown_board_and_a_missing_file(world: World, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no board with this bestuursnummer"):
        run("import", str(EXAMPLE), "--board", "49999")
    with pytest.raises(CommandError, match="is not a file"):
        run("publish", str(tmp_path / "weg.yaml"))
    assert ProcessingAgreement.objects.count() == 1


def test_it_exits_non_zero_with_the_reason_on_stderr(keys_dir: Path, tmp_path: Path) -> None:
    env = subprocess_env(
        keys_dir,
        DATABASE_URL=f"sqlite:///{tmp_path / 'leeg.sqlite3'}",
        REGIE_VAR_DIR=str(tmp_path),
    )
    result = subprocess.run(
        regie_command("agreements", "publish", str(bad_file(tmp_path))),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 2, result.stderr
    assert "schedules[0].processings[1].attributes[1]: unknown attribute 'shoe_size'" in (
        result.stderr
    )
    assert "1 problem; nothing was changed" in result.stderr
    assert result.stdout == ""
