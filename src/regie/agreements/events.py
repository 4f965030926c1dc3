"""Audit event types of the register. Subjects are record ids; details never hold names."""

from regie.audit.events import define

SUPPLIER_SAVED = define(
    "agreements.supplier.saved",
    "A supplier was added to the register or changed (changed field names, never values).",
)
PRODUCT_SAVED = define(
    "agreements.product.saved", "A product was added to the register or changed (field names)."
)
AGREEMENT_CREATED = define(
    "agreements.agreement.created",
    "A processing agreement (or a supplier's offer) was created, by hand or from a YAML/JSON file.",
)
AGREEMENT_CHANGED = define(
    "agreements.agreement.changed",
    "A draft or offered processing agreement, a deviation or its data schedule was changed.",
)
AGREEMENT_STATUS_CHANGED = define(
    "agreements.agreement.status_changed",
    "A processing agreement moved along its lifecycle (from and to status: draft, offered, "
    "signed, active, terminated, data destroyed).",
)
AGREEMENT_ADOPTED = define(
    "agreements.agreement.adopted",
    "A board adopted a supplier's published offer as its own agreement (offer and new agreement).",
)
LICENCE_GRANTED = define(
    "agreements.licence.granted",
    "A school licensed a product for a group or named pupils for a school year (counts only).",
)
LICENCE_REVOKED = define("agreements.licence.revoked", "A licence was withdrawn by the school.")
LICENCE_RESTORED = define(
    "agreements.licence.restored",
    "A licence revoked that day was restored with the same scope (undo; the revoked licence's "
    "id and counts only).",
)
SWITCH_CHANGED = define(
    "agreements.switch.changed",
    "A school switched an attribute of a product's data schedule on or off.",
)
CONSENT_RECORDED = define(
    "agreements.consent.recorded",
    "Consent for one attribute of one product was given or withdrawn for a pupil (by a guardian "
    "or the pupil aged 16 or over); takes effect at the next release.",
)
DPIA_SCREENED = define(
    "agreements.dpia.screened",
    "A board screened a product against the nine EDPB criteria (which criteria, and whether a "
    "DPIA is required).",
)
DPIA_RECORDED = define(
    "agreements.dpia.recorded",
    "A board recorded (or replaced) the DPIA of a product: its outcome and date (acceptable, "
    "acceptable with measures, not acceptable).",
)
DPIA_WAIVED = define(
    "agreements.dpia.waived",
    "A board recorded an explicit exception: a product that needs a DPIA may become active "
    "without one (the reason is on the record, not in the event).",
)
COUNCIL_DECISION_RECORDED = define(
    "agreements.council.decision_recorded",
    "The participation council's decision on the privacy regulation was recorded (document "
    "version, date, decision).",
)
SUPPLIERS_DECLARED = define(
    "agreements.suppliers.declared",
    "The hub declared to the number service the suppliers its boards have a signed or active "
    "agreement with, and the list changed (KvK numbers added and removed; why: transition, "
    "retry, sync or refused).",
)
