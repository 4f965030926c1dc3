from typing import Any, TypeVar

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from .events import ADMIN_DELETED, ADMIN_SAVED
from .models import AuditEvent
from .services import actor_for, record


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    list_display = ("occurred_at", "event_type", "actor", "subject")
    list_filter = ("event_type",)
    search_fields = ("event_type", "actor", "subject")
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _subject(obj: Any) -> str:
    return f"{obj._meta.label_lower}:{obj.pk}"


M = TypeVar("M", bound=Model)


class AuditedAdmin(admin.ModelAdmin[M]):
    """A ModelAdmin whose every save and delete is an audit event (DESIGN §1.7: admin changes
    are provable). Details name the fields that changed, never what they hold."""

    def save_model(self, request: HttpRequest, obj: M, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        fields = sorted(form.changed_data) if form is not None else []
        record(
            ADMIN_SAVED,
            actor_for(request.user),
            _subject(obj),
            {"created": not change, "fields": fields},
        )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        deleted = [_subject(item.instance) for item in formset.deleted_forms if item.instance.pk]
        super().save_formset(request, form, formset, change)
        actor = actor_for(request.user)
        for obj in formset.new_objects:
            record(ADMIN_SAVED, actor, _subject(obj), {"created": True, "fields": []})
        for obj, fields in formset.changed_objects:
            record(ADMIN_SAVED, actor, _subject(obj), {"created": False, "fields": sorted(fields)})
        for subject in deleted:
            record(ADMIN_DELETED, actor, subject)

    def delete_model(self, request: HttpRequest, obj: M) -> None:
        subject = _subject(obj)
        super().delete_model(request, obj)
        record(ADMIN_DELETED, actor_for(request.user), subject)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        subjects = [_subject(obj) for obj in queryset]
        super().delete_queryset(request, queryset)
        for subject in subjects:
            record(ADMIN_DELETED, actor_for(request.user), subject)
