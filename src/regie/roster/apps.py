from django.apps import AppConfig


class RosterConfig(AppConfig):
    name = "regie.roster"
    verbose_name = "Leerlingen en groepen"

    def ready(self) -> None:
        from . import events  # noqa: F401  (declares the audit event types)
