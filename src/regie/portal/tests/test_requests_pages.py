"""Rights requests on the pages: the guardian files and follows a request about their own child
only (another child, another guardian's request: 404; staff: 403); the access export; the
privacy officer's queue (by deadline, overdue flagged), its decisions (audited), the dashboard's
counts, the menu entry; another board's privacy officer gets 404."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from regie.accounts.menu import menu_for
from regie.accounts.models import PupilAccount
from regie.audit.models import AuditEvent
from regie.logins import verified_client
from regie.orders import services as orders
from regie.orders.models import Order
from regie.roster.importing.records import StaffRole
from regie.roster.tests.exports import make_board, make_staff

from .. import requests
from ..models import Notification, RequestKind, RequestState, RightsRequest
from .requests_world import (  # noqa: F401  (hub_keys is a fixture)
    STATEMENT,
    World,
    deliver_all,
    guardian_login,
    hub_keys,
    make_world,
)


@pytest.fixture
def world(db: None, settings: LazySettings, hub_keys: Path, rng: random.Random) -> Iterator[World]:  # noqa: F811
    yield from make_world(settings, hub_keys, rng)


def as_guardian(world: World) -> Client:
    client = Client()
    client.force_login(world.guardian)
    return client


def officer_client(world: World, username: str = "fg-a") -> Client:
    board = world.child.school.board
    officer, _ = make_staff(board, None, StaffRole.PRIVACY_OFFICER, username=username)
    return verified_client(officer)


def test_the_guardian_files_a_request_and_follows_it(world: World) -> None:
    client = as_guardian(world)
    page = reverse("portal:requests", args=[world.child.pk])
    shown = client.get(page)
    assert shown.status_code == 200
    text = shown.content.decode()
    for kind in RequestKind.values:
        assert f'value="{kind}"' in text
    assert "Verwijdering: de leveranciers en de hub verwijderen" in text

    world.parties[1].stub.mode = "later"
    answer = client.post(page, {"kind": "erasure", "explanation": "Wij verhuizen."})
    rr = RightsRequest.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == reverse("portal:request", args=[rr.pk])
    assert (rr.filed_by, rr.filed_as, rr.explanation) == (
        world.guardian,
        "guardian",
        "Wij verhuizen.",
    )
    deliver_all(rr)
    Order.objects.filter(rights_request_link__request=rr).update(
        deadline=timezone.localdate() - dt.timedelta(days=1)
    )
    orders.chase()
    text = client.get(answer["Location"]).content.decode()
    assert "Leverancier Taalrijk (fictief) heeft nog niet gereageerd." in text
    assert "Deze leverancier heeft geen adres voor opdrachten." in text  # Oefenplein
    assert "Alle gegevens over deze leerlingen zijn vernietigd." in text  # Rekenwereld
    assert "Resultaten die leveranciers over de leerling naar de hub stuurden" in text
    assert "wettelijke plicht" in text
    assert rr.deadline.strftime("%Y") in text
    # the list shows it
    assert reverse("portal:request", args=[rr.pk]) in client.get(page).content.decode()


def test_a_refused_filing_shows_why_and_stores_nothing(
    world: World, settings: LazySettings
) -> None:
    settings.PORTAL_REQUESTS_PER_DAY = 1
    client = as_guardian(world)
    page = reverse("portal:requests", args=[world.child.pk])
    assert client.post(page, {"kind": "rectification"}).status_code == 302
    refused = client.post(page, {"kind": "rectification"})
    assert refused.status_code == 400
    assert "in de afgelopen 24 uur al 1 verzoeken ingediend" in refused.content.decode()
    assert client.post(page, {"kind": "nonsense"}).status_code == 400
    assert RightsRequest.objects.count() == 1


def test_a_guardian_never_reaches_another_childs_requests(world: World) -> None:
    rr = requests.file(world.child, RequestKind.ACCESS, world.guardian, "")
    other = guardian_login(world.other_child, username="ouder-b")
    client = Client()
    client.force_login(other)
    assert client.get(reverse("portal:requests", args=[world.child.pk])).status_code == 404
    assert (
        client.post(
            reverse("portal:requests", args=[world.child.pk]), {"kind": "access"}
        ).status_code
        == 404
    )
    assert client.get(reverse("portal:request", args=[rr.pk])).status_code == 404
    assert client.get(reverse("portal:request-export", args=[rr.pk])).status_code == 404
    assert RightsRequest.objects.count() == 1
    # the own guardian: not the other child either
    mine = as_guardian(world)
    assert mine.get(reverse("portal:requests", args=[world.other_child.pk])).status_code == 404
    assert mine.get(reverse("portal:requests", args=[987654])).status_code == 404
    # staff have no business in the portal; a guardian none in the queue
    staff = officer_client(world)
    assert staff.get(reverse("portal:request", args=[rr.pk])).status_code == 403
    assert mine.get(reverse("requests:list")).status_code == 403
    assert mine.get(reverse("requests:detail", args=[rr.pk])).status_code == 403


def test_an_access_request_gives_an_export_of_the_hub_and_the_suppliers_answers(
    world: World,
) -> None:
    client = as_guardian(world)
    rr = requests.file(world.child, RequestKind.ACCESS, world.guardian, "")
    export = reverse("portal:request-export", args=[rr.pk])
    assert client.get(export).status_code == 404  # not before it is done
    deliver_all(rr)  # both suppliers answer with signed receipts over real HTTP
    rr.refresh_from_db()
    assert rr.state == RequestState.IN_PROGRESS  # the supplier without an order address waits
    officer_client(world).post(
        reverse("requests:detail", args=[rr.pk]),
        {
            "action": "refuse-supplier",
            "supplier": world.released_only.pk,
            "reason": "Per brief gevraagd; de leverancier heeft geen gegevens meer.",
        },
    )
    rr.refresh_from_db()
    assert rr.state == RequestState.COMPLETED
    assert (
        f'href="{export}"' in client.get(reverse("portal:request", args=[rr.pk])).content.decode()
    )
    answer = client.get(export)
    assert answer.status_code == 200
    assert answer["Content-Disposition"].startswith("attachment;")
    data = json.loads(answer.content)
    assert data["hub"]["pupil"]["roepnaam"] == world.child.roepnaam
    assert data["hub"]["guardians"][0]["relation"] == "parent"
    assert [release["supplier"] for release in data["hub"]["releases"]] == [world.released_only.pk]
    assert {key for key in data["hub"]} == {
        "pupil",
        "guardians",
        "consents",
        "licences",
        "results",
        "releases",
    }
    suppliers = {item["supplier"]: item for item in data["suppliers"]}
    assert suppliers["Rekenwereld (fictief)"]["state"] == "completed"
    assert suppliers["Oefenplein (fictief)"]["state"] == "not_sent"


def test_the_officers_queue_by_deadline_with_overdue_flagged_and_the_dashboard(
    world: World,
) -> None:
    for party in world.parties:
        party.stub.mode = "later"
    late = requests.file(world.child, RequestKind.ACCESS, world.guardian, "")
    soon = requests.file(world.child, RequestKind.RECTIFICATION, world.guardian, "naam")
    later = requests.file(world.child, RequestKind.OBJECTION, world.guardian, "")
    today = timezone.localdate()
    RightsRequest.objects.filter(pk=late.pk).update(deadline=today - dt.timedelta(days=2))
    RightsRequest.objects.filter(pk=soon.pk).update(deadline=today + dt.timedelta(days=3))
    client = officer_client(world)

    text = client.get(reverse("requests:list")).content.decode()
    order = [text.index(reverse("requests:detail", args=[rr.pk])) for rr in (late, soon, later)]
    assert order == sorted(order)
    assert text.count("<strong>te laat</strong>") == 1
    assert (
        reverse("requests:detail", args=[later.pk])
        not in client.get(reverse("requests:list") + "?filter=overdue").content.decode()
    )

    dashboard = client.get(reverse("agreements:dashboard")).content.decode()
    listed = reverse("requests:list")
    for label, filter_, count in [
        ("Verzoeken van ouders en leerlingen die open staan", "open", 3),
        ("Verzoeken die binnen 7 dagen af moeten", "soon", 1),
        ("Verzoeken die te laat zijn", "overdue", 1),
    ]:
        found = re.search(
            rf'<a href="([^"]+)">{label}</a></th><td class="count">(\d+)</td>', dashboard
        )
        assert found is not None, label
        assert (found[1], int(found[2])) == (f"{listed}?filter={filter_}", count)
    assert [item.url_name for item in menu_for(world.guardian)] == ["portal:home"]


def test_the_officers_decisions_are_audited_and_another_boards_officer_gets_404(
    world: World,
) -> None:
    world.parties[1].stub.mode = "later"
    rr = requests.file(world.child, RequestKind.ERASURE, world.guardian, "")
    deliver_all(rr)
    client = officer_client(world)
    detail = reverse("requests:detail", args=[rr.pk])
    assert client.get(detail).status_code == 200

    other_board = make_board("41002", "Stichting Elders (fictief)")
    stranger, _ = make_staff(other_board, None, StaffRole.PRIVACY_OFFICER, username="fg-b")
    elsewhere = verified_client(stranger)
    assert elsewhere.get(detail).status_code == 404
    assert elsewhere.post(detail, {"action": "refuse", "reason": "nee"}).status_code == 404
    assert detail not in elsewhere.get(reverse("requests:list") + "?filter=all").content.decode()

    answer = client.post(detail, {"action": "extend", "months": "1", "reason": "Drukte"})
    assert answer.status_code == 302
    rr.refresh_from_db()
    assert rr.extended_to == requests.extended_deadline(rr.deadline, 1)
    refused = client.post(
        detail, {"action": "extend", "months": "1", "reason": "Nog eens"}, follow=True
    )
    assert "maar één keer" in refused.content.decode()

    taalrijk = world.parties[1].supplier
    assert client.post(detail, {"action": "refuse-supplier", "supplier": "x"}).status_code == 404
    assert client.post(detail, {"action": "nonsense"}).status_code == 404
    client.post(
        detail, {"action": "refuse-supplier", "supplier": taalrijk.pk, "reason": "Bewaarplicht"}
    )
    rr.refresh_from_db()
    assert rr.state == RequestState.IN_PROGRESS  # the supplier without an order address waits
    client.post(
        detail,
        {"action": "refuse-supplier", "supplier": world.released_only.pk, "reason": "Per brief"},
    )
    rr.refresh_from_db()
    assert rr.state == RequestState.COMPLETED
    actors = set(
        AuditEvent.objects.filter(
            event_type__in=["portal.request.extended", "portal.request.supplier_refused"]
        ).values_list("actor", flat=True)
    )
    assert len(actors) == 1
    assert actors.pop().startswith("user:")
    guardian_page = as_guardian(world).get(reverse("portal:request", args=[rr.pk])).content.decode()
    assert "De school heeft besloten: Bewaarplicht" in guardian_page
    assert "Drukte" in guardian_page
    # the menu offers the queue to the privacy officer, after the orders
    officer = make_staff(
        world.child.school.board, None, StaffRole.PRIVACY_OFFICER, username="fg-c"
    )[0]
    names = [item.url_name for item in menu_for(officer)]
    assert names.index("requests:list") == names.index("orders:list") + 1


def test_a_refused_receipt_shows_the_suppliers_statement_to_the_guardian(world: World) -> None:
    world.parties[0].stub.mode = "refuse"
    rr = requests.file(world.child, RequestKind.ERASURE, world.guardian, "")
    deliver_all(rr)
    text = as_guardian(world).get(reverse("portal:request", args=[rr.pk])).content.decode()
    assert f"Geweigerd, met deze reden: {STATEMENT}" in text


def test_a_pupil_of_16_files_their_own_request_and_is_addressed_with_je(world: World) -> None:
    today = timezone.localdate()
    world.child.birth_date = today.replace(year=today.year - 16) - dt.timedelta(days=1)
    world.child.save(update_fields=["birth_date"])
    user = User.objects.create_user(username="leerling-a", password="fictief-wachtwoord-123")
    PupilAccount.objects.create(user=user, student=world.child)
    pupil = Client()
    pupil.force_login(user)
    page = reverse("portal:requests", args=[world.child.pk])
    text = pupil.get(page).content.decode()
    assert "Welk recht wil je gebruiken?" in text
    assert "Inzage: je krijgt een overzicht" in text
    assert "Welk recht wilt u" not in text
    answer = pupil.post(page, {"kind": "access"})
    rr = RightsRequest.objects.get()
    assert (answer.status_code, rr.filed_by, rr.filed_as) == (302, user, "pupil")
    # no address is known for a pupil's login: no mail, and the page says so
    assert not Notification.objects.exists()
    shown = pupil.get(reverse("portal:request", args=[rr.pk])).content.decode()
    assert "Van dit account kent de school geen e-mailadres" in shown
    # from the 16th birthday the guardian no longer acts for the child
    guardian = as_guardian(world)
    assert guardian.get(page).status_code == 404
    assert guardian.get(reverse("portal:request", args=[rr.pk])).status_code == 404
