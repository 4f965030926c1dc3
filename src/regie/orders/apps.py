from __future__ import annotations

from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "regie.orders"
    label = "orders"
    verbose_name = "Opdrachten aan leveranciers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import events  # noqa: F401  (declares the audit event types)
