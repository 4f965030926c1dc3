"""Admin for the number service: clients (with key issuing, role and a hub's suppliers), and
read-only batch bookkeeping.

Substitutions are not shown one by one: they hold only blinded anchors, which mean nothing to a
person; the admin shows how many there are per client instead. A client's role and suppliers are
changed through :mod:`.services` (``set_role``, ``set_suppliers``), so each change is audited with
the supplier ids added and removed.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from regie.audit.admin import AuditedAdmin
from regie.audit.services import actor_for

from . import services
from .errors import InvalidInput
from .models import Batch, Client, ClientRole


class ClientForm(forms.ModelForm[Client]):
    suppliers = forms.CharField(
        label=_("leveranciers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Alleen voor een hub: de leveranciers waarvoor hij leverancierspseudoniemen krijgt, "
            "één KvK-nummer (8 cijfers) of OIN (20 cijfers) per regel. De hub houdt deze lijst "
            "zelf bij met de leveranciers waarmee zijn besturen een overeenkomst hebben."
        ),
    )

    class Meta:
        model = Client
        fields = ("oin", "name", "role", "daily_batch_quota", "blocked_until", "is_active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["suppliers"] = "\n".join(self.instance.supplier_ids())

    def clean_suppliers(self) -> list[str]:
        lines = str(self.cleaned_data.get("suppliers") or "").splitlines()
        supplier_ids = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                supplier_ids.append(services.check_supplier_id(line.strip()))
            except InvalidInput:
                raise forms.ValidationError(
                    _("Regel %(line)s is geen KvK-nummer (8 cijfers) of OIN (20 cijfers)."),
                    params={"line": number},
                    code="invalid-supplier-id",
                ) from None
        return sorted(set(supplier_ids))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("suppliers") and cleaned.get("role") != ClientRole.HUB:
            self.add_error("suppliers", _("Alleen een hub-client heeft leveranciers."))
        return cleaned


@admin.register(Client)
class ClientAdmin(AuditedAdmin[Client]):
    form = ClientForm
    list_display = (
        "name",
        "oin",
        "role",
        "supplier_count",
        "daily_batch_quota",
        "is_active",
        "blocked_until",
        "substitution_count",
    )
    list_filter = ("role", "is_active")
    search_fields = ("name", "oin")
    readonly_fields = ("api_key_prefix", "created_at")
    actions = ("issue_new_api_key",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Client]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                substitution_total=Count("substitutions", distinct=True),
                supplier_total=Count("suppliers", distinct=True),
            )
        )

    @admin.display(description=_("substitutions"))
    def substitution_count(self, client: Any) -> int:
        return int(client.substitution_total)

    @admin.display(description=_("leveranciers"))
    def supplier_count(self, client: Any) -> int:
        return int(client.supplier_total)

    def save_model(self, request: HttpRequest, obj: Client, form: Any, change: bool) -> None:
        actor = actor_for(request.user)
        suppliers: list[str] = form.cleaned_data.get("suppliers", [])
        if change:
            role = obj.role
            obj.role = Client.objects.values_list("role", flat=True).get(pk=obj.pk)
            super().save_model(request, obj, form, change)
            services.set_role(obj, role, actor=actor)
            if obj.role == ClientRole.HUB:
                services.set_suppliers(obj, suppliers, actor=actor)
            return
        client, key = services.register_client(
            oin=obj.oin,
            name=obj.name,
            role=obj.role,
            daily_batch_quota=obj.daily_batch_quota,
            suppliers=suppliers,
            actor=actor,
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
