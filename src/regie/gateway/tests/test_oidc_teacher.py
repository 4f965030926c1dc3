"""A teacher launches a product licensed to a group they teach: ``sub`` is their keyed id at the
supplier (pairwise, the same in the ID token, userinfo and introspection, and equal to their
OneRoster ``sourcedId``), the claims are role, school and their licensed groups — never a name or
e-mail address — and without a licence for one of their groups or an active agreement there is
no launch."""

from __future__ import annotations

import httpx
import pytest

from regie.agreements import services as register_services
from regie.agreements.models import AgreementStatus, Licence, ProcessingAgreement
from regie.audit.models import AuditEvent
from regie.gateway import identifiers
from regie.gateway.models import AuthorizationCode
from regie.roster.importing.records import StaffRole
from regie.roster.models import Staff
from regie.roster.tests.exports import make_staff

from .conftest import Launchable
from .test_oidc_bad_input import (
    assert_nothing_issued,
    decode_id_token,
    refusals,
    refused_page,
    register,
)
from .test_oidc_client import logged_in
from .test_oidc_pseudonyms import values

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def teacher_of_the_group(launchable: Launchable, username: str = "mw-leerkracht") -> Staff:
    _, staff = make_staff(
        launchable.school.board, launchable.school, StaffRole.TEACHER, username=username
    )
    staff.groups.add(launchable.group)
    return staff


def test_a_teacher_launches_with_a_pairwise_keyed_id_and_only_role_school_and_groups(
    launchable: Launchable,
) -> None:
    staff = teacher_of_the_group(launchable)
    session = logged_in(launchable.base, "mw-leerkracht")
    first, second = register(launchable), register(launchable, other=True)
    seen = {}
    for rp, supplier in ((first, launchable.supplier), (second, launchable.other_supplier)):
        tokens = rp.tokens(session)
        claims = decode_id_token(launchable.base, tokens["id_token"])
        info = rp.userinfo(tokens["access_token"])
        assert info.status_code == 200
        body = info.json()
        assert claims["sub"] == body["sub"] == identifiers.staff_id(supplier, staff.pk)
        assert body == {
            "sub": claims["sub"],
            "role": "teacher",
            "school": {"brin": launchable.school.code, "name": launchable.school.name},
            "groups": [launchable.group.name],
        }
        introspected = httpx.post(
            f"{launchable.base}/oidc/introspect",
            data={"token": tokens["access_token"]},
            auth=(rp.client.client_id, rp.secret or ""),
        ).json()
        assert introspected["active"] is True
        assert introspected["sub"] == claims["sub"]
        texts = values(claims) + values(body)
        for personal in (staff.voornamen, staff.achternaam, staff.email, str(staff.pk)):
            assert personal not in texts
        seen[supplier.pk] = claims["sub"]
    assert seen[launchable.supplier.pk] != seen[launchable.other_supplier.pk]
    released = AuditEvent.objects.filter(event_type="gateway.release", subject=f"staff:{staff.pk}")
    channels = {event.details["channel"] for event in released}
    assert channels == {"id_token", "userinfo", "introspection"}
    assert all(claims["sub"] not in str(event.details) for event in released)


def test_a_teacher_whose_group_lost_its_licence_cannot_launch(launchable: Launchable) -> None:
    teacher_of_the_group(launchable)
    rp = register(launchable)
    for licence in Licence.objects.filter(product=launchable.product):
        register_services.revoke_licence(licence, user=None)
    session = logged_in(launchable.base, "mw-leerkracht")
    refused_page(rp.authorize(session), rp)
    (launch,) = refusals("gateway.launch.refused")
    assert launch["reasons"] == {"supplier_pseudonym": "no_licence"}
    assert not AuthorizationCode.objects.exists()
    assert_nothing_issued()


def test_a_teacher_cannot_launch_a_product_whose_agreement_ended(launchable: Launchable) -> None:
    teacher_of_the_group(launchable)
    rp = register(launchable)
    agreement = ProcessingAgreement.objects.get(supplier=launchable.supplier)
    register_services.transition(agreement, AgreementStatus.TERMINATED, user=None)
    session = logged_in(launchable.base, "mw-leerkracht")
    refused_page(rp.authorize(session), rp)
    (launch,) = refusals("gateway.launch.refused")
    assert launch["reasons"] == {"supplier_pseudonym": "no_active_agreement"}
    assert_nothing_issued()


def test_a_teacher_who_stopped_teaching_the_group_gets_nothing_more_from_userinfo(
    launchable: Launchable,
) -> None:
    staff = teacher_of_the_group(launchable)
    rp = register(launchable)
    tokens = rp.tokens(logged_in(launchable.base, "mw-leerkracht"))
    staff.groups.clear()
    response = rp.userinfo(tokens["access_token"])
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
