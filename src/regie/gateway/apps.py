from django.apps import AppConfig


class GatewayConfig(AppConfig):
    name = "regie.gateway"
    verbose_name = "Koppelingen met leveranciers"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from . import events  # noqa: F401  (declares the audit event types)
        from .oidc import remember_login

        user_logged_in.connect(remember_login, dispatch_uid="regie.gateway.remember_login")
