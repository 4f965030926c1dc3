from __future__ import annotations

from django.apps import AppConfig


class SectorConfig(AppConfig):
    name = "regie.sector"
    label = "sector"
    verbose_name = "Sectordashboard"
    default_auto_field = "django.db.models.BigAutoField"
