from __future__ import annotations

from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "regie.orders"
    label = "orders"
    verbose_name = "Opdrachten aan leveranciers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from regie.agreements import services as register

        from . import events  # noqa: F401  (declares the audit event types)
        from .services import dashboard_lines

        # The dashboard belongs to agreements, above orders in the app order: it cannot import
        # this app, so this app adds its lines (outstanding, overdue, failed) to it.
        register.add_todo_source(dashboard_lines)
