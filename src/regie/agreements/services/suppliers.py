"""Suppliers and their products: the catalogue shared by the hub's boards."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User as AuthUser
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from regie.audit.services import actor_for, record

from .. import events
from ..models import (
    Product,
    Supplier,
)
from .common import Refused, apply_changes, full_clean_or_refuse

SUPPLIER_FIELDS = (
    "name",
    "kvk",
    "website",
    "contact_name",
    "contact_email",
    "convenant_status",
    "certifications",
)
PRODUCT_FIELDS = ("name", "url", "sector", "users", "description")


@transaction.atomic
def save_supplier(
    values: Mapping[str, Any], *, supplier: Supplier | None = None, user: AuthUser | None
) -> Supplier:
    unknown = set(values) - set(SUPPLIER_FIELDS)
    if unknown:
        raise Refused(
            _("Onbekende velden van de leverancier: %(fields)s."),
            fields=", ".join(sorted(unknown)),
        )
    created = supplier is None
    supplier = supplier or Supplier()
    changed = apply_changes(supplier, values)
    full_clean_or_refuse(supplier)
    if created or changed:
        supplier.save()
        record(
            events.SUPPLIER_SAVED,
            actor_for(user),
            f"supplier:{supplier.pk}",
            {"created": created, "fields": sorted(changed)},
        )
    return supplier


@transaction.atomic
def save_product(
    supplier: Supplier,
    values: Mapping[str, Any],
    *,
    product: Product | None = None,
    user: AuthUser | None,
) -> Product:
    unknown = set(values) - set(PRODUCT_FIELDS)
    if unknown:
        raise Refused(
            _("Onbekende velden van het product: %(fields)s."), fields=", ".join(sorted(unknown))
        )
    created = product is None
    product = product or Product(supplier=supplier)
    changed = apply_changes(product, values)
    full_clean_or_refuse(product)
    if created or changed:
        product.save()
        record(
            events.PRODUCT_SAVED,
            actor_for(user),
            f"product:{product.pk}",
            {"created": created, "fields": sorted(changed)},
        )
    return product
