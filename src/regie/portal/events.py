"""Audit event types of the parents' and pupils' portal.

Details name ids (a request, an invitation, a notification, a supplier, a product), kinds, states,
dates and reason codes; never an e-mail address, a name, a token or a request's free text.
"""

from regie.audit.events import define

# Helpers add their event types here, one ``define`` each.
NOTIFICATION_QUEUED = define(
    "portal.notification.queued",
    "An e-mail to a guardian or pupil was queued (notification id, kind, request id; never the "
    "address or the text).",
)
