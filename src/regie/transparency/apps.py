from __future__ import annotations

from django.apps import AppConfig


class TransparencyConfig(AppConfig):
    name = "regie.transparency"
    label = "transparency"
    verbose_name = "Controleerbaar logboek"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from regie.agreements import services as register

        from . import events  # noqa: F401  (declares the audit event types)
        from .services import dashboard_lines

        # The dashboard belongs to agreements, above this app in the app order.
        register.add_todo_source(dashboard_lines)
