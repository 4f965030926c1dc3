"""Admin for logins: pupils' logins (read-only), the schools' identity providers, and links from
an identity provider's identifier to a login.

Pupils themselves are not here (no names, no ECK iD): the roster's pages show them with
need-to-know. Pupil logins are made by the school's import and the demo, not by hand.

An identity provider's client secret is write-only: it is sealed when saved (:mod:`.sealing`)
and never shown again, not even sealed; leaving the field empty keeps the current one. Every
change here is audited (field names, never values).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from regie.audit.admin import AuditedAdmin

from .models import IdentityProvider, PupilAccount, UpstreamIdentity


@admin.register(PupilAccount)
class PupilAccountAdmin(AuditedAdmin[PupilAccount]):
    list_display = ("user", "school", "enrolled")
    list_filter = ("student__school",)
    search_fields = ("user__username",)
    fields = ("user", "school", "enrolled")
    readonly_fields = ("user", "school", "enrolled")

    def get_queryset(self, request: HttpRequest) -> QuerySet[PupilAccount]:
        return super().get_queryset(request).select_related("user", "student__school")

    @admin.display(description=_("school"), ordering="student__school__name")
    def school(self, account: PupilAccount) -> str:
        return str(account.student.school)

    @admin.display(description=_("ingeschreven"), boolean=True)
    def enrolled(self, account: PupilAccount) -> bool:
        return account.student.is_active

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class IdentityProviderForm(forms.ModelForm[IdentityProvider]):
    issuer = IdentityProvider._meta.get_field("issuer").formfield(assume_scheme="https")
    client_secret = forms.CharField(
        label=_("client secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_(
            "Wordt versleuteld bewaard en daarna nooit meer getoond. Laat leeg om het huidige "
            "geheim te houden."
        ),
    )

    class Meta:
        model = IdentityProvider
        fields = (
            "board",
            "name",
            "issuer",
            "client_id",
            "scopes",
            "subject_claim",
            "audience",
            "is_active",
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("client_secret") and not self.instance.has_client_secret:
            self.add_error("client_secret", _("Vul het client secret in."))
        return data

    def save(self, commit: bool = True) -> IdentityProvider:
        provider = super().save(commit=False)
        secret = self.cleaned_data.get("client_secret")
        if secret:
            provider.set_client_secret(secret)
        if commit:
            provider.save()
        return provider


@admin.register(IdentityProvider)
class IdentityProviderAdmin(AuditedAdmin[IdentityProvider]):
    form = IdentityProviderForm
    list_display = ("name", "board", "issuer", "audience", "is_active")
    list_filter = ("is_active", "audience", "board")
    list_select_related = ("board",)
    search_fields = ("name", "issuer", "board__name")
    fields = (
        "board",
        "name",
        "issuer",
        "client_id",
        "client_secret",
        "secret_status",
        "scopes",
        "subject_claim",
        "audience",
        "is_active",
        "redirect_path",
    )
    readonly_fields = ("secret_status", "redirect_path")

    @admin.display(description=_("client secret bewaard"))
    def secret_status(self, provider: IdentityProvider) -> str:
        return str(_("ja (versleuteld)")) if provider.has_client_secret else str(_("nee"))

    @admin.display(description=_("redirect-URI (pad)"))
    def redirect_path(self, provider: IdentityProvider) -> str:
        if provider.pk is None:
            return str(_("na opslaan"))
        path = reverse("accounts:upstream-callback", args=[provider.pk])
        return str(_("%(path)s achter het publieke adres van regie")) % {"path": path}


@admin.register(UpstreamIdentity)
class UpstreamIdentityAdmin(AuditedAdmin[UpstreamIdentity]):
    list_display = ("user", "provider", "created_at")
    list_filter = ("provider",)
    list_select_related = ("user", "provider__board")
    search_fields = ("user__username",)
    raw_id_fields = ("user",)
    fields = ("provider", "subject", "user", "created_at")
    readonly_fields = ("created_at",)
