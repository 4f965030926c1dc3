"""Bad input to the register's services: refused with a reason that names the problem, and
nothing changed — no row, no field, no audit event."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import models
from django.utils import timezone, translation

from regie.agreements import services
from regie.agreements.models import (
    AgreementStatus,
    CouncilDecision,
    DataSchedule,
    Deviation,
    DpiaScreening,
    Licence,
    Processing,
    ProcessingAgreement,
    Product,
    SchoolSwitch,
    Subprocessor,
    Supplier,
)
from regie.agreements.tests.register import World, make_agreement, school_year
from regie.audit.models import AuditEvent
from regie.roster.models import Group, Student

REGISTER: tuple[type[models.Model], ...] = (
    Supplier,
    Product,
    ProcessingAgreement,
    Deviation,
    DataSchedule,
    Processing,
    Subprocessor,
    Licence,
    Licence.students.through,
    SchoolSwitch,
    DpiaScreening,
    CouncilDecision,
    AuditEvent,
)


def counts() -> dict[str, int]:
    return {model.__name__: model._default_manager.count() for model in REGISTER}


@contextmanager
def refused(word: str) -> Iterator[None]:
    """The block raises Refused whose reason names ``word`` (in the English translation: the
    Dutch texts are pinned in test_refusals_language); every register count is unchanged."""
    before = counts()
    with pytest.raises(services.Refused) as caught:
        yield
    with translation.override("en"):
        reason = caught.value.reason
    assert word.lower() in reason.lower(), reason
    assert counts() == before


def snapshot(instance: models.Model) -> dict[str, Any]:
    manager = type(instance)._default_manager
    values: dict[str, Any] = manager.filter(pk=instance.pk).values().get()
    return values


# --- agreements ----------------------------------------------------------------------------------


@pytest.fixture
def draft(world: World) -> ProcessingAgreement:
    """A draft agreement of board B with a schedule (one processing) for the world's product."""
    return make_agreement(world.board_b, world.supplier, [world.product], status="draft")


def test_it_refuses_activation_without_signatures(world: World, draft: ProcessingAgreement) -> None:
    offered = services.transition(draft, AgreementStatus.OFFERED, user=None)
    services.update_agreement(offered, {"start_date": timezone.localdate()}, user=None)
    before = snapshot(offered)
    with refused("not signed"):
        services.transition(offered, AgreementStatus.SIGNED, user=None)
    assert snapshot(offered) == before

    signed = make_agreement(world.board_b, world.supplier, [world.other_product], status="signed")
    services.update_agreement(signed, {"board_signed_on": None}, user=None)
    before = snapshot(signed)
    with refused("not signed. still missing: date signed by the board"):
        services.transition(signed, AgreementStatus.ACTIVE, user=None)
    assert snapshot(signed) == before


def test_it_refuses_an_end_date_before_the_start(world: World, draft: ProcessingAgreement) -> None:
    today = timezone.localdate()
    with refused("end date"):
        services.create_agreement(
            world.board_b,
            world.supplier,
            {"title": "Omgekeerd", "start_date": today, "end_date": today - timedelta(days=1)},
            user=None,
        )
    before = snapshot(draft)
    with refused("end date"):
        services.update_agreement(
            draft, {"start_date": today, "end_date": today - timedelta(days=1)}, user=None
        )
    assert snapshot(draft) == before


def test_it_refuses_unknown_agreement_fields(world: World, draft: ProcessingAgreement) -> None:
    with refused("unknown agreement fields: status"):
        services.create_agreement(
            world.board_b, world.supplier, {"title": "X", "status": "active"}, user=None
        )
    before = snapshot(draft)
    with refused("board"):
        services.update_agreement(draft, {"board": world.board_a}, user=None)
    assert snapshot(draft) == before


def test_it_refuses_a_new_agreement_that_starts_active(world: World) -> None:
    with refused("draft or an offer"):
        services.create_agreement(
            world.board_b, world.supplier, {"title": "Meteen actief"}, user=None, status="active"
        )


def test_it_refuses_an_agreement_without_a_title(world: World) -> None:
    with refused("title"):
        services.create_agreement(world.board_b, world.supplier, {"title": ""}, user=None)


def test_it_refuses_a_deviation_without_a_reason(draft: ProcessingAgreement) -> None:
    with refused("reason"):
        services.add_deviation(draft, "art. 7.2", "Bewaren 3 jaar", "  ", user=None)
    with refused("clause"):
        services.add_deviation(draft, "", "Bewaren 3 jaar", "Wettelijk", user=None)


# --- schedules and processings -------------------------------------------------------------------


def processing(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "purpose": "Toetsen maken",
        "subjects": ["pupils"],
        "attributes": ["supplier_pseudonym", "results"],
        "retention_period": 2,
        "retention_unit": "years",
        "retention_trigger": "end_of_school_year",
    }
    values.update(changes)
    return values


@pytest.mark.parametrize(
    ("changes", "word"),
    [
        ({"attributes": ["supplier_pseudonym", "shoe_size"]}, "shoe_size"),
        ({"attributes": ["user.name.first"]}, "not in the catalogue"),
        ({"attributes": []}, "at least one attribute"),
        ({"subjects": ["neighbours"]}, "data subjects"),
        ({"subjects": []}, "data subjects"),
        ({"retention_period": -1}, "negative"),
        ({"retention_period": True}, "whole number"),
        ({"retention_period": "12"}, "whole number"),
        ({"retention_period": 1.5}, "whole number"),
        ({"retention_unit": "weeks"}, "retention unit"),
        ({"retention_trigger": "whenever"}, "retention trigger"),
        ({"purpose": "  "}, "purpose"),
    ],
)
def test_it_refuses_a_bad_processing(
    draft: ProcessingAgreement, changes: dict[str, Any], word: str
) -> None:
    schedule = draft.schedules.get()
    with refused(word):
        services.add_processing(schedule, **processing(**changes), user=None)
    with refused(word):
        services.validate_processing(**{key: value for key, value in processing(**changes).items()})
    assert schedule.attributes() == {"supplier_pseudonym", "groups", "first_name"}


def test_it_accepts_a_good_processing(draft: ProcessingAgreement) -> None:
    schedule = draft.schedules.get()
    services.add_processing(schedule, **processing(retention_period=0), user=None)
    assert "results" in schedule.attributes()


@pytest.mark.parametrize(
    ("changes", "word"),
    [
        ({"breach_notification_hours": 0}, "(hours): ensure"),
        ({"breach_notification_hours": 96}, "(hours): ensure"),
        ({"destruction_days": -1}, "(days): ensure"),
        ({"destruction_days": 5000}, "(days): ensure"),
    ],
)
def test_it_refuses_a_bad_schedule(
    world: World, draft: ProcessingAgreement, changes: dict[str, Any], word: str
) -> None:
    schedule = draft.schedules.get()
    before = snapshot(schedule)
    with refused(word):
        services.save_schedule(draft, world.product, **changes, user=None)
    assert snapshot(schedule) == before
    with refused(word):
        services.save_schedule(draft, world.other_product, **changes, user=None)


def test_it_refuses_a_schedule_for_another_suppliers_product(
    world: World, draft: ProcessingAgreement
) -> None:
    other = services.save_supplier({"name": "Ander B.V. (fictief)", "kvk": "99000009"}, user=None)
    product = services.save_product(other, {"name": "Ander", "sector": "PO"}, user=None)
    with refused("supplier"):
        services.save_schedule(draft, product, user=None)


@pytest.mark.parametrize(
    ("values", "word"),
    [
        ({"location": "US"}, "outside the EEA"),
        ({"location": "CH", "transfer_mechanism": "none"}, "transfer mechanism"),
        ({"location": "NL", "kvk": "1234"}, "KvK"),
        ({"location": "NL", "kvk": "1234567X"}, "KvK"),
        ({"location": "NLD"}, "country code"),
        ({"location": "Nederland"}, "country code"),
        ({"location": ""}, "country code"),
        ({"location": "NL", "transfer_mechanism": "treaty"}, "transfer mechanism"),
        ({"location": "NL", "name": " "}, "name"),
    ],
)
def test_it_refuses_a_bad_subprocessor(
    draft: ProcessingAgreement, values: dict[str, Any], word: str
) -> None:
    schedule = draft.schedules.get()
    arguments = {"name": "Wolk Inc. (fictief)", **values}
    with refused(word):
        services.add_subprocessor(schedule, **arguments, user=None)


def test_it_accepts_a_subprocessor_outside_the_eea_with_a_mechanism(
    draft: ProcessingAgreement,
) -> None:
    schedule = draft.schedules.get()
    item = services.add_subprocessor(
        schedule, name="Wolk Inc. (fictief)", location="us", transfer_mechanism="scc", user=None
    )
    assert item.location == "US"


# --- licences ------------------------------------------------------------------------------------


def test_it_refuses_a_licence_without_an_active_agreement(world: World) -> None:
    with refused("active processing agreement"):
        services.grant_licence(
            world.other_product, world.a1, school_year(), group=world.group, user=None
        )
    # A draft agreement (with a schedule) is not enough either.
    make_agreement(world.board_a, world.supplier, [world.other_product], status="signed")
    with refused("active processing agreement"):
        services.grant_licence(
            world.other_product, world.a1, school_year(), group=world.group, user=None
        )


def test_it_refuses_a_licence_at_another_boards_school(world: World) -> None:
    group_b = Group.objects.get(school=world.b1, las_key="C-G5")
    with refused("active processing agreement"):
        services.grant_licence(world.product, world.b1, school_year(), group=group_b, user=None)


def test_it_refuses_a_licence_for_a_group_of_another_school(world: World) -> None:
    with refused("group"):
        services.grant_licence(world.product, world.a2, school_year(), group=world.group, user=None)


def test_it_refuses_a_licence_for_pupils_of_another_school(world: World) -> None:
    pupils = [world.pupil(), Student.objects.filter(school=world.a2).order_by("pk")[0]]
    with refused("pupil"):
        services.grant_licence(world.product, world.a2, school_year(), students=pupils, user=None)


def test_it_refuses_a_licence_for_nobody_or_for_both(world: World) -> None:
    with refused("one group or for named pupils"):
        services.grant_licence(world.product, world.a1, school_year(), user=None)
    with refused("one group or for named pupils"):
        services.grant_licence(
            world.product,
            world.a1,
            school_year(),
            group=world.group,
            students=[world.pupil()],
            user=None,
        )


def test_it_refuses_a_second_licence_for_the_same_group(world: World) -> None:
    services.grant_licence(world.product, world.a1, school_year(), group=world.group, user=None)
    with refused("already has a licence"):
        services.grant_licence(world.product, world.a1, school_year(), group=world.group, user=None)


# --- switches ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attribute", "word"),
    [
        ("last_name", "not in the data schedule"),
        ("care", "not in the data schedule"),
        ("shoe_size", "not an attribute of regie's catalogue"),
        ("supplier_pseudonym", "released by default"),
    ],
)
def test_it_refuses_a_bad_switch(world: World, attribute: str, word: str) -> None:
    with refused(word):
        services.set_switch(world.a1, world.product, attribute, True, user=None)
    assert services.switched_on(world.a1, world.product) == frozenset()


def test_it_refuses_a_switch_for_a_product_without_an_agreement(world: World) -> None:
    with refused("not in the data schedule"):
        services.set_switch(world.a1, world.other_product, "groups", True, user=None)
    with refused("not in the data schedule"):
        services.set_switch(world.b1, world.product, "groups", True, user=None)


# --- suppliers and products ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "word"),
    [
        ({"name": "Fout B.V. (fictief)", "kvk": "1234567"}, "kvk"),
        ({"name": "Fout B.V. (fictief)", "kvk": "ABCDEFGH"}, "kvk"),
        ({"name": "Fout B.V. (fictief)", "kvk": "99000001"}, "kvk"),  # already registered
        ({"name": "Fout B.V. (fictief)", "kvk": "99000008", "iban": "NL00"}, "unknown"),
        ({"name": "Fout B.V. (fictief)", "kvk": "99000008", "convenant_status": "ja"}, "convenant"),
        ({"name": "", "kvk": "99000008"}, "name"),
        ({"name": "Fout B.V. (fictief)", "kvk": "99000008", "contact_email": "geen"}, "email"),
    ],
)
def test_it_refuses_a_bad_supplier(world: World, values: dict[str, Any], word: str) -> None:
    with translation.override("en"), refused(word):
        services.save_supplier(values, user=None)


def test_it_refuses_a_bad_change_to_a_supplier(world: World) -> None:
    before = snapshot(world.supplier)
    with refused("kvk"):
        services.save_supplier({"kvk": "12"}, supplier=world.supplier, user=None)
    assert snapshot(world.supplier) == before


@pytest.mark.parametrize(
    ("values", "word"),
    [
        ({"name": "Rekenwereld", "sector": "PO"}, "already exists"),  # same supplier and name
        ({"name": "Nieuw", "sector": "XX"}, "sector"),
        ({"name": "Nieuw", "sector": "PO", "price": 3}, "unknown"),
        ({"name": "Nieuw", "sector": "PO", "url": "geen adres"}, "url"),
    ],
)
def test_it_refuses_a_bad_product(world: World, values: dict[str, Any], word: str) -> None:
    with translation.override("en"), refused(word):
        services.save_product(world.supplier, values, user=None)


# --- DPIA screenings and council decisions -------------------------------------------------------


def test_it_refuses_an_unknown_dpia_criterion(world: World) -> None:
    with refused("unknown criteria of the DPIA screening"):
        services.screen_dpia(world.board_a, world.product, ["large_scale", "vibes"], user=None)
    screening = services.screen_dpia(world.board_a, world.product, ["large_scale"], user=None)
    before = snapshot(screening)
    with refused("vibes"):
        services.screen_dpia(world.board_a, world.product, ["vibes"], user=None)
    assert snapshot(screening) == before


def council(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "document_title": "Privacyreglement",
        "document_version": "2.1",
        "decided_on": date(2026, 10, 1),
        "decision": "consent",
    }
    values.update(changes)
    return values


@pytest.mark.parametrize(
    ("changes", "word"),
    [
        ({"decided_on": "tomorrow"}, "future"),
        ({"decision": "maybe"}, "decision"),
        ({"decision": ""}, "decision"),
        ({"document_version": " "}, "version"),
    ],
)
def test_it_refuses_a_bad_council_decision(
    world: World, changes: dict[str, Any], word: str
) -> None:
    if changes.get("decided_on") == "tomorrow":
        changes = {**changes, "decided_on": timezone.localdate() + timedelta(days=1)}
    with refused(word):
        services.record_council_decision(world.board_a, **council(**changes), user=None)


def test_it_accepts_a_council_decision_of_today(world: World) -> None:
    item = services.record_council_decision(
        world.board_a, **council(decided_on=timezone.localdate()), user=None
    )
    assert item.decision == "consent"


# --- the refusal itself --------------------------------------------------------------------------


def test_it_names_the_field_of_a_refusal(world: World) -> None:
    with pytest.raises(services.Refused) as caught:
        services.set_switch(world.a1, world.product, "last_name", True, user=None)
    assert caught.value.field == "attribute"
    assert str(caught.value) == caught.value.reason


def test_it_keeps_pupil_data_out_of_refusals(world: World) -> None:
    pupil = world.pupil()
    reasons: list[str] = []
    attempts: list[Callable[[], object]] = [
        lambda: services.grant_licence(
            world.product, world.a2, school_year(), students=[pupil], user=None
        ),
        lambda: services.record_consent(pupil, world.product, "first_name", True, user=None),
        lambda: services.record_consent(pupil, world.product, "groups", True, user=None),
    ]
    for attempt in attempts:
        with pytest.raises(services.Refused) as caught:
            attempt()
        reasons.append(caught.value.reason)
    for reason in reasons:
        for value in (pupil.roepnaam, pupil.achternaam, pupil.eck_id, pupil.las_key):
            if value:
                assert value not in reason
