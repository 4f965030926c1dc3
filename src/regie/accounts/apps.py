import logging

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "regie.accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from . import (
            events,  # noqa: F401  (declares the audit event types)
            receivers,
        )

        user_logged_in.connect(receivers.logged_in, dispatch_uid="regie.accounts.logged_in")
        user_logged_out.connect(receivers.logged_out, dispatch_uid="regie.accounts.logged_out")

        # django-axes reports every login, failure and lockout; regie logs failures and lockouts
        # itself (regie.accounts.throttling), so only axes' errors are of interest.
        logging.getLogger("axes").setLevel(logging.ERROR)
