"""Suppliers and their products: the catalogue shared by the hub's boards."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User as AuthUser
from django.db import transaction

from regie.audit.services import record

from .. import events
from ..models import (
    Product,
    Supplier,
)
from .common import Refused, _actor, _changed, _full_clean

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
        raise Refused(f"unknown supplier fields: {', '.join(sorted(unknown))}")
    created = supplier is None
    supplier = supplier or Supplier()
    changed = _changed(supplier, values)
    _full_clean(supplier)
    if created or changed:
        supplier.save()
        record(
            events.SUPPLIER_SAVED,
            _actor(user),
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
        raise Refused(f"unknown product fields: {', '.join(sorted(unknown))}")
    created = product is None
    product = product or Product(supplier=supplier)
    changed = _changed(product, values)
    _full_clean(product)
    if created or changed:
        product.save()
        record(
            events.PRODUCT_SAVED,
            _actor(user),
            f"product:{product.pk}",
            {"created": created, "fields": sorted(changed)},
        )
    return product
