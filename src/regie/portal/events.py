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

# --- rights requests (H3) ------------------------------------------------------------------------
REQUEST_FILED = define(
    "portal.request.filed",
    "A guardian or pupil filed a rights request (request id, kind, number of orders sent, "
    "deadline).",
)
REQUEST_EXTENDED = define(
    "portal.request.extended",
    "The privacy officer extended a request's deadline (request id, months, new deadline).",
)
REQUEST_SUPPLIER_REFUSED = define(
    "portal.request.supplier_refused",
    "The privacy officer recorded a reasoned refusal for one supplier's part of a request "
    "(request id, supplier id).",
)
REQUEST_CLOSED = define(
    "portal.request.closed",
    "A rights request closed: completed (every supplier's part settled, or a rectification done) "
    "or refused by the privacy officer (request id, state).",
)
REQUEST_OVERDUE = define(
    "portal.request.overdue",
    "A rights request passed its deadline while open; the requester was told (request id, the "
    "deadline).",
)
