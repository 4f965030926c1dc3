"""The witnesses, in the admin: the administrator adds the witnesses the log is sent to."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from regie.audit.admin import AuditedAdmin

from .models import Checkpoint, Witness


@admin.register(Witness)
class WitnessAdmin(AuditedAdmin[Witness]):
    list_display = ("name", "url", "active", "size", "cosigned_at", "refused", "failure")
    fields = ("url", "vkey", "active", "size", "cosigned_at", "failed_at", "failure", "refused")
    readonly_fields = ("size", "cosigned_at", "failed_at", "failure", "refused")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a witness that cosigned stays on record; make it inactive instead


@admin.register(Checkpoint)
class CheckpointAdmin(admin.ModelAdmin[Checkpoint]):
    list_display = ("size", "created_at")
    readonly_fields = ("size", "created_at", "note")
    exclude = ("root_hash",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
