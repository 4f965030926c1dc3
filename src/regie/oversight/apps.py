from __future__ import annotations

from django.apps import AppConfig


class OversightConfig(AppConfig):
    name = "regie.oversight"
    label = "oversight"
    verbose_name = "Toezicht en datalekken"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import events  # noqa: F401  (declares the audit event types)
