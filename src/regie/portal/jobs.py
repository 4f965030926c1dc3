"""The portal's background jobs: sending a notification (retried while the mail server is down)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from regie.jobs.registry import job

from .models import Notification


@job("portal.send_notification", retries=10, backoff=2)
def send_notification(notification: int) -> None:
    """Send one stored message, once: a message already sent is not sent again."""
    with transaction.atomic():
        message = Notification.objects.select_for_update().filter(pk=notification).first()
        if message is None or message.sent_at is not None:
            return
        EmailMessage(
            message.subject, message.body, settings.DEFAULT_FROM_EMAIL, [message.to]
        ).send()
        message.sent_at = timezone.now()
        message.save(update_fields=["sent_at"])


# --- rights requests (H3) ------------------------------------------------------------------------


@job("portal.flag_overdue_requests")
def flag_overdue_requests(timestamp: int) -> None:
    """Open rights requests past their deadline are flagged, and the requester told, once."""
    import datetime as dt

    from .requests import flag_overdue

    flag_overdue(timezone.localdate(dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)))
