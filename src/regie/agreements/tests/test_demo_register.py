"""The demo register: every kind of record a privacy officer keeps, loaded through the services."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from regie.audit.models import AuditEvent

from .. import policy
from ..demo import REKENWERELD_KVK, load_demo_register
from ..models import (
    AgreementStatus,
    Consent,
    CouncilDecision,
    DpiaScreening,
    Licence,
    ProcessingAgreement,
    Product,
    SchoolSwitch,
)
from .register import World


def test_it_gives_the_board_an_active_a_draft_and_a_terminated_agreement_and_an_offer(
    world: World,
) -> None:
    load_demo_register(world.board_a)
    statuses = set(
        ProcessingAgreement.objects.filter(board=world.board_a).values_list("status", flat=True)
    )
    assert {AgreementStatus.ACTIVE, AgreementStatus.DRAFT, AgreementStatus.TERMINATED} <= statuses
    assert ProcessingAgreement.objects.offers().filter(supplier__name__startswith="Leesland")
    assert Licence.objects.filter(school=world.a1, product__supplier__kvk=REKENWERELD_KVK)
    assert SchoolSwitch.objects.filter(school=world.a1, attribute="first_name").exists()
    assert DpiaScreening.objects.get(product__name="Rekenwereld").dpia_required
    assert not DpiaScreening.objects.get(product__name="Taalrijk Lezen").dpia_required
    assert CouncilDecision.objects.filter(board=world.board_a, decision="consent").exists()


def test_its_consents_decide_what_the_licensed_pupils_release(world: World) -> None:
    load_demo_register(world.board_a)
    product = Product.objects.get(name="Rekenwereld", supplier__kvk=REKENWERELD_KVK)
    consented = {consent.student for consent in Consent.objects.filter(product=product, given=True)}
    assert len(consented) >= 2
    released = {
        pupil: policy.decide(product, pupil, ["first_name", "supplier_pseudonym"])
        for pupil in consented
    }
    with_name = [pupil for pupil, decision in released.items() if "first_name" in decision.allowed]
    withdrawn = [
        pupil
        for pupil, decision in released.items()
        if decision.reasons().get("first_name") == "no_consent"
    ]
    assert with_name
    assert len(withdrawn) == 1  # the last guardian withdrew again
    assert all("supplier_pseudonym" in decision.allowed for decision in released.values())
    terminated = Product.objects.get(name="Topografie Oud")
    assert not policy.decide(terminated, with_name[0]).may_release


def test_it_loads_once(world: World) -> None:
    load_demo_register(world.board_a)
    events = AuditEvent.objects.count()
    load_demo_register(world.board_a)
    assert AuditEvent.objects.count() == events


def test_its_privacy_statement_renders(world: World) -> None:
    load_demo_register(world.board_a)
    page = Client().get(reverse("agreements:privacy-statement", args=[world.a1.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Rekenwereld" in text
    assert "Taalrijk Lezen" not in text  # a draft agreement: nothing goes there
    assert "Topografie Oud" not in text  # terminated
