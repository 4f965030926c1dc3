"""Admin for logins: pupils' logins (read-only), the schools' identity providers, links from an
identity provider's identifier to a login, failed logins and lockouts (lifting one), and the
logins themselves with their second factor (resetting it).

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
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from regie.audit.admin import AuditedAdmin
from regie.audit.services import actor_for

from . import second_factor, throttling
from .models import IdentityProvider, LoginLockout, PupilAccount, UpstreamIdentity


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


# --- Failed logins and lockouts (regie.accounts.throttling) ---------------------------------------


@admin.register(LoginLockout)
class LoginLockoutAdmin(admin.ModelAdmin[LoginLockout]):
    """What counts towards lockouts now. Deleting records lifts their lockouts (audited as
    ``accounts.login.unlocked``); records also disappear by themselves when they expire."""

    list_display = ("username", "ip_address", "failures_since_start", "attempt_time")
    search_fields = ("username", "ip_address")
    ordering = ("-attempt_time",)
    fields = (
        "username",
        "ip_address",
        "failures_since_start",
        "attempt_time",
        "user_agent",
        "path_info",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: LoginLockout) -> None:
        throttling.unlock_records([obj], actor=actor_for(request.user))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[LoginLockout]) -> None:
        throttling.unlock_records(list(queryset), actor=actor_for(request.user))


# --- Logins and their second factor (regie.accounts.second_factor) --------------------------------

# Devices are managed through the login (reset, audited), never edited one by one: an
# administrator who could add an app to someone else's login could pass their second step.
for _device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device_model):
        admin.site.unregister(_device_model)

User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)
if admin.site.is_registered(Group):
    admin.site.unregister(Group)


@admin.register(Group)
class LoginGroupAdmin(GroupAdmin):
    filter_horizontal = ()  # plain labelled select, as on LoginAdmin


@admin.register(User)
class LoginAdmin(UserAdmin):  # type: ignore[type-arg]
    list_display = (
        "username",
        "email",
        "first_name",
        "last_name",
        "is_staff",
        "has_second_factor",
    )
    actions = ("reset_second_factor",)
    # Plain labelled multiple selects: the admin's two-box filter widget breaks axe's
    # aria-prohibited-attr (a labelled <span> in its search label).
    filter_horizontal = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        apps = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        logins: QuerySet[Any] = super().get_queryset(request)
        annotated: QuerySet[Any] = logins.annotate(second_factor_set_up=Exists(apps))
        return annotated

    @admin.display(description=_("tweede stap ingesteld"), boolean=True)
    def has_second_factor(self, user: Any) -> bool:
        return bool(user.second_factor_set_up)

    @admin.action(description=_("Tweede stap opnieuw laten instellen (app en herstelcodes weg)"))
    def reset_second_factor(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for user in queryset:
            second_factor.reset(user, actor=actor_for(request.user), via="admin")
        self.message_user(
            request,
            ngettext(
                "%(count)d login stelt bij het volgende inloggen de tweede stap opnieuw in.",
                "%(count)d logins stellen bij het volgende inloggen de tweede stap opnieuw in.",
                len(queryset),
            )
            % {"count": len(queryset)},
        )
