"""The admin of the schools' identity providers: the client secret is write-only and sealed,
issuers use https, changes are audited, and links go only to people of the provider's board."""

from __future__ import annotations

import random
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from regie.audit.models import AuditEvent
from regie.core.models import Board, School
from regie.logins import verified_client
from regie.roster.tests.exports import load_school, make_board

from ..models import Audience, IdentityProvider, UpstreamIdentity
from ..services import create_pupil_login

pytestmark = pytest.mark.django_db

SECRET = "zeer-geheim-client-secret-van-de-school"
PASSWORD = "fictief-wachtwoord-123"


@pytest.fixture
def admin_client() -> Client:
    superuser = User.objects.create_superuser("beheer", "beheer@regie.example", PASSWORD)
    return verified_client(superuser)


@pytest.fixture
def board() -> Board:
    return make_board()


def form_data(board: Board, **changes: str) -> dict[str, str]:
    data = {
        "board": str(board.pk),
        "name": "Inloggen met Entree",
        "issuer": "https://idp.obs-devlieger.example",
        "client_id": "regie-hub",
        "client_secret": SECRET,
        "scopes": "openid email profile",
        "subject_claim": "email",
        "audience": Audience.STAFF,
        "is_active": "on",
    }
    data.update(changes)
    return data


def test_the_secret_is_sealed_and_never_shown_again(admin_client: Client, board: Board) -> None:
    answer = admin_client.post(reverse("admin:accounts_identityprovider_add"), form_data(board))
    assert answer.status_code == 302, answer.content.decode()[:2000]
    provider = IdentityProvider.objects.get()
    assert SECRET not in provider.client_secret_sealed
    assert provider.client_secret() == SECRET

    change_url = reverse("admin:accounts_identityprovider_change", args=[provider.pk])
    page = admin_client.get(change_url).content.decode()
    assert SECRET not in page
    assert provider.client_secret_sealed not in page
    assert re.search(r'<input type="password" name="client_secret"[^>]*>', page)
    assert 'value="' not in re.search(r'<input type="password"[^>]*>', page)[0]  # type: ignore[index]
    assert "ja (versleuteld)" in page
    assert f"/inloggen/school/{provider.pk}/terug/" in page

    [event] = AuditEvent.objects.filter(event_type="admin.saved")
    assert "client_secret" in event.details["fields"]
    assert SECRET not in str(event.details)


def test_an_empty_secret_keeps_the_current_one_and_a_new_one_replaces_it(
    admin_client: Client, board: Board
) -> None:
    admin_client.post(reverse("admin:accounts_identityprovider_add"), form_data(board))
    provider = IdentityProvider.objects.get()
    change_url = reverse("admin:accounts_identityprovider_change", args=[provider.pk])
    answer = admin_client.post(change_url, form_data(board, client_secret="", name="Entree"))
    assert answer.status_code == 302
    provider.refresh_from_db()
    assert provider.name == "Entree"
    assert provider.client_secret() == SECRET
    latest = AuditEvent.objects.filter(event_type="admin.saved").order_by("pk").last()
    assert latest is not None
    assert latest.details["fields"] == ["name"]

    admin_client.post(change_url, form_data(board, client_secret="een-nieuw-geheim"))
    provider.refresh_from_db()
    assert provider.client_secret() == "een-nieuw-geheim"


def test_a_new_provider_needs_a_secret_an_https_issuer_and_the_openid_scope(
    admin_client: Client, board: Board
) -> None:
    add = reverse("admin:accounts_identityprovider_add")
    for changes, message in (
        ({"client_secret": ""}, "Vul het client secret in."),
        ({"issuer": "http://idp.obs-devlieger.example"}, "De issuer gebruikt https"),
        ({"scopes": "email profile"}, "met &#x27;openid&#x27; erbij"),
    ):
        answer = admin_client.post(add, form_data(board, **changes))
        assert answer.status_code == 200
        assert message in answer.content.decode()
    assert not IdentityProvider.objects.exists()


def test_a_link_goes_only_to_a_pupil_or_staff_member_of_the_providers_board(
    admin_client: Client, board: Board, rng: random.Random
) -> None:
    school: School = load_school(board, rng, "99XA", "A")
    elsewhere = load_school(make_board("41009", "Stichting Elders (fictief)"), rng, "99XC", "C")
    ours = create_pupil_login(school.students.order_by("pk")[0], "leerling-a", PASSWORD)
    theirs = create_pupil_login(elsewhere.students.order_by("pk")[0], "leerling-c", PASSWORD)
    provider = IdentityProvider(
        board=board, name="Entree", issuer="https://idp.example", client_id="regie"
    )
    provider.audience = Audience.PUPILS
    provider.subject_claim = "email"
    provider.set_client_secret(SECRET)
    provider.save()
    add = reverse("admin:accounts_upstreamidentity_add")

    refused = admin_client.post(
        add, {"provider": provider.pk, "subject": "c@leerling.example", "user": theirs.pk}
    )
    assert refused.status_code == 200
    assert "geen leerling of medewerker van" in refused.content.decode()
    accepted = admin_client.post(
        add, {"provider": provider.pk, "subject": "A.Leerling@School.example", "user": ours.pk}
    )
    assert accepted.status_code == 302
    link = UpstreamIdentity.objects.get()
    assert (link.user, link.subject) == (ours, "a.leerling@school.example")  # e-mail: lower case
    assert AuditEvent.objects.filter(
        event_type="admin.saved", subject=f"accounts.upstreamidentity:{link.pk}"
    ).exists()
