"""Applying an import as a job (``roster.apply_import``): one job per run, progress on the run, a
failure told without personal data, and a job that may run twice without doing anything twice."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import reverse

from regie.core.models import Board
from regie.jobs.services import queued
from regie.roster import services
from regie.roster.importing.oneroster import write_oneroster
from regie.roster.importing.plan import RemovalConsent
from regie.roster.importing.records import StaffRole
from regie.roster.jobs import apply_import
from regie.roster.models import (
    Group,
    Guardian,
    ImportFailure,
    ImportRun,
    ImportStatus,
    Staff,
    Student,
)
from regie.roster.tests.exports import (
    client_for,
    make_board,
    make_staff,
    run_the_apply_job,
    school_export,
)

pytestmark = pytest.mark.django_db


def upload(client: Client, board: Board, path: Path) -> ImportRun:
    with path.open("rb") as handle:
        response = client.post(
            reverse("roster:import"),
            {"board": board.pk, "file": SimpleUploadedFile(path.name, handle.read())},
        )
    assert response.status_code == 302
    return ImportRun.objects.latest("created_at")


def counts() -> tuple[int, ...]:
    return (
        Student.objects.count(),
        Student.groups.through.objects.count(),
        Group.objects.count(),
        Guardian.objects.count(),
        Guardian.students.through.objects.count(),
        Staff.objects.count(),
    )


@pytest.fixture
def previewed(rng: random.Random, tmp_path: Path) -> tuple[Client, ImportRun, int]:
    """A board admin's client and a previewed run of 12 pupils; the number of pupils."""
    board = make_board()
    user, _ = make_staff(board, None, StaffRole.BOARD_ADMIN)
    client = client_for(user)
    path = tmp_path / "export.zip"
    write_oneroster(school_export(rng, pupils=12), path)
    run = upload(client, board, path)
    assert run.status == ImportStatus.PREVIEWED
    return client, run, 12


def test_apply_queues_one_job_and_a_second_post_is_told_it_is_being_applied(
    previewed: tuple[Client, ImportRun, int],
) -> None:
    client, run, pupils = previewed
    url = reverse("roster:import-apply", args=[run.pk])
    first = client.post(url)
    assert first.status_code == 302
    assert first["Location"] == reverse("roster:import-run", args=[run.pk])
    run.refresh_from_db()
    assert run.status == ImportStatus.QUEUED
    assert not Student.objects.exists()  # nothing is applied in the request

    second = client.post(url)  # a double click, another tab
    assert second.status_code == 302
    (message,) = [str(m) for m in get_messages(second.wsgi_request)]
    assert message == "Deze import wordt al toegepast. U hoeft niets opnieuw te doen."
    page = client.get(reverse("roster:import-run", args=[run.pk])).content.decode()
    assert "De import wacht op verwerking." in page
    assert 'http-equiv="refresh"' in page  # for a browser without JavaScript
    assert "roster/import_progress.js" in page
    assert reverse("roster:import-apply", args=[run.pk]) not in page  # no button to press again
    assert client.post(reverse("roster:import-discard", args=[run.pk])).status_code == 302
    run.refresh_from_db()
    assert run.status == ImportStatus.QUEUED  # discarding waits for nothing it cannot undo

    run_the_apply_job(run)  # asserts the queue holds exactly one job for the run
    assert run.status == ImportStatus.APPLIED
    assert Student.objects.count() == pupils
    page = client.get(reverse("roster:import-run", args=[run.pk])).content.decode()
    assert "De import is toegepast." in page
    assert "Wat er is veranderd" in page
    assert "import_progress.js" not in page
    assert 'http-equiv="refresh"' not in page
    assert client.post(url).status_code == 302  # too late now: refused, nothing queued
    assert queued(apply_import, {"run": str(run.pk)}) == 1


def test_a_rolled_back_request_queues_no_job(previewed: tuple[Client, ImportRun, int]) -> None:
    _, run, _ = previewed
    user = run.uploaded_by
    assert user is not None

    class Undone(Exception):
        pass

    def request_then_fail() -> None:
        with transaction.atomic():
            services.request_apply(run, user=user, consent=RemovalConsent())
            raise Undone

    with pytest.raises(Undone):
        request_then_fail()
    run.refresh_from_db()
    assert run.status == ImportStatus.PREVIEWED
    assert queued(apply_import, {"run": str(run.pk)}) == 0


def test_the_job_run_again_changes_nothing_and_a_killed_run_is_finished_whole(
    previewed: tuple[Client, ImportRun, int],
) -> None:
    client, run, pupils = previewed
    client.post(reverse("roster:import-apply", args=[run.pk]))
    # A worker took the job, marked the run as being applied and died before it committed
    # anything (the apply is one transaction): the queue hands the job out again.
    ImportRun.objects.filter(pk=run.pk).update(status=ImportStatus.APPLYING)
    run_the_apply_job(run)
    assert run.status == ImportStatus.APPLIED
    after = counts()
    assert after[0] == pupils

    apply_import(run=str(run.pk))  # delivered once more (at least once): a no-op
    run.refresh_from_db()
    assert run.status == ImportStatus.APPLIED
    assert counts() == after


def test_the_progress_page_and_its_json_say_how_far_it_is_in_counts_only(
    previewed: tuple[Client, ImportRun, int],
) -> None:
    client, run, _ = previewed
    client.post(reverse("roster:import-apply", args=[run.pk]))
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportStatus.APPLYING, rows_done=40, rows_total=120
    )
    response = client.get(reverse("roster:import-progress", args=[run.pk]))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert json.loads(response.content) == {
        "status": "applying",
        "busy": True,
        "done": 40,
        "total": 120,
        "writing": False,
        "text": "Bezig: 40 van 120 rijen. Leerlingen met een BSN of onderwijsnummer krijgen "
        "pseudoniemen.",
    }
    page = client.get(reverse("roster:import-run", args=[run.pk])).content.decode()
    assert "Bezig: 40 van 120 rijen." in page
    assert 'max="120" value="40"' in page
    assert '<label for="import-progress">Voortgang</label>' in page

    ImportRun.objects.filter(pk=run.pk).update(rows_done=120)
    progress = json.loads(client.get(reverse("roster:import-progress", args=[run.pk])).content)
    assert progress["writing"] is True
    assert progress["text"] == "De wijzigingen worden opgeslagen, in één keer."


def test_the_job_refuses_when_the_user_may_no_longer_import_and_says_so_without_data(
    previewed: tuple[Client, ImportRun, int],
) -> None:
    client, run, _ = previewed
    client.post(reverse("roster:import-apply", args=[run.pk]))
    Staff.objects.filter(user=run.uploaded_by).update(roles=[StaffRole.TEACHER])
    run_the_apply_job(run)
    assert run.status == ImportStatus.FAILED
    assert run.failure == ImportFailure.REFUSED
    assert not Student.objects.exists()
    assert run.problems  # the reasons (school codes, never a pupil's data)
    assert all(
        set(problem) <= {"file", "line", "field", "reason", "params"} for problem in run.problems
    )


def test_the_job_of_an_account_that_is_gone_fails_and_says_why(
    previewed: tuple[Client, ImportRun, int],
) -> None:
    client, run, _ = previewed
    client.post(reverse("roster:import-apply", args=[run.pk]))
    ImportRun.objects.filter(pk=run.pk).update(applied_by=None)  # the account was deleted
    run_the_apply_job(run)
    assert run.status == ImportStatus.FAILED
    assert run.failure == ImportFailure.USER_GONE
    page = client.get(reverse("roster:import-run", args=[run.pk])).content.decode()
    assert (
        "Toepassen is mislukt: het account dat de import startte bestaat niet meer. Er is niets "
        "van de import toegepast." in page
    )
    # Failed for a reason of the hub's, not of the file: it may be applied again.
    assert reverse("roster:import-apply", args=[run.pk]) in page
    assert "Opnieuw toepassen" in page
    client.post(reverse("roster:import-apply", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == ImportStatus.QUEUED
    assert run.failure == ""
    apply_import(run=str(run.pk))  # the second job of this run (a new request, a new job)
    run.refresh_from_db()
    assert run.status == ImportStatus.APPLIED


def test_progress_is_stored_throttled_not_once_a_pupil(
    previewed: tuple[Client, ImportRun, int],
) -> None:
    _, run, _ = previewed
    now = [0.0]
    recorder = services.ProgressRecorder(run, clock=lambda: now[0])
    total = 100_000
    for done in range(total + 1):  # as if every pupil were reported, without time passing
        recorder(done, total)
    assert recorder.writes <= 101  # the first call, then each 1 %
    run.refresh_from_db()
    assert (run.rows_done, run.rows_total) == (total, total)

    slow = services.ProgressRecorder(run, clock=lambda: now[0])
    slow(0, 1_000_000)
    slow(1, 1_000_000)
    assert slow.writes == 1  # less than 1 % and no time passed: not written
    now[0] += services.PROGRESS_SECONDS
    slow(2, 1_000_000)
    assert slow.writes == 2  # a few seconds passed: written
    run.refresh_from_db()
    assert (run.rows_done, run.rows_total) == (2, 1_000_000)
