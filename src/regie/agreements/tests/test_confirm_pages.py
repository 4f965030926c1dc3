"""Destructive steps ask first: revoking a licence, terminating an agreement (and recording its
data destroyed) and removing a processing each have a page that says what happens and changes
nothing; only its POST takes the step. What the state allows can be undone, audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from regie.audit.models import AuditEvent
from regie.audit.services import actor_for
from regie.roster.models import Student
from regie.roster.tests.exports import client_for

from .. import events, services
from ..models import AgreementStatus, Licence, Processing, ProcessingAgreement
from .register import World, license_group, make_agreement, make_product, make_supplier

pytestmark = pytest.mark.django_db


def audited(event_type: str, subject: str | None = None) -> int:
    found = AuditEvent.objects.filter(event_type=event_type)
    return (found if subject is None else found.filter(subject=subject)).count()


# --- revoking a licence --------------------------------------------------------------------------


def test_the_revoke_page_says_who_loses_access_and_changes_nothing(world: World) -> None:
    licence = license_group(world.product, world.group)
    pupils = Student.objects.filter(groups=world.group, status="active").count()
    client = client_for(world.officer)  # logging in is an event of its own
    events_before = AuditEvent.objects.count()

    page = client.get(reverse("agreements:licence-revoke", args=[licence.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert f"{pupils} leerlingen verliezen de toegang tot {world.product.name}" in html
    assert "op alle kanalen tegelijk" in html
    assert "vandaag nog ongedaan maken" in html
    assert str(world.pupil()) in html  # inside the school: which pupils
    assert Licence.objects.filter(pk=licence.pk).exists()
    assert AuditEvent.objects.count() == events_before


def test_the_revoke_page_counts_pupils_another_licence_keeps(world: World) -> None:
    licence = license_group(world.product, world.group)
    pupil = world.pupil()
    services.grant_licence(
        world.product, world.a1, licence.school_year, students=[pupil], user=None
    )

    page = client_for(world.officer).get(reverse("agreements:licence-revoke", args=[licence.pk]))

    assert "1 leerling houdt de toegang via een andere licentie" in page.content.decode()
    assert pupil not in page.context["losing"]


def test_the_licence_list_links_to_the_revoke_page_instead_of_revoking(world: World) -> None:
    licence = license_group(world.product, world.group)

    html = client_for(world.officer).get(reverse("agreements:licences")).content.decode()

    url = reverse("agreements:licence-revoke", args=[licence.pk])
    assert f'href="{url}"' in html
    assert f'action="{url}"' not in html


def revoke(client: Client, licence: Licence) -> None:
    response = client.post(reverse("agreements:licence-revoke", args=[licence.pk]))
    assert response.status_code == 302
    assert not Licence.objects.filter(pk=licence.pk).exists()


def test_a_revoked_licence_is_restored_with_the_same_scope_and_audited(world: World) -> None:
    licence = license_group(world.product, world.group)
    named = services.grant_licence(
        world.product, world.a1, licence.school_year, students=[world.pupil()], user=None
    )
    client = client_for(world.officer)
    revoke(client, licence)
    revoke(client, named)
    listing = client.get(reverse("agreements:licences")).content.decode()
    assert "Vandaag ingetrokken" in listing
    assert reverse("agreements:licence-restore", args=[licence.pk]) in listing

    for old in (licence, named):
        response = client.post(reverse("agreements:licence-restore", args=[old.pk]))
        assert response.status_code == 302

    group_licence = Licence.objects.get(group=world.group)
    assert (group_licence.product, group_licence.school_year) == (
        world.product,
        licence.school_year,
    )
    pupils_licence = Licence.objects.get(group=None)
    assert list(pupils_licence.students.all()) == [world.pupil()]
    assert audited(events.LICENCE_RESTORED.name, f"licence:{group_licence.pk}") == 1
    restored = AuditEvent.objects.get(subject=f"licence:{group_licence.pk}")
    assert restored.details["revoked_licence"] == licence.pk
    assert restored.actor == actor_for(world.officer)
    # Undone once: no second undo, and the list no longer offers it.
    again = client.post(reverse("agreements:licence-restore", args=[licence.pk]))
    assert again.status_code == 404
    assert "Vandaag ingetrokken" not in client.get(reverse("agreements:licences")).content.decode()


def test_only_the_session_that_revoked_can_undo(world: World) -> None:
    licence = license_group(world.product, world.group)
    revoke(client_for(world.officer), licence)

    response = client_for(world.board_admin).post(
        reverse("agreements:licence-restore", args=[licence.pk])
    )

    assert response.status_code == 404
    assert not Licence.objects.exists()


def test_the_undo_is_a_post(world: World) -> None:
    licence = license_group(world.product, world.group)
    client = client_for(world.officer)
    revoke(client, licence)

    assert client.get(reverse("agreements:licence-restore", args=[licence.pk])).status_code == 405
    assert not Licence.objects.exists()


def test_a_revocation_of_another_day_cannot_be_restored(world: World) -> None:
    licence = license_group(world.product, world.group)
    revoked = services.revoke_licence(licence, user=None)
    yesterday = services.RevokedLicence.from_json(
        {**revoked.as_json(), "revoked_on": str(timezone.localdate() - timedelta(days=1))}
    )

    with pytest.raises(services.Refused, match="alleen herstellen op de dag van het intrekken"):
        services.restore_licence(yesterday, user=None)
    assert not Licence.objects.exists()
    assert audited(events.LICENCE_RESTORED.name) == 0


def test_a_licence_is_not_restored_once_the_agreement_ended(world: World) -> None:
    licence = license_group(world.product, world.group)
    client = client_for(world.officer)
    revoke(client, licence)
    services.transition(world.agreement, AgreementStatus.TERMINATED, user=None)

    response = client.post(reverse("agreements:licence-restore", args=[licence.pk]))

    assert response.status_code == 302
    assert "De licentie is niet hersteld" in client.get(response["Location"]).content.decode()
    assert not Licence.objects.exists()
    assert audited(events.LICENCE_RESTORED.name) == 0


# --- terminating an agreement --------------------------------------------------------------------


def confirm_url(agreement: ProcessingAgreement, to: str = AgreementStatus.TERMINATED) -> str:
    return reverse("agreements:agreement-confirm", args=[agreement.pk, to])


def test_the_termination_page_says_what_happens_and_changes_nothing(world: World) -> None:
    license_group(world.product, world.group)
    client = client_for(world.officer)  # logging in is an event of its own
    events_before = AuditEvent.objects.count()
    detail = client.get(reverse("agreements:agreement", args=[world.agreement.pk]))
    assert confirm_url(world.agreement) in detail.content.decode()

    page = client.get(confirm_url(world.agreement))

    html = page.content.decode()
    assert page.status_code == 200
    assert "stoppen op alle kanalen tegelijk" in html
    assert f"{world.product.name}: 1 licentie van dit schooljaar geeft geen toegang meer" in html
    assert "De leverancier moet de gegevens binnen" in html
    assert "Dit kan niet ongedaan worden gemaakt." in html
    world.agreement.refresh_from_db()
    assert world.agreement.status == AgreementStatus.ACTIVE
    assert AuditEvent.objects.count() == events_before


def test_a_direct_post_to_terminate_goes_to_the_confirmation_instead(world: World) -> None:
    client = client_for(world.officer)
    url = reverse("agreements:agreement-transition", args=[world.agreement.pk])

    response = client.post(url, {"to": AgreementStatus.TERMINATED})

    assert response.status_code == 302
    assert response["Location"] == confirm_url(world.agreement)
    world.agreement.refresh_from_db()
    assert world.agreement.status == AgreementStatus.ACTIVE


def test_the_confirmation_pages_post_terminates_and_is_audited(world: World) -> None:
    client = client_for(world.officer)
    before = audited(events.AGREEMENT_STATUS_CHANGED.name, f"agreement:{world.agreement.pk}")

    response = client.post(confirm_url(world.agreement))

    assert response.status_code == 302
    world.agreement.refresh_from_db()
    assert world.agreement.status == AgreementStatus.TERMINATED
    after = audited(events.AGREEMENT_STATUS_CHANGED.name, f"agreement:{world.agreement.pk}")
    assert after == before + 1
    # A step the status does not allow has no button.
    again = client.get(confirm_url(world.agreement)).content.decode()
    assert "Ja, beëindig de overeenkomst" not in again


def test_data_destroyed_follows_the_suppliers_receipt_and_has_no_button(world: World) -> None:
    services.transition(world.agreement, AgreementStatus.TERMINATED, user=None)
    client = client_for(world.officer)
    detail = client.get(reverse("agreements:agreement", args=[world.agreement.pk]))
    assert "volgt op het bewijs van de leverancier" in detail.content.decode()
    assert confirm_url(world.agreement, AgreementStatus.DATA_DESTROYED) not in (
        detail.content.decode()
    )

    page = client.get(confirm_url(world.agreement, AgreementStatus.DATA_DESTROYED))

    html = page.content.decode()
    assert page.status_code == 200
    assert "U zet deze status niet zelf" in html
    assert "ondertekend ontvangstbewijs" in html
    assert "<form" not in html.split("<main", 1)[-1]
    for url in (
        confirm_url(world.agreement, AgreementStatus.DATA_DESTROYED),
        reverse("agreements:agreement-transition", args=[world.agreement.pk]),
    ):
        response = client.post(url, {"to": AgreementStatus.DATA_DESTROYED})
        if response.status_code == 302:  # the one-click form leads to the page above
            response = client.post(response["Location"])
        assert response.status_code == 400
        assert "volgt op het bewijs van de leverancier" in response.content.decode()
    world.agreement.refresh_from_db()
    assert world.agreement.status == AgreementStatus.TERMINATED
    assert world.agreement.data_destroyed_on is None


def test_a_confirmation_page_is_only_for_irreversible_steps(world: World) -> None:
    response = client_for(world.officer).get(confirm_url(world.agreement, AgreementStatus.DRAFT))
    assert response.status_code == 404


# --- removing a processing -----------------------------------------------------------------------


@pytest.fixture
def draft(world: World) -> ProcessingAgreement:
    supplier = make_supplier("Meetwereld B.V. (fictief)", "99000002")
    return make_agreement(
        world.board_a,
        supplier,
        [make_product(supplier, "Meetwereld")],
        status=AgreementStatus.DRAFT,
        title="Concept (fictief)",
    )


def test_the_removal_page_says_what_leaves_the_schedule_and_changes_nothing(
    world: World, draft: ProcessingAgreement
) -> None:
    processing = Processing.objects.get(schedule__agreement=draft)
    client = client_for(world.officer)
    detail = client.get(reverse("agreements:agreement", args=[draft.pk])).content.decode()
    url = reverse("agreements:processing-remove", args=[processing.pk])
    assert f'href="{url}"' in detail
    events_before = AuditEvent.objects.count()

    page = client.get(url)

    html = page.content.decode()
    assert page.status_code == 200
    assert "Deze gegevens staan dan nergens meer in de bijsluiter" in html
    assert "voornaam" in html
    assert Processing.objects.filter(pk=processing.pk).exists()
    assert AuditEvent.objects.count() == events_before


def test_a_removed_processing_is_put_back_as_it_was_and_audited(
    world: World, draft: ProcessingAgreement
) -> None:
    processing = Processing.objects.get(schedule__agreement=draft)
    values = (processing.purpose, processing.attributes, processing.retention_period)
    client = client_for(world.officer)
    subject = f"agreement:{draft.pk}"
    changes = audited(events.AGREEMENT_CHANGED.name, subject)

    removed = client.post(reverse("agreements:processing-remove", args=[processing.pk]))
    assert removed.status_code == 302
    assert not Processing.objects.filter(schedule__agreement=draft).exists()
    detail = client.get(removed["Location"]).content.decode()
    restore_url = reverse("agreements:processing-restore", args=[processing.pk])
    assert restore_url in detail

    restored = client.post(restore_url)

    assert restored.status_code == 302
    back = Processing.objects.get(schedule__agreement=draft)
    assert (back.purpose, back.attributes, back.retention_period) == values
    assert audited(events.AGREEMENT_CHANGED.name, subject) == changes + 2  # removed, added
    assert client.post(restore_url).status_code == 404  # undone once


def test_the_confirmation_pages_speak_english_in_the_english_ui(
    world: World, draft: ProcessingAgreement
) -> None:
    licence = license_group(world.product, world.group)
    processing = Processing.objects.get(schedule__agreement=draft)
    client = client_for(world.officer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    revoke_page = client.get(reverse("agreements:licence-revoke", args=[licence.pk]))
    terminate_page = client.get(confirm_url(world.agreement))
    remove_page = client.get(reverse("agreements:processing-remove", args=[processing.pk]))

    assert "pupils lose access to" in revoke_page.content.decode()
    assert "Yes, revoke the licence" in revoke_page.content.decode()
    assert "This cannot be undone." in terminate_page.content.decode()
    assert "Yes, remove the processing" in remove_page.content.decode()
