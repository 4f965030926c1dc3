"""The sector dashboard in the admin: hubs (registered by their vkey; the origin is the key's
name), supervisors; received reports and refusals read-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from regie.audit import signed_note

from .models import Hub, Refusal, Report, Supervisor


class HubForm(forms.ModelForm[Hub]):
    class Meta:
        model = Hub
        fields = ("name", "vkey", "active")

    def clean_vkey(self) -> str:
        try:
            verifier = signed_note.verifier_from_vkey(self.cleaned_data["vkey"])
        except signed_note.NoteError as error:
            raise forms.ValidationError(str(error)) from None
        if verifier.key_type != signed_note.ED25519:
            raise forms.ValidationError(_("Een hub ondertekent met een Ed25519-notitiesleutel."))
        others = Hub.objects.filter(origin=verifier.name).exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError(_("Er is al een hub met deze sleutelnaam."))
        self.instance.origin = verifier.name
        return verifier.vkey


@admin.register(Hub)
class HubAdmin(admin.ModelAdmin[Hub]):
    form = HubForm
    list_display = ("name", "origin", "registered_at", "active")
    list_filter = ("active",)
    readonly_fields = ("origin", "registered_at")


class ReadOnly(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Report)
class ReportAdmin(ReadOnly):
    list_display = ("hub", "sequence", "period_start", "period_end", "received_at")
    list_filter = ("hub",)


@admin.register(Refusal)
class RefusalAdmin(ReadOnly):
    list_display = ("received_at", "hub", "status", "code")
    list_filter = ("status",)


@admin.register(Supervisor)
class SupervisorAdmin(admin.ModelAdmin[Supervisor]):
    list_display = ("user", "organisation")
    list_filter = ("organisation",)
    raw_id_fields = ("user",)
