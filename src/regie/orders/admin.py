"""Orders in the admin: endpoints editable; orders read-only, with retry and cancel."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from regie.agreements.services import Refused

from . import services
from .models import DeliveryAttempt, Order, Receipt, SupplierEndpoint


@admin.register(SupplierEndpoint)
class SupplierEndpointAdmin(admin.ModelAdmin[SupplierEndpoint]):
    list_display = ("supplier", "url", "is_active", "updated_at")
    list_filter = ("is_active",)


class AttemptInline(admin.StackedInline[DeliveryAttempt, Order]):
    model = DeliveryAttempt
    fields = ("number", "started_at", "finished_at", "outcome", "sends")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReceiptInline(admin.StackedInline[Receipt, Order]):
    model = Receipt
    fields = ("status", "client", "statement", "issued_at", "verified_at", "received_via")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin[Order]):
    list_display = ("id", "type", "supplier", "board", "state", "deadline", "created_at")
    list_filter = ("state", "type")
    fields = (
        "id",
        "type",
        "supplier",
        "board",
        "school",
        "legal_basis",
        "deadline",
        "digest",
        "state",
        "created_by",
        "created_at",
        "sent_at",
        "done_at",
    )
    readonly_fields = fields
    inlines = (AttemptInline, ReceiptInline)
    actions = ("retry_orders", "cancel_orders")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Mislukte opdrachten opnieuw proberen"))
    def retry_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._each(request, queryset, services.retry)

    @admin.action(description=_("Opdrachten annuleren"))
    def cancel_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._each(request, queryset, services.cancel)

    def _each(self, request: HttpRequest, queryset: QuerySet[Order], action: Any) -> None:
        done = 0
        for order in queryset:
            try:
                action(order, user=request.user)
            except Refused as error:
                messages.error(request, error.reason)
            else:
                done += 1
        if done:
            messages.success(request, _("%(count)d opdracht(en) bijgewerkt.") % {"count": done})
