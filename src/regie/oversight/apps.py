from __future__ import annotations

from django.apps import AppConfig


class OversightConfig(AppConfig):
    name = "regie.oversight"
    label = "oversight"
    verbose_name = "Toezicht en datalekken"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from regie.agreements import services as register

        from . import events  # noqa: F401  (declares the audit event types)
        from .dashboard import dashboard_lines

        # The 72-hour clock on the privacy officer's dashboard (agreements' "what needs doing").
        register.add_todo_source(dashboard_lines)
