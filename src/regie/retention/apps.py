from __future__ import annotations

from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "regie.retention"
    label = "retention"
    verbose_name = "Bewaartermijnen"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from regie.orders.signals import order_changed

        from . import (
            events,  # noqa: F401  (declares the audit event types)
            legacy,
        )

        order_changed.connect(legacy.on_order_changed, dispatch_uid="retention.legacy")
