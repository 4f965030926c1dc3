"""Audit event types of retention.

Details name counts, order ids, suppliers, rules and reasons; never a pupil's name or a
pseudonym. A pupil is named only as the event's subject (``student:<pk>``), as elsewhere.
"""

from regie.audit.events import define

RULE_CHANGED = define(
    "retention.rule.changed",
    "A board changed one of the hub's own retention rules (kind, period, unit, before and after).",
)
HOLD_PLACED = define(
    "retention.hold.placed",
    "A privacy officer put a pupil's data on hold (legal hold): nothing of it is deleted until "
    "the hold is lifted (the reason).",
)
HOLD_LIFTED = define(
    "retention.hold.lifted",
    "A legal hold was lifted (the reason); the pupil's data follows the retention rules again.",
)
PUPIL_DELETED = define(
    "retention.pupil.deleted",
    "The retention run deleted a pupil at the hub: the record, links, pseudonyms, results, "
    "consents and logins (the rule, the run id, the rows per kind).",
)
RUN_REPORT = define(
    "retention.run.report",
    "A retention run's signed report: counts per kind, the order ids sent, the check that the "
    "data is gone (the run id, the report's SHA-256 and its signature).",
)

# End of contract (retention.contracts): the subject is the agreement (``agreement:<pk>``).
CONTRACT_ORDERED = define(
    "retention.contract.ordered",
    "An agreement was terminated and its supplier ordered to destroy the data of the board's "
    "pupils, with its subprocessors (the order id, the count of pupils, the deadline).",
)
CONTRACT_NOT_SENT = define(
    "retention.contract.not_sent",
    "An agreement was terminated but the destruction order could not be sent (the reason: the "
    "supplier has no order address); the agreement stays terminated.",
)
CONTRACT_NOTHING_RELEASED = define(
    "retention.contract.nothing_released",
    "An agreement was terminated and its supplier was never given data of the board's pupils: "
    "nothing to order destroyed.",
)
CONTRACT_REFUSED = define(
    "retention.contract.refused",
    "The supplier refused the end-of-contract destruction order (the order id; its reason is "
    "the refused receipt's statement); the agreement stays terminated.",
)
CONTRACT_STATEMENT = define(
    "retention.contract.statement",
    "A privacy officer recorded a statement of destruction received otherwise than by a "
    "receipt (the text), for an agreement whose order could not be sent or was refused.",
)
CANARY_PLANTED = define(
    "retention.canary.planted",
    "The board planted canaries: fictional pupils released to suppliers like real ones, to "
    "prove later that a deletion happened (the count, the school, the group, the suppliers).",
)
CANARY_DELETION_ORDERED = define(
    "retention.canary.deletion_ordered",
    "The hub ordered the suppliers holding a canary to delete it (the canary, the order ids).",
)
CANARY_DELETION_CONFIRMED = define(
    "retention.canary.deletion_confirmed",
    "A supplier's completed receipt confirmed a canary's deletion (the canary, the order id).",
)
CANARY_SIGHTED = define(
    "retention.canary.sighted",
    "A supplier named a canary whose deletion was ordered (the canary, the channel: OneRoster, "
    "results or an access answer); after it confirmed the deletion this is a breach of the "
    "agreement (breach: true). Never the pseudonym.",
)
