"""The import page says before upload which schools a login may import for, and discarding an
import asks first: its page says that nothing of it is applied, and only its POST discards."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from django.urls import reverse

from regie.audit.models import AuditEvent
from regie.core.models import Sector
from regie.roster import events, services
from regie.roster.importing.oneroster import write_oneroster
from regie.roster.models import ImportRun, ImportStatus
from regie.roster.tests.exports import client_for, school_export

from .test_auth import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(rng: random.Random) -> World:
    return World(rng)


def test_the_import_page_names_a_school_officers_own_school_and_who_imports_more(
    world: World,
) -> None:
    page = client_for(world.officer).get(reverse("roster:import")).content.decode()

    assert "u mag alleen importeren voor deze school:" in page
    assert f"{world.a1.name} ({world.a1.code})" in page
    assert world.a2.name not in page
    assert "die importeert een bestuursbeheerder" in page


def test_the_import_page_tells_a_board_admin_every_school_is_theirs(world: World) -> None:
    page = client_for(world.board_admin).get(reverse("roster:import")).content.decode()

    assert "u mag importeren voor alle scholen van het bestuur" in page
    assert "die importeert een bestuursbeheerder" not in page


def test_the_scopes_follow_the_access_rule(world: World, rng: random.Random) -> None:
    (officer,) = services.import_scopes(world.officer)
    (board_admin,) = services.import_scopes(world.board_admin)

    assert (officer.board, officer.board_wide, officer.schools) == (
        world.board_a,
        False,
        [world.a1],
    )
    assert board_admin.board_wide
    assert set(board_admin.schools) == {world.a1, world.a2}
    # What the page says is what the rule for the export itself decides.
    other_school = school_export(rng, code="99XB", prefix="B", sector=Sector.VO)
    assert services.may_import_export(world.officer, world.board_a, other_school) != []
    assert services.may_import_export(world.board_admin, world.board_a, other_school) == []


def previewed_run(world: World, rng: random.Random, tmp_path: Path) -> ImportRun:
    path = tmp_path / "export.zip"
    write_oneroster(school_export(rng, code="99XA", prefix="A", pupils=3), path)
    run = services.upload(path, "export.zip", world.board_a, user=world.officer)
    assert run.status == ImportStatus.PREVIEWED
    return run


def test_the_discard_page_says_what_happens_and_changes_nothing(
    world: World, rng: random.Random, tmp_path: Path
) -> None:
    run = previewed_run(world, rng, tmp_path)
    client = client_for(world.officer)
    preview = client.get(reverse("roster:import-run", args=[run.pk])).content.decode()
    assert reverse("roster:import-discard", args=[run.pk]) in preview
    events_before = AuditEvent.objects.count()

    page = client.get(reverse("roster:import-discard", args=[run.pk]))

    assert page.status_code == 200
    assert "Niets van deze import wordt toegepast" in page.content.decode()
    assert "Ja, gooi de import weg" in page.content.decode()
    run.refresh_from_db()
    assert run.status == ImportStatus.PREVIEWED
    assert AuditEvent.objects.count() == events_before


def test_the_discard_pages_post_discards_and_is_audited(
    world: World, rng: random.Random, tmp_path: Path
) -> None:
    run = previewed_run(world, rng, tmp_path)
    client = client_for(world.officer)

    response = client.post(reverse("roster:import-discard", args=[run.pk]))

    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == ImportStatus.DISCARDED
    assert AuditEvent.objects.filter(
        event_type=events.IMPORT_DISCARDED.name, subject=f"import:{run.pk}"
    ).exists()
    assert "er is niets van toegepast" in client.get(response["Location"]).content.decode()
    again = client.get(reverse("roster:import-discard", args=[run.pk])).content.decode()
    assert "er is niets weg te gooien" in again
    assert "Ja, gooi de import weg" not in again
