"""Admin for staff memberships and roles (who may see what). Pupils and guardians are not here:
they are seen through the roster's pages, which apply need-to-know."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from regie.audit.admin import AuditedAdmin

from .models import ImportRun, Staff, StaffRole


class StaffForm(forms.ModelForm[Staff]):
    roles = forms.MultipleChoiceField(
        label=_("rollen"),
        choices=StaffRole.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Staff
        fields = (
            "board",
            "school",
            "voornamen",
            "voorvoegsel",
            "achternaam",
            "email",
            "roles",
            "user",
            "is_active",
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        school, board = cleaned.get("school"), cleaned.get("board")
        if school is not None and board is not None and school.board_id != board.pk:
            raise forms.ValidationError(_("De school hoort niet bij dit bestuur."))
        return cleaned


@admin.register(Staff)
class StaffAdmin(AuditedAdmin[Staff]):
    form = StaffForm
    list_display = ("__str__", "school", "board", "role_list", "user", "is_active")
    list_filter = ("board", "is_active")
    search_fields = ("achternaam", "voornamen", "email", "user__username")
    raw_id_fields = ("user",)  # a labelled input; the autocomplete widget has no name (axe)

    @admin.display(description=_("rollen"))
    def role_list(self, staff: Staff) -> str:
        labels = dict(StaffRole.choices)
        return ", ".join(str(labels.get(role, role)) for role in staff.roles)


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin[ImportRun]):
    list_display = ("file_name", "board", "status", "created_at", "finished_at")
    list_filter = ("status", "board")
    readonly_fields = [field.name for field in ImportRun._meta.fields]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False
