"""Admin for boards, schools and school years: what the installation's administrator sets up."""

from __future__ import annotations

from django.contrib import admin

from regie.audit.admin import AuditedAdmin

from .models import Board, School, SchoolYear


class SchoolInline(admin.StackedInline[School, Board]):
    model = School
    extra = 0
    fields = ("brin", "vestiging", "name", "sector")


@admin.register(Board)
class BoardAdmin(AuditedAdmin[Board]):
    list_display = ("name", "bestuursnummer", "kvk")
    search_fields = ("name", "bestuursnummer", "kvk")
    inlines = (SchoolInline,)


@admin.register(School)
class SchoolAdmin(AuditedAdmin[School]):
    list_display = ("name", "code", "sector", "board")
    list_filter = ("sector", "board")
    search_fields = ("name", "brin")


@admin.register(SchoolYear)
class SchoolYearAdmin(AuditedAdmin[SchoolYear]):
    list_display = ("title", "start", "end")
