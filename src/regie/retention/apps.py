from __future__ import annotations

from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "regie.retention"
    label = "retention"
    verbose_name = "Bewaartermijnen"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from regie.gateway.signals import pseudonym_seen
        from regie.orders.models import Receipt
        from regie.orders.signals import order_changed

        from . import canaries, events  # noqa: F401  (events declares the audit event types)

        pseudonym_seen.connect(canaries.pseudonym_seen, dispatch_uid="retention.canaries")
        order_changed.connect(canaries.order_changed, dispatch_uid="retention.canaries.order")
        post_save.connect(
            canaries.receipt_saved, sender=Receipt, dispatch_uid="retention.canaries.receipt"
        )
