from __future__ import annotations

from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "regie.portal"
    label = "portal"
    verbose_name = "Portaal voor ouders en leerlingen"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from regie.agreements import services as register
        from regie.orders.signals import order_changed

        from . import events  # noqa: F401  (declares the audit event types)
        from .receivers import order_changed as follow_order
        from .requests import dashboard_lines

        # Rights requests: a request follows its orders, and the dashboard counts the queue.
        order_changed.connect(follow_order, dispatch_uid="portal.follow_order")
        register.add_todo_source(dashboard_lines)
