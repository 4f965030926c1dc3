from __future__ import annotations

from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "regie.retention"
    label = "retention"
    verbose_name = "Bewaartermijnen"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from regie.agreements import services as register

        from . import events  # noqa: F401  (declares the audit event types)
        from .dashboard import dashboard_lines

        # The dashboard is agreements', below retention: retention adds its lines to it (pupils
        # due in the next 30 days, the legal holds in force).
        register.add_todo_source(dashboard_lines)
