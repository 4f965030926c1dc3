"""Admin for the register. Suppliers and products can be edited here (audited); agreements,
licences, switches and consent are shown read-only: they change only through the register's pages
and services, which enforce the lifecycle and the rules and audit every step."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from regie.audit.admin import AuditedAdmin

from .models import (
    Consent,
    CouncilDecision,
    DataSchedule,
    Deviation,
    DpiaScreening,
    Licence,
    Processing,
    ProcessingAgreement,
    Product,
    SchoolSwitch,
    Subprocessor,
    Supplier,
)

HTTPS_URLS: Mapping[type[models.Field[Any, Any]], Mapping[str, Any]] = {
    models.URLField: {"assume_scheme": "https"}
}


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ProductInline(admin.StackedInline[Product, Supplier]):
    model = Product
    extra = 0
    fields = ("name", "url", "sector", "users")
    formfield_overrides = HTTPS_URLS


@admin.register(Supplier)
class SupplierAdmin(AuditedAdmin[Supplier]):
    list_display = ("name", "kvk", "convenant_status", "created_at")
    list_filter = ("convenant_status",)
    search_fields = ("name", "kvk")
    inlines = (ProductInline,)
    formfield_overrides = HTTPS_URLS


@admin.register(Product)
class ProductAdmin(AuditedAdmin[Product]):
    list_display = ("name", "supplier", "sector", "users")
    list_filter = ("sector", "users")
    search_fields = ("name", "supplier__name")
    formfield_overrides = HTTPS_URLS


class DeviationInline(ReadOnlyMixin, admin.StackedInline[Deviation, ProcessingAgreement]):
    model = Deviation
    extra = 0


class ScheduleInline(ReadOnlyMixin, admin.StackedInline[DataSchedule, ProcessingAgreement]):
    model = DataSchedule
    extra = 0
    show_change_link = True


@admin.register(ProcessingAgreement)
class ProcessingAgreementAdmin(ReadOnlyMixin, admin.ModelAdmin[ProcessingAgreement]):
    list_display = ("title", "supplier", "board", "version", "status", "start_date", "end_date")
    list_filter = ("status", "model", "board")
    search_fields = ("title", "supplier__name")
    inlines = (DeviationInline, ScheduleInline)


class ProcessingInline(ReadOnlyMixin, admin.StackedInline[Processing, DataSchedule]):
    model = Processing
    extra = 0


class SubprocessorInline(ReadOnlyMixin, admin.StackedInline[Subprocessor, DataSchedule]):
    model = Subprocessor
    extra = 0


@admin.register(DataSchedule)
class DataScheduleAdmin(ReadOnlyMixin, admin.ModelAdmin[DataSchedule]):
    list_display = ("product", "agreement", "breach_notification_hours", "destruction_days")
    inlines = (ProcessingInline, SubprocessorInline)


@admin.register(Licence)
class LicenceAdmin(ReadOnlyMixin, admin.ModelAdmin[Licence]):
    list_display = ("product", "school", "school_year", "group", "created_at")
    list_filter = ("school_year", "school")


@admin.register(SchoolSwitch)
class SchoolSwitchAdmin(ReadOnlyMixin, admin.ModelAdmin[SchoolSwitch]):
    list_display = ("school", "product", "attribute", "switched_at")
    list_filter = ("school", "attribute")


@admin.register(Consent)
class ConsentAdmin(ReadOnlyMixin, admin.ModelAdmin[Consent]):
    list_display = ("product", "attribute", "given", "given_by", "decided_at")
    list_filter = ("given", "given_by", "attribute")


@admin.register(DpiaScreening)
class DpiaScreeningAdmin(ReadOnlyMixin, admin.ModelAdmin[DpiaScreening]):
    list_display = ("product", "board", "screened_on", "dpia_required")

    @admin.display(boolean=True, description="DPIA")
    def dpia_required(self, screening: DpiaScreening) -> bool:
        return screening.dpia_required


@admin.register(CouncilDecision)
class CouncilDecisionAdmin(ReadOnlyMixin, admin.ModelAdmin[CouncilDecision]):
    list_display = ("board", "document_title", "document_version", "decided_on", "decision")
