"""The lifecycle of a processing agreement: draft → offered → signed → active → terminated → data
destroyed, every step audited, every other step refused with the reason and nothing changed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from regie.agreements import events, policy, services
from regie.agreements.models import AgreementStatus, Deviation, Processing, ProcessingAgreement
from regie.agreements.policy import Condition
from regie.agreements.tests.register import (
    World,
    destruction_proof,
    license_group,
    make_agreement,
    make_product,
    make_supplier,
)
from regie.audit.models import AuditEvent

Status = AgreementStatus


def signatures(today: date | None = None) -> dict[str, Any]:
    today = today or timezone.localdate()
    return {
        "board_signatory": "C. Voorzitter",
        "board_signatory_role": "voorzitter college van bestuur",
        "board_signed_on": today - timedelta(days=2),
        "supplier_signatory": "D. Directeur",
        "supplier_signatory_role": "directeur",
        "supplier_signed_on": today - timedelta(days=3),
        "start_date": today - timedelta(days=1),
    }


def status_events(agreement: ProcessingAgreement) -> list[dict[str, Any]]:
    return [
        event.details
        for event in AuditEvent.objects.filter(
            event_type=events.AGREEMENT_STATUS_CHANGED.name, subject=f"agreement:{agreement.pk}"
        ).order_by("pk")
    ]


def agreement_at(world: World, status: str) -> ProcessingAgreement:
    """An agreement of board B with the world's supplier (board B has none yet), at ``status``."""
    return make_agreement(world.board_b, world.supplier, [world.product], status=status)


def processing_values() -> dict[str, Any]:
    return {
        "purpose": "Toetsen maken",
        "subjects": ["pupils"],
        "attributes": ["supplier_pseudonym", "results"],
        "retention_period": 2,
        "retention_unit": "years",
        "retention_trigger": "end_of_school_year",
    }


def test_event_name_is_the_documented_one() -> None:
    assert events.AGREEMENT_STATUS_CHANGED.name == "agreements.agreement.status_changed"


def test_it_walks_the_whole_lifecycle_with_an_audit_event_per_step(world: World) -> None:
    agreement = agreement_at(world, Status.DRAFT)
    assert agreement.status == Status.DRAFT
    path = [Status.OFFERED, Status.SIGNED, Status.ACTIVE, Status.TERMINATED, Status.DATA_DESTROYED]
    before = Status.DRAFT
    for step in path:
        if step == Status.SIGNED:
            services.update_agreement(agreement, signatures(), user=world.officer_b)
        proof = destruction_proof(agreement) if step == Status.DATA_DESTROYED else ""
        agreement = services.transition(agreement, step, user=world.officer_b, proof=proof)
        agreement.refresh_from_db()
        assert agreement.status == step
        last = AuditEvent.objects.filter(event_type=events.AGREEMENT_STATUS_CHANGED.name).last()
        assert last is not None
        assert last.actor == f"user:{world.officer_b.pk}"
        assert last.subject == f"agreement:{agreement.pk}"
        assert (last.details["from"], last.details["to"]) == (before, step)
        before = step
    assert [(item["from"], item["to"]) for item in status_events(agreement)] == list(
        zip([Status.DRAFT, *path[:-1]], path, strict=True)
    )
    assert agreement.data_destroyed_on == timezone.localdate()
    assert status_events(agreement)[-1]["proof"] == destruction_proof(agreement)


@pytest.mark.parametrize("start", list(Status.values))
def test_it_refuses_every_step_not_in_the_lifecycle(world: World, start: str) -> None:
    agreement = agreement_at(world, start)
    assert agreement.status == start
    forbidden = [to for to in Status.values if to not in services.TRANSITIONS[start]]
    assert forbidden
    for to in forbidden:
        events_before = AuditEvent.objects.count()
        with pytest.raises(services.Refused) as caught:
            services.transition(agreement, to, user=None)
        assert f"van ‘{Status(start).label}’ naar ‘{Status(to).label}’" in caught.value.reason
        agreement.refresh_from_db()
        assert agreement.status == start
        assert AuditEvent.objects.count() == events_before


def test_it_knows_only_the_six_statuses() -> None:
    assert set(services.TRANSITIONS) == set(Status.values)
    for targets in services.TRANSITIONS.values():
        assert targets <= set(Status.values)
    assert services.TRANSITIONS[Status.DATA_DESTROYED] == frozenset()


def refuse(agreement: ProcessingAgreement, to: str, word: str) -> None:
    """The step is refused with a reason naming ``word``; the agreement and the log are as before."""
    before = ProcessingAgreement.objects.filter(pk=agreement.pk).values().get()
    events_before = AuditEvent.objects.count()
    with pytest.raises(services.Refused) as caught:
        services.transition(agreement, to, user=None)
    assert word in caught.value.reason
    assert ProcessingAgreement.objects.filter(pk=agreement.pk).values().get() == before
    assert AuditEvent.objects.count() == events_before


def test_it_refuses_to_sign_without_signatures(world: World) -> None:
    agreement = agreement_at(world, Status.OFFERED)
    refuse(agreement, Status.SIGNED, "Niet ondertekend")
    services.update_agreement(agreement, {"board_signatory": "C. Voorzitter"}, user=None)
    refuse(agreement, Status.SIGNED, "datum van ondertekening door het bestuur")


def test_it_refuses_a_signature_dated_in_the_future(world: World) -> None:
    agreement = agreement_at(world, Status.OFFERED)
    tomorrow = timezone.localdate() + timedelta(days=1)
    services.update_agreement(
        agreement, {**signatures(), "supplier_signed_on": tomorrow}, user=None
    )
    refuse(agreement, Status.SIGNED, "toekomst")


def test_it_refuses_to_activate_without_signatures(world: World) -> None:
    agreement = agreement_at(world, Status.SIGNED)
    services.update_agreement(agreement, {"supplier_signatory": ""}, user=None)
    refuse(agreement, Status.ACTIVE, "Niet ondertekend")
    refuse(agreement, Status.ACTIVE, "ondertekenaar van de leverancier")


def test_it_refuses_to_activate_without_a_start_date(world: World) -> None:
    agreement = agreement_at(world, Status.SIGNED)
    services.update_agreement(agreement, {"start_date": None}, user=None)
    refuse(agreement, Status.ACTIVE, "begindatum")


def test_it_refuses_to_activate_before_the_start_date(world: World) -> None:
    agreement = agreement_at(world, Status.SIGNED)
    later = timezone.localdate() + timedelta(days=7)
    services.update_agreement(agreement, {"start_date": later}, user=None)
    refuse(agreement, Status.ACTIVE, "begint later")
    # On its start date it can be activated.
    active = services.transition(agreement, Status.ACTIVE, user=None, on=later)
    assert active.status == Status.ACTIVE


def test_it_refuses_to_activate_without_a_schedule(world: World) -> None:
    # An imported agreement can start as offered, before its schedule is added.
    agreement = services.create_agreement(
        world.board_b,
        world.supplier,
        {"title": "Zonder bijsluiter", **signatures()},
        user=None,
        status=Status.OFFERED,
    )
    agreement = services.transition(agreement, Status.SIGNED, user=None)
    refuse(agreement, Status.ACTIVE, "zonder privacybijsluiter")


def test_it_refuses_a_second_active_agreement_with_the_same_supplier(world: World) -> None:
    second = make_agreement(
        world.board_a, world.supplier, [world.other_product], status=Status.SIGNED
    )
    refuse(second, Status.ACTIVE, "heeft al een actieve overeenkomst")
    # Once the first one is terminated, the second can be activated.
    services.transition(world.agreement, Status.TERMINATED, user=None)
    assert services.transition(second, Status.ACTIVE, user=None).status == Status.ACTIVE


def test_it_refuses_to_offer_without_a_schedule(world: World) -> None:
    agreement = services.create_agreement(
        world.board_b, world.supplier, {"title": "Leeg"}, user=None
    )
    refuse(agreement, Status.OFFERED, "privacybijsluiter")


def test_it_lets_a_signed_agreement_get_its_start_date_but_no_new_processing(
    world: World,
) -> None:
    agreement = agreement_at(world, Status.SIGNED)
    later = timezone.localdate() + timedelta(days=3)
    assert services.update_agreement(agreement, {"start_date": later}, user=None) == ["start_date"]
    agreement.refresh_from_db()
    assert agreement.start_date == later

    schedule = agreement.schedules.get()
    processings = Processing.objects.count()
    with pytest.raises(services.Refused) as caught:
        services.add_processing(schedule, **processing_values(), user=None)
    assert "‘ondertekend’" in caught.value.reason
    assert Processing.objects.count() == processings
    with pytest.raises(services.Refused):
        services.update_agreement(agreement, {"title": "Andere titel"}, user=None)
    agreement.refresh_from_db()
    assert agreement.title != "Andere titel"


@pytest.mark.parametrize("status", [Status.ACTIVE, Status.TERMINATED, Status.DATA_DESTROYED])
def test_it_does_not_edit_an_agreement_that_is_in_force_or_over(world: World, status: str) -> None:
    agreement = agreement_at(world, status)
    schedule = agreement.schedules.get()
    before = ProcessingAgreement.objects.filter(pk=agreement.pk).values().get()
    counts = (Processing.objects.count(), Deviation.objects.count(), AuditEvent.objects.count())
    attempts: list[Callable[[], object]] = [
        lambda: services.update_agreement(agreement, {"title": "Nieuwe titel"}, user=None),
        lambda: services.update_agreement(
            agreement, {"start_date": timezone.localdate()}, user=None
        ),
        lambda: services.add_processing(schedule, **processing_values(), user=None),
        lambda: services.add_deviation(agreement, "art. 7", "Langer bewaren", "Wet", user=None),
        lambda: services.save_schedule(
            agreement, world.product, breach_notification_hours=48, user=None
        ),
        lambda: services.save_schedule(agreement, world.other_product, user=None),
        lambda: services.remove_processing(schedule.processings.get(), user=None),
        lambda: services.add_subprocessor(
            schedule, name="Opslag B.V. (fictief)", location="NL", user=None
        ),
    ]
    for attempt in attempts:
        with pytest.raises(services.Refused) as caught:
            attempt()
        assert f"‘{Status(status).label}’" in caught.value.reason
    assert ProcessingAgreement.objects.filter(pk=agreement.pk).values().get() == before
    assert agreement.schedules.count() == 1
    assert (
        Processing.objects.count(),
        Deviation.objects.count(),
        AuditEvent.objects.count(),
    ) == counts


def test_it_does_not_transition_an_offer(world: World) -> None:
    offer = make_agreement(None, world.supplier, [world.product])
    assert offer.is_offer
    assert offer.status == Status.OFFERED
    for to in Status.values:
        refuse(offer, to, "Een aanbod wordt niet zelf ondertekend")


def test_it_dates_the_termination(world: World) -> None:
    today = timezone.localdate()
    agreement = agreement_at(world, Status.SIGNED)
    services.update_agreement(agreement, {"end_date": today + timedelta(days=300)}, user=None)
    agreement = services.transition(agreement, Status.ACTIVE, user=None)
    terminated = services.transition(agreement, Status.TERMINATED, user=None)
    terminated.refresh_from_db()
    assert terminated.terminated_on == today
    assert terminated.end_date == today
    assert status_events(terminated)[-1]["on"] == today.isoformat()


def test_it_keeps_an_earlier_end_date_on_termination(world: World) -> None:
    today = timezone.localdate()
    agreement = agreement_at(world, Status.SIGNED)
    services.update_agreement(agreement, {"end_date": today + timedelta(days=5)}, user=None)
    agreement = services.transition(agreement, Status.ACTIVE, user=None)
    later = today + timedelta(days=9)
    terminated = services.transition(agreement, Status.TERMINATED, user=None, on=later)
    assert terminated.terminated_on == later
    assert terminated.end_date == today + timedelta(days=5)


def test_it_refuses_to_destroy_data_before_the_end(world: World) -> None:
    agreement = agreement_at(world, Status.TERMINATED)
    assert agreement.terminated_on is not None
    before = ProcessingAgreement.objects.filter(pk=agreement.pk).values().get()
    with pytest.raises(services.Refused) as caught:
        services.transition(
            agreement,
            Status.DATA_DESTROYED,
            user=None,
            on=agreement.terminated_on - timedelta(days=1),
        )
    assert "pas worden vernietigd als de overeenkomst is beëindigd" in caught.value.reason
    assert ProcessingAgreement.objects.filter(pk=agreement.pk).values().get() == before


def test_data_destroyed_takes_the_suppliers_proof_and_there_is_no_step_by_hand(
    world: World,
) -> None:
    agreement = agreement_at(world, Status.TERMINATED)
    refuse(agreement, Status.DATA_DESTROYED, "volgt op het bewijs van de leverancier")
    with pytest.raises(services.Refused, match="volgt op het bewijs van de leverancier"):
        services.check_transition(agreement, Status.DATA_DESTROYED, timezone.localdate())
    other = agreement_at(world, Status.TERMINATED)
    for proof in (
        destruction_proof(other),  # another agreement's proof
        "register-test:",
        "receipt-of-someone:1",  # a kind no app checks
        "no kind at all",
    ):
        before = ProcessingAgreement.objects.filter(pk=agreement.pk).values().get()
        with pytest.raises(services.Refused, match="hoort niet bij deze overeenkomst"):
            services.transition(agreement, Status.DATA_DESTROYED, user=None, proof=proof)
        assert ProcessingAgreement.objects.filter(pk=agreement.pk).values().get() == before
    destroyed = services.transition(
        agreement, Status.DATA_DESTROYED, user=None, proof=destruction_proof(agreement)
    )
    assert destroyed.status == Status.DATA_DESTROYED


def test_every_step_is_announced_once_saved(world: World) -> None:
    from regie.agreements.signals import agreement_status_changed

    seen: list[tuple[int, str, str, str]] = []

    def receiver(
        sender: object, agreement: ProcessingAgreement, before: str, to: str, **kwargs: object
    ) -> None:
        stored = ProcessingAgreement.objects.get(pk=agreement.pk).status
        seen.append((agreement.pk, before, to, stored))

    agreement_status_changed.connect(receiver, dispatch_uid="test-lifecycle-announce")
    try:
        agreement = agreement_at(world, Status.ACTIVE)
        services.transition(agreement, Status.TERMINATED, user=None)
    finally:
        agreement_status_changed.disconnect(dispatch_uid="test-lifecycle-announce")
    assert seen[-1] == (agreement.pk, Status.ACTIVE, Status.TERMINATED, Status.TERMINATED)


def test_it_releases_nothing_after_termination(world: World) -> None:
    license_group(world.product, world.group)
    services.set_switch(world.a1, world.product, "groups", True, user=None)
    pupil = world.pupil()
    assert policy.decide(world.product, pupil).allowed == {"supplier_pseudonym", "groups"}

    services.transition(world.agreement, Status.TERMINATED, user=None)
    decision = policy.decide(world.product, pupil)
    assert decision.allowed == frozenset()
    assert {refusal.condition for refusal in decision.refused} == {Condition.NO_ACTIVE_AGREEMENT}
    # The school cannot license the product anew either.
    with pytest.raises(services.Refused):
        license_group(world.product, world.group)


def test_it_releases_only_under_the_newly_activated_agreement(world: World) -> None:
    supplier = make_supplier("Schrijfhuis B.V. (fictief)", "99000004")
    product = make_product(supplier, "Schrijfhuis")
    first = make_agreement(world.board_a, supplier, [product], attributes=["supplier_pseudonym"])
    license_group(product, world.group)
    services.transition(first, Status.TERMINATED, user=None)
    second = make_agreement(world.board_a, supplier, [product], status=Status.SIGNED)
    assert policy.decide(product, world.pupil()).allowed == frozenset()
    second = services.transition(second, Status.ACTIVE, user=None)
    decision = policy.decide(product, world.pupil())
    assert decision.allowed == {"supplier_pseudonym"}
    assert decision.agreement_id == second.pk
