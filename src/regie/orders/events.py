"""Audit event types of the orders to suppliers.

Details name the order (its id), the supplier, the type, states, attempt numbers and refusal
reasons; never a pseudonym, a name or what a supplier holds.
"""

from regie.audit.events import define

ORDER_CREATED = define(
    "orders.order.created",
    "An order to a supplier was made (order id, type, supplier, number of pupils, deadline).",
)
ORDER_STATE_CHANGED = define(
    "orders.order.state_changed",
    "An order changed state (order id, from, to, why: a delivery, a receipt, the deadline, a "
    "retry or a cancellation).",
)
ORDER_ATTEMPT_FAILED = define(
    "orders.attempt.failed",
    "An attempt to deliver an order failed (order id, attempt number, HTTP status or error "
    "class, when the next attempt runs).",
)
RECEIPT_RECORDED = define(
    "orders.receipt.recorded",
    "A supplier's signed receipt for an order was verified and kept (order id, status, client, "
    "number of pupils).",
)
RECEIPT_REFUSED = define(
    "orders.receipt.refused",
    "A receipt was refused: forged, replayed, for another order or pupil, too old, or a status "
    "that does not follow (the reason, the order id when known); nothing changed.",
)
