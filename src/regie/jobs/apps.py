from __future__ import annotations

from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "regie.jobs"
    label = "jobs"
    verbose_name = "Achtergrondtaken"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Every app declares its jobs in its own ``jobs`` module, as it declares admin pages in
        # ``admin``: importing them here registers them, so that a worker knows every job by name.
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("jobs")
