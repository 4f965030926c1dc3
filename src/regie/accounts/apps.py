import logging

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "regie.accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from . import events  # noqa: F401  (declares the audit event types)

        # django-axes reports every login, failure and lockout; regie logs failures and lockouts
        # itself (regie.accounts.throttling), so only axes' errors are of interest.
        logging.getLogger("axes").setLevel(logging.ERROR)
