from __future__ import annotations

from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "regie.portal"
    label = "portal"
    verbose_name = "Portaal voor ouders en leerlingen"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import events  # noqa: F401  (declares the audit event types)
