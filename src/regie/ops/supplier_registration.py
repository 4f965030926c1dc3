"""The hub's side of the demo suppliers: their OAuth clients, and a second launchable product.

:func:`register` gives each product of a running demo supplier an OAuth client at the hub
(``private_key_jwt`` with the supplier's freshly generated JWKS, its ``/login`` as
``initiate_login_uri``, ``/callback`` as redirect URI, ``/`` after logout, ``/backchannel-logout``
for OIDC Back-Channel Logout), and registers the supplier's order endpoint (its ``/orders``,
where the hub sends erasure and other orders; the receipts come back signed with the first
product's client key, which the hub finds in that client's JWKS). A supplier with a back
office (*Rekenwereld*) also gets a roster client for its first product: ``private_key_jwt`` with the
same JWKS, no redirect URIs, the scopes ``roster-core.readonly``, ``gradebook.createput`` and
``regie.legacy`` (to register its legacy named data; client credentials only). A client
registered by an earlier start (same supplier, same name) is reused, with its JWKS and URIs
brought up to date.

:func:`ensure_second_launchable` gives *Taalrijk* a product with an **active** agreement
(*Taalrijk Spelling*, licensed to the groups that have *Rekenwereld*), so that a pupil can see a
second supplier with a different pseudonym; *Taalrijk Lezen* stays a draft and is refused. It only
adds to the demo register, through the register's services, and changes nothing on a second run.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from regie.agreements import policy
from regie.agreements import services as register_services
from regie.agreements.catalogue import SUPPLIER_PSEUDONYM
from regie.agreements.demo import SUPPLIERS
from regie.agreements.models import AgreementStatus, Licence, ProcessingAgreement, Product, Supplier
from regie.core.models import Board, Sector
from regie.demosupplier.app import DemoSupplierApp
from regie.gateway import services as gateway_services
from regie.gateway.models import OAuthClient
from regie.gateway.scopes import GRADEBOOK_CREATEPUT, LEGACY, ROSTER_CORE_READ
from regie.orders import services as orders

SPELLING = "Taalrijk Spelling"
SPELLING_ATTRIBUTES = [SUPPLIER_PSEUDONYM, "groups", "year_level"]


ROSTER_SCOPES = [ROSTER_CORE_READ.name, GRADEBOOK_CREATEPUT.name, LEGACY.name]


def client_name(product: Product) -> str:
    return f"{product.name} (demo)"


def roster_client_name(product: Product) -> str:
    return f"{product.name} rooster (demo)"


@transaction.atomic
def register(app: DemoSupplierApp) -> list[OAuthClient]:
    """Register (or update) a client per product of ``app`` found in the demo register."""
    supplier = Supplier.objects.get(kvk=SUPPLIERS[app.spec.register_key]["kvk"])
    products = {
        item.prefix: Product.objects.filter(supplier=supplier, name=item.product).first()
        for item in app.spec.products
    }
    found = {prefix: product for prefix, product in products.items() if product is not None}
    return register_clients(app, supplier, found)


@transaction.atomic
def register_clients(
    app: DemoSupplierApp, supplier: Supplier, products: dict[str, Product]
) -> list[OAuthClient]:
    """A client of ``supplier`` for each product (by the app's prefix it answers at); sets the
    relying parties' client ids."""
    clients = []
    for prefix, product in products.items():
        party = app.parties[prefix]
        client = _save_client(supplier, product, party.public_jwks(), app.uris(prefix))
        party.client_id = client.client_id
        clients.append(client)
    first = app.spec.products[0].prefix
    if first in products:  # its client signs the receipts (DemoSupplierApp.receipt_signer)
        orders.register_endpoint(supplier, app.order_endpoint)
    if app.roster_client is not None and first in products:
        roster = _save_roster_client(supplier, products[first], app.roster_client.public_jwks())
        app.roster_client.client_id = roster.client_id
        clients.append(roster)
    return clients


def _save_roster_client(supplier: Supplier, product: Product, jwks: dict[str, Any]) -> OAuthClient:
    """The back office's client: client credentials with the roster and gradebook scopes."""
    name = roster_client_name(product)
    existing = OAuthClient.objects.filter(supplier=supplier, product=product, name=name).first()
    if existing is None:
        client, _ = gateway_services.register_client(
            supplier,
            name=name,
            product=product,
            redirect_uris=[],
            jwks=jwks,
            scopes=ROSTER_SCOPES,
        )
        return client
    return gateway_services.update_client(existing, jwks=jwks, scopes=ROSTER_SCOPES, is_active=True)


def _save_client(
    supplier: Supplier, product: Product, jwks: dict[str, Any], uris: dict[str, str]
) -> OAuthClient:
    name = client_name(product)
    existing = OAuthClient.objects.filter(supplier=supplier, product=product, name=name).first()
    if existing is None:
        client, _ = gateway_services.register_client(
            supplier,
            name=name,
            product=product,
            redirect_uris=[uris["redirect_uri"]],
            post_logout_redirect_uris=[uris["post_logout_redirect_uri"]],
            initiate_login_uri=uris["initiate_login_uri"],
            backchannel_logout_uri=uris["backchannel_logout_uri"],
            jwks=jwks,
        )
        return client
    # The demo supplier made a new key at this start: the hub learns its public half.
    return gateway_services.update_client(
        existing,
        jwks=jwks,
        redirect_uris=[uris["redirect_uri"]],
        post_logout_redirect_uris=[uris["post_logout_redirect_uri"]],
        initiate_login_uri=uris["initiate_login_uri"],
        backchannel_logout_uri=uris["backchannel_logout_uri"],
        is_active=True,
    )


@transaction.atomic
def ensure_second_launchable(board: Board) -> Product | None:
    """*Taalrijk Spelling* under an active agreement, licensed like *Rekenwereld* (once)."""
    taalrijk = Supplier.objects.filter(kvk=SUPPLIERS["taalrijk"]["kvk"]).first()
    rekenwereld = Product.objects.filter(
        supplier__kvk=SUPPLIERS["rekenwereld"]["kvk"], name="Rekenwereld"
    ).first()
    if taalrijk is None or rekenwereld is None:
        return None  # the demo register is not loaded
    product = Product.objects.filter(supplier=taalrijk, name=SPELLING).first()
    if product is None:
        product = register_services.save_product(
            taalrijk,
            {
                "name": SPELLING,
                "url": "https://spelling.taalrijk.example",
                "sector": Sector.PO,
                "description": "Spelling oefenen, woord voor woord (fictief).",
            },
            user=None,
        )
    today = timezone.localdate()
    if not ProcessingAgreement.objects.filter(board=board, schedules__product=product).exists():
        _active_agreement(board, taalrijk, product, today)
    if ProcessingAgreement.objects.governing_for(board.pk, product, today) is None:
        return product  # somebody ended it since: leave it so
    year = policy.current_school_year(today)
    licensed = Licence.objects.filter(
        product=rekenwereld, school_year=year, group__isnull=False
    ).select_related("school", "group")
    for licence in licensed:
        if not Licence.objects.filter(
            product=product, school_year=year, group=licence.group
        ).exists():
            register_services.grant_licence(
                product, licence.school, licence.school_year, group=licence.group, user=None
            )
        for attribute in ("groups", "year_level"):
            register_services.set_switch(licence.school, product, attribute, True, user=None)
    return product


def _active_agreement(board: Board, supplier: Supplier, product: Product, today: Any) -> None:
    agreement = register_services.create_agreement(
        board,
        supplier,
        {
            "title": "Verwerkersovereenkomst Taalrijk Spelling",
            "model": "mvo4",
            "version": "4.0-2026",
        },
        user=None,
    )
    schedule = register_services.save_schedule(agreement, product, user=None)
    register_services.add_processing(
        schedule,
        purpose="Spelling oefenen en de voortgang aan de leerkracht tonen",
        subjects=["pupils"],
        attributes=SPELLING_ATTRIBUTES,
        sources="de school, via regie; het gebruik van het leermiddel door de leerling",
        retention_period=12,
        retention_unit="months",
        retention_trigger="left_school",
        user=None,
    )
    register_services.update_agreement(
        agreement,
        {
            "board_signatory": "drs. H. Veenstra (fictief)",
            "board_signatory_role": "voorzitter college van bestuur",
            "board_signed_on": today - timedelta(days=7),
            "supplier_signatory": "R. Baldew (fictief)",
            "supplier_signatory_role": "directeur",
            "supplier_signed_on": today - timedelta(days=9),
            "start_date": today,
        },
        user=None,
    )
    for step in (AgreementStatus.OFFERED, AgreementStatus.SIGNED, AgreementStatus.ACTIVE):
        agreement = register_services.transition(agreement, step, user=None)
