from django.apps import AppConfig


class NummervoorzieningConfig(AppConfig):
    name = "regie.nummervoorziening"
    verbose_name = "Nummervoorziening"

    def ready(self) -> None:
        from . import events, services  # noqa: F401  (declares event types, connects signals)
