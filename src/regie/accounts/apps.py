from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "regie.accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from . import events  # noqa: F401  (declares the audit event types)
