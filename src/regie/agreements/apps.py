from django.apps import AppConfig


class AgreementsConfig(AppConfig):
    name = "regie.agreements"
    verbose_name = "Verwerkersovereenkomsten en licenties"

    def ready(self) -> None:
        from . import events  # noqa: F401  (declares the audit event types)
