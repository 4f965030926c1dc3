from django.apps import AppConfig


class GatewayConfig(AppConfig):
    name = "regie.gateway"
    verbose_name = "Koppelingen met leveranciers"

    def ready(self) -> None:
        from . import events  # noqa: F401  (declares the audit event types)
