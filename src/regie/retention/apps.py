from __future__ import annotations

from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "regie.retention"
    label = "retention"
    verbose_name = "Bewaartermijnen"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from regie.agreements import services as register
        from regie.agreements.signals import agreement_status_changed
        from regie.gateway.signals import pseudonym_seen
        from regie.orders.models import Receipt
        from regie.orders.signals import order_changed

        from . import (
            canaries,
            contracts,
            events,  # noqa: F401  (declares the audit event types)
            legacy,
        )
        from .dashboard import dashboard_lines

        # End of contract: a termination orders the destruction; the order's completed receipt
        # is the proof that takes the agreement to "data destroyed".
        agreement_status_changed.connect(
            contracts.on_agreement_status_changed, dispatch_uid="retention.contracts.terminated"
        )
        order_changed.connect(
            contracts.on_order_changed, dispatch_uid="retention.contracts.order_changed"
        )
        contracts.register_proofs()
        # Legacy named data: the legacy-conversion order's receipt is the destruction statement.
        order_changed.connect(legacy.on_order_changed, dispatch_uid="retention.legacy")
        # The dashboard is agreements', below retention: retention adds its lines to it (pupils
        # due in the next 30 days, the legal holds in force).
        register.add_todo_source(dashboard_lines)
        # Canaries: a deleted canary seen again (results, OneRoster, an access answer) is caught.
        pseudonym_seen.connect(canaries.pseudonym_seen, dispatch_uid="retention.canaries")
        order_changed.connect(canaries.order_changed, dispatch_uid="retention.canaries.order")
        post_save.connect(
            canaries.receipt_saved, sender=Receipt, dispatch_uid="retention.canaries.receipt"
        )
