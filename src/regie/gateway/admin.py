"""Admin for suppliers' OAuth clients.

A new client is registered through :func:`regie.gateway.services.register_client` (which checks
and audits it); a generated secret is shown once, in a message, and only its hash is kept. An
existing client can be renamed or switched off here (audited); its URIs, keys, scopes and way of
authenticating are shown read-only: a supplier whose set-up changes gets a new client.

Secret hashes are never shown, and the codes, tokens and pseudonyms the hub issued are not in the
admin at all.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import User as AuthUser
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from regie.agreements.services import Refused
from regie.audit.admin import AuditedAdmin

from .models import OAuthClient
from .scopes import SCOPES
from .services import register_client


class LinesField(forms.CharField):
    """One URI per line, as a list."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 80})

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class _DryRun(Exception):
    """Rolls a trial registration back: the form checks with the service's own rules."""


class ClientAddForm(forms.ModelForm[OAuthClient]):
    initiate_login_uri = forms.URLField(
        label=_("URI om inloggen te starten"),
        required=False,
        assume_scheme="https",
        help_text=_("Waar een tegel in 'Mijn leermiddelen' heen gaat (OIDC Core §4)."),
    )
    redirect_uris = LinesField(label=_("redirect-URI's (één per regel)"))
    post_logout_redirect_uris = LinesField(
        label=_("redirect-URI's na uitloggen (één per regel)"), required=False
    )
    backchannel_logout_uri = forms.URLField(
        label=_("URI voor uitloggen via het achterkanaal"),
        required=False,
        assume_scheme="https",
        help_text=_(
            "Waar regie een logout-token heen stuurt als een leerling uitlogt of geen toegang "
            "meer heeft (OIDC Back-Channel Logout 1.0)."
        ),
    )
    scopes = forms.MultipleChoiceField(
        label=_("toegestane scopes"),
        choices=[(name, name) for name in SCOPES],
        initial=["openid"],
        widget=forms.CheckboxSelectMultiple,
    )
    jwks = forms.JSONField(
        label=_("JWKS (publieke sleutels)"),
        required=False,
        help_text=_("Alleen bij private_key_jwt: de publieke sleutels van de leverancier."),
    )

    user: AuthUser | None = None

    class Meta:
        model = OAuthClient
        fields = (
            "supplier",
            "product",
            "name",
            "auth_method",
            "jwks",
            "initiate_login_uri",
            "redirect_uris",
            "post_logout_redirect_uris",
            "backchannel_logout_uri",
            "backchannel_logout_session_required",
            "scopes",
            "signing_alg",
        )

    def registration(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "product": data.get("product"),
            "auth_method": data["auth_method"],
            "jwks": data.get("jwks") or None,
            "initiate_login_uri": data.get("initiate_login_uri") or "",
            "redirect_uris": data["redirect_uris"],
            "post_logout_redirect_uris": data.get("post_logout_redirect_uris") or [],
            "backchannel_logout_uri": data.get("backchannel_logout_uri") or "",
            "backchannel_logout_session_required": bool(
                data.get("backchannel_logout_session_required")
            ),
            "scopes": data["scopes"],
            "signing_alg": data["signing_alg"],
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            with transaction.atomic():
                register_client(data["supplier"], **self.registration(), user=self.user)
                raise _DryRun
        except _DryRun:
            pass
        except Refused as refusal:
            field = refusal.field if refusal.field in self.fields else None
            self.add_error(field, refusal.reason)
        return data

    def register(self) -> tuple[OAuthClient, str | None]:
        return register_client(self.cleaned_data["supplier"], **self.registration(), user=self.user)


READ_ONLY = (
    "client_id",
    "supplier",
    "product",
    "auth_method",
    "initiate_login_uri",
    "redirect_uris",
    "post_logout_redirect_uris",
    "backchannel_logout_uri",
    "backchannel_logout_session_required",
    "scopes",
    "signing_alg",
    "jwks",
    "created_at",
)


@admin.register(OAuthClient)
class OAuthClientAdmin(AuditedAdmin[OAuthClient]):
    list_display = ("name", "client_id", "supplier", "product", "auth_method", "is_active")
    list_filter = ("is_active", "auth_method", "supplier")
    list_select_related = ("supplier", "product")
    search_fields = ("name", "client_id", "supplier__name", "product__name")
    ordering = ("supplier__name", "product__name", "name")
    fields = ("name", "is_active", *READ_ONLY)
    readonly_fields = READ_ONLY

    def get_fields(self, request: HttpRequest, obj: OAuthClient | None = None) -> Any:
        if obj is None:
            return ClientAddForm.Meta.fields
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: OAuthClient | None = None) -> Any:
        return () if obj is None else READ_ONLY

    def get_form(
        self,
        request: HttpRequest,
        obj: OAuthClient | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> Any:
        if obj is not None:
            return super().get_form(request, obj, change, **kwargs)
        user = request.user if isinstance(request.user, AuthUser) else None
        return type("BoundClientAddForm", (ClientAddForm,), {"user": user})

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # switch a client off instead: its history stays attributable

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        if change:
            return super().save_form(request, form, change)
        client, secret = form.register()
        form.registered_secret = secret
        return client

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if change:  # a registered client has no relations or inlines left to save
            super().save_related(request, form, formsets, change)

    def save_model(self, request: HttpRequest, obj: OAuthClient, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)  # audited as an admin change
            return
        # Registered (and audited) by the service in save_form.
        secret = getattr(form, "registered_secret", None)
        if secret:
            messages.warning(
                request,
                gettext(
                    "Het geheim van client %(client_id)s is: %(secret)s — geef het veilig door "
                    "aan de leverancier. Het wordt maar één keer getoond en niet bewaard "
                    "(alleen een hash)."
                )
                % {"client_id": obj.client_id, "secret": secret},
            )
