"""The DPIA as a step, not a flag: a product whose screening says a DPIA is required cannot become
active for the board (its agreement to ``active``) without a recorded DPIA whose outcome allows
use, or an explicit, reasoned and audited exception. The refusal is Dutch and changes nothing.
"""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from regie.audit.models import AuditEvent
from regie.roster.tests.exports import client_for

from .. import dpia, events, services
from ..models import AgreementStatus, Dpia, DpiaWaiver, ProcessingAgreement
from .register import World, make_agreement

pytestmark = pytest.mark.django_db

TWO_CRITERIA = ["vulnerable_subjects", "evaluation_scoring"]


def dpia_values(**changes: object) -> dict[str, object]:
    values: dict[str, object] = {
        "performed_on": timezone.localdate() - timedelta(days=3),
        "outcome": "with_measures",
        "reference": "DPIA-2026-007",
        "reviewer_name": "Mr. K. Jansen (fictief)",
        "reviewer_role": "functionaris gegevensbescherming",
        "notes": "",
    }
    values.update(changes)
    return values


def signed_at_board_b(world: World) -> ProcessingAgreement:
    """A signed agreement of board B for the world's product, screened: a DPIA is required."""
    agreement = make_agreement(
        world.board_b, world.supplier, [world.product], status=AgreementStatus.SIGNED
    )
    services.screen_dpia(world.board_b, world.product, TWO_CRITERIA, user=None)
    return agreement


def activate(agreement: ProcessingAgreement) -> ProcessingAgreement:
    return services.transition(agreement, AgreementStatus.ACTIVE, user=None)


def test_the_state_rule_on_plain_facts() -> None:
    two = frozenset(TWO_CRITERIA)
    assert dpia.state(None, None, waived=False) == dpia.State.NOT_SCREENED
    assert dpia.state(frozenset({"large_scale"}), None, waived=False) == dpia.State.NOT_REQUIRED
    assert dpia.state(two, None, waived=False) == dpia.State.MISSING
    assert dpia.state(two, "acceptable", waived=False) == dpia.State.DONE
    assert dpia.state(two, "with_measures", waived=False) == dpia.State.DONE
    assert dpia.state(two, "not_acceptable", waived=False) == dpia.State.REJECTED
    assert dpia.state(two, None, waived=True) == dpia.State.WAIVED
    blocking = {state for state in dpia.State if state.blocks_use}
    assert blocking == {dpia.State.MISSING, dpia.State.REJECTED}


def test_it_refuses_to_activate_without_a_dpia_in_dutch_and_changes_nothing(world: World) -> None:
    agreement = signed_at_board_b(world)
    audit = AuditEvent.objects.count()
    with override("nl"), pytest.raises(services.Refused) as refused:
        activate(agreement)
    assert "DPIA nodig" in refused.value.reason
    assert world.product.name in refused.value.reason
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.SIGNED
    assert AuditEvent.objects.count() == audit


def test_it_activates_once_a_dpia_allows_use(world: World) -> None:
    agreement = signed_at_board_b(world)
    services.record_dpia(world.board_b, world.product, dpia_values(), user=world.officer_b)
    assert activate(agreement).status == AgreementStatus.ACTIVE
    event = AuditEvent.objects.filter(event_type=events.DPIA_RECORDED.name).latest("pk")
    assert event.actor == f"user:{world.officer_b.pk}"
    assert event.details["outcome"] == "with_measures"


def test_a_dpia_that_is_not_acceptable_blocks_activation(world: World) -> None:
    agreement = signed_at_board_b(world)
    values = dpia_values(outcome="not_acceptable")
    services.record_dpia(world.board_b, world.product, values, user=world.officer_b)
    with pytest.raises(services.Refused):
        activate(agreement)
    assert ProcessingAgreement.objects.get(pk=agreement.pk).status == AgreementStatus.SIGNED


def test_an_explicit_exception_with_a_reason_lets_it_through_and_is_audited(world: World) -> None:
    agreement = signed_at_board_b(world)
    with pytest.raises(services.Refused):
        services.waive_dpia(world.board_b, world.product, "   ", user=world.officer_b)
    assert not DpiaWaiver.objects.exists()
    services.waive_dpia(
        world.board_b, world.product, "Pilot van vier weken, DPIA volgt.", user=world.officer_b
    )
    assert activate(agreement).status == AgreementStatus.ACTIVE
    waiver = DpiaWaiver.objects.get()
    assert waiver.granted_by == world.officer_b
    event = AuditEvent.objects.filter(event_type=events.DPIA_WAIVED.name).get()
    assert event.actor == f"user:{world.officer_b.pk}"
    assert event.subject == f"product:{world.product.pk}"


def test_a_product_that_needs_no_dpia_activates_as_before(world: World) -> None:
    agreement = make_agreement(
        world.board_b, world.supplier, [world.product], status=AgreementStatus.SIGNED
    )
    services.screen_dpia(world.board_b, world.product, ["vulnerable_subjects"], user=None)
    assert activate(agreement).status == AgreementStatus.ACTIVE


def test_another_boards_dpia_does_not_count(world: World) -> None:
    agreement = signed_at_board_b(world)
    services.record_dpia(world.board_a, world.product, dpia_values(), user=world.officer)
    with pytest.raises(services.Refused):
        activate(agreement)


def test_it_refuses_a_dpia_dated_in_the_future_or_without_a_reviewer(world: World) -> None:
    future = dpia_values(performed_on=timezone.localdate() + timedelta(days=1))
    for values in (future, dpia_values(reviewer_name=" "), dpia_values(outcome="fine")):
        with pytest.raises(services.Refused):
            services.record_dpia(world.board_b, world.product, values, user=None)
    assert not Dpia.objects.exists()


def test_the_page_refuses_activation_in_dutch_and_accepts_it_after_the_dpia_form(
    world: World,
) -> None:
    agreement = signed_at_board_b(world)
    client = client_for(world.officer_b)
    transition = reverse("agreements:agreement-transition", args=[agreement.pk])

    refused = client.post(transition, {"to": AgreementStatus.ACTIVE})
    assert refused.status_code == 400
    assert "DPIA nodig" in html.unescape(refused.content.decode())
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.SIGNED

    record = reverse("agreements:product-dpia-record", args=[world.product.pk])
    form = client.get(record, {"board": world.board_b.pk})
    assert form.status_code == 200
    values = dpia_values()
    values["performed_on"] = values["performed_on"].isoformat()  # type: ignore[attr-defined]
    saved = client.post(record, {**values, "board": world.board_b.pk})
    assert saved.status_code == 302
    assert Dpia.objects.get().board == world.board_b

    product_page = client.get(reverse("agreements:product", args=[world.product.pk]))
    assert "DPIA vastgelegd" in html.unescape(product_page.content.decode())
    assert "regie-badge--ok" in product_page.content.decode()

    accepted = client.post(transition, {"to": AgreementStatus.ACTIVE})
    assert accepted.status_code == 302
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.ACTIVE


def test_the_waiver_page_needs_a_reason_and_the_product_page_shows_it(world: World) -> None:
    signed_at_board_b(world)
    client = client_for(world.officer_b)
    waiver = reverse("agreements:product-dpia-waiver", args=[world.product.pk])
    empty = client.post(waiver, {"board": world.board_b.pk, "reason": ""})
    assert empty.status_code == 400
    assert not DpiaWaiver.objects.exists()
    saved = client.post(waiver, {"board": world.board_b.pk, "reason": "Noodgeval (fictief)."})
    assert saved.status_code == 302
    page = html.unescape(client.get(reverse("agreements:product", args=[world.product.pk])).text)
    assert "uitzondering op de DPIA" in page
    assert "Noodgeval (fictief)." in page


def test_the_dpia_pages_are_for_the_board_register_only(world: World) -> None:
    record = reverse("agreements:product-dpia-record", args=[world.product.pk])
    assert client_for(world.teacher).get(record).status_code == 403
    assert client_for(world.school_admin).get(record).status_code == 403
    # Another board's id: 404, never a hint that it exists.
    other = client_for(world.officer_b).get(record, {"board": world.board_a.pk})
    assert other.status_code == 404
    posted = client_for(world.officer_b).post(
        record, {**dpia_values(performed_on="2026-01-05"), "board": world.board_a.pk}
    )
    assert posted.status_code == 404
    assert not Dpia.objects.exists()
