"""Admin for pupils' logins: which login belongs to which school, read-only.

Pupils themselves are not here (no names, no ECK iD): the roster's pages show them with
need-to-know. Logins are made by the school's import and the demo, not by hand.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from regie.audit.admin import AuditedAdmin

from .models import PupilAccount


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
