"""Admin for the number service: clients (with key issuing), and read-only batch bookkeeping.

Substitutions are not shown one by one: they hold only blinded anchors, which mean nothing to a
person; the admin shows how many there are per client instead.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from regie.audit.admin import AuditedAdmin
from regie.audit.services import actor_for

from . import services
from .models import Batch, Client


@admin.register(Client)
class ClientAdmin(AuditedAdmin[Client]):
    list_display = (
        "name",
        "oin",
        "daily_batch_quota",
        "is_active",
        "blocked_until",
        "substitution_count",
    )
    list_filter = ("is_active",)
    search_fields = ("name", "oin")
    readonly_fields = ("api_key_prefix", "created_at")
    actions = ("issue_new_api_key",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Client]:
        return super().get_queryset(request).annotate(substitution_total=Count("substitutions"))

    @admin.display(description=_("substitutions"))
    def substitution_count(self, client: Any) -> int:
        return int(client.substitution_total)

    def save_model(self, request: HttpRequest, obj: Client, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        client, key = services.register_client(
            oin=obj.oin,
            name=obj.name,
            daily_batch_quota=obj.daily_batch_quota,
            actor=actor_for(request.user),
        )
        obj.pk = client.pk
        self.message_user(
            request,
            _("API key for %(name)s (shown once, store it now): %(key)s")
            % {"name": client.name, "key": key},
            messages.WARNING,
        )

    @admin.action(description=_("Issue a new API key (the old one stops working)"))
    def issue_new_api_key(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        for client in queryset:
            key = services.issue_api_key(client, actor=actor_for(request.user))
            self.message_user(
                request,
                _("New API key for %(name)s (shown once): %(key)s")
                % {"name": client.name, "key": key},
                messages.WARNING,
            )


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin[Batch]):
    """Bookkeeping only: kind, size, state and dates. Items and results are never shown."""

    list_display = (
        "id",
        "client",
        "kind",
        "item_count",
        "status",
        "created_at",
        "expires_at",
        "closed_at",
    )
    list_filter = ("kind", "status")
    fields = list_display

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
