"""The admin shows the whole register; only suppliers and products are edited there (audited)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from regie.audit.models import AuditEvent
from regie.logins import verified_client

from ..models import ProcessingAgreement, Supplier
from .register import World, license_group

MODELS = (
    "supplier",
    "product",
    "processingagreement",
    "dataschedule",
    "licence",
    "schoolswitch",
    "consent",
    "dpiascreening",
    "councildecision",
)


def admin_client() -> Client:
    user = User.objects.create_superuser("beheer", "beheer@regie.example", "fictief-wachtwoord")
    return verified_client(user)


def test_it_lists_every_register_model_for_a_superuser(world: World) -> None:
    license_group(world.product, world.group)
    client = admin_client()
    for model in MODELS:
        answer = client.get(reverse(f"admin:agreements_{model}_changelist"))
        assert answer.status_code == 200, model
    agreement = client.get(
        reverse("admin:agreements_processingagreement_change", args=[world.agreement.pk])
    )
    assert agreement.status_code == 200
    assert b"Rekenwereld" in agreement.content


def test_it_changes_agreements_only_through_the_register(world: World) -> None:
    client = admin_client()
    url = reverse("admin:agreements_processingagreement_change", args=[world.agreement.pk])
    client.post(url, {"title": "Gewijzigd", "status": "draft"})
    assert ProcessingAgreement.objects.get(pk=world.agreement.pk).status == "active"
    assert client.get(reverse("admin:agreements_processingagreement_add")).status_code == 403


def test_it_audits_a_supplier_edited_in_the_admin(world: World) -> None:
    client = admin_client()
    url = reverse("admin:agreements_supplier_change", args=[world.supplier.pk])
    form = {
        "name": "Rekenwereld Nederland B.V. (fictief)",
        "kvk": world.supplier.kvk,
        "website": world.supplier.website,
        "contact_name": world.supplier.contact_name,
        "contact_email": world.supplier.contact_email,
        "convenant_status": "medestander",
        "certifications": '["ISO 27001"]',
        "products-TOTAL_FORMS": "0",
        "products-INITIAL_FORMS": "0",
    }
    answer = client.post(url, form)
    assert answer.status_code == 302, answer.content[:2000]
    assert Supplier.objects.get(pk=world.supplier.pk).convenant_status == "medestander"
    event = AuditEvent.objects.filter(event_type="admin.saved").latest("pk")
    assert event.subject == f"agreements.supplier:{world.supplier.pk}"
    assert {"convenant_status", "name"} <= set(event.details["fields"])
