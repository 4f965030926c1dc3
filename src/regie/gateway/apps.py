from django.apps import AppConfig


class GatewayConfig(AppConfig):
    name = "regie.gateway"
    verbose_name = "Koppelingen met leveranciers"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_in, user_logged_out
        from django.db.models.signals import post_delete, post_save, pre_delete

        from regie.accounts.models import PupilAccount
        from regie.roster import signals as roster_signals
        from regie.roster.models import Student

        from . import events, receivers  # noqa: F401  (events declares the audit event types)
        from .backchannel import new_hub_session
        from .oidc import remember_login

        user_logged_in.connect(remember_login, dispatch_uid="regie.gateway.remember_login")
        # OIDC Back-Channel Logout: what starts and what ends a supplier's session.
        user_logged_in.connect(new_hub_session, dispatch_uid="regie.gateway.hub_session")
        user_logged_out.connect(receivers.logged_out, dispatch_uid="regie.gateway.logged_out")
        user = get_user_model()
        post_save.connect(receivers.user_saved, sender=user, dispatch_uid="regie.gateway.user")
        pre_delete.connect(receivers.user_deleted, sender=user, dispatch_uid="regie.gateway.user")
        post_delete.connect(
            receivers.account_deleted, sender=PupilAccount, dispatch_uid="regie.gateway.account"
        )
        post_save.connect(
            receivers.student_saved, sender=Student, dispatch_uid="regie.gateway.student"
        )
        roster_signals.students_left.connect(
            receivers.students_left, dispatch_uid="regie.gateway.students_left"
        )
