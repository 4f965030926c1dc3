"""E-mail to guardians and pupils (Django's mail framework): invitations, and a rights request
received, extended, completed or running late.

:func:`notify` stores the message (:class:`.models.Notification`) and defers the job
``portal.send_notification`` in the caller's transaction, so a message goes only when what it
tells of happened, and a mail server that is down loses nothing (the job retries). The job's
payload is the row's id, never an address. Texts are rendered from templates
(``portal/mail/<kind>.txt``, first line the subject) in the language active when it is made.
"""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string

from regie.audit.services import SYSTEM, record

from . import events
from .models import Notification, RightsRequest


def notify(
    kind: str, to: str, context: dict[str, Any], *, request: RightsRequest | None = None
) -> Notification:
    """Queue the e-mail ``kind`` to the address ``to``; returns the stored message."""
    from .jobs import send_notification

    text = render_to_string(f"portal/mail/{kind}.txt", context).strip()
    subject, _, body = text.partition("\n")
    notification = Notification.objects.create(
        kind=kind, to=to, subject=subject.strip()[:200], body=body.strip() + "\n", request=request
    )
    record(
        events.NOTIFICATION_QUEUED,
        SYSTEM,
        f"notification:{notification.pk}",
        {"kind": kind, "request": str(request.pk) if request else None},
    )
    send_notification.defer(notification=notification.pk)
    return notification
