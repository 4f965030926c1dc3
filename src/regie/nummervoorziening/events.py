"""Audit event types of the number service. Details never hold an identifier or a key."""

from regie.audit.events import define

CLIENT_REGISTERED = define(
    "nummervoorziening.client.registered", "A number-service client (by OIN) was registered."
)
API_KEY_ISSUED = define(
    "nummervoorziening.client.api_key_issued",
    "A new API key was issued to a number-service client; the previous one stopped working.",
)
CLIENT_CHANGED = define(
    "nummervoorziening.client.changed",
    "An operator changed a number-service client's role, daily batch quota or block "
    "(old and new value).",
)
CLIENT_SUPPLIERS_CHANGED = define(
    "nummervoorziening.client.suppliers_changed",
    "The suppliers a hub client may obtain supplier pseudonyms for changed: declared by the hub "
    "itself (actor: the client's OIN) or set by an operator; the supplier ids added and removed.",
)
REQUEST_REFUSED = define(
    "nummervoorziening.request.refused",
    "A client's call was refused for lack of permission: its role does not allow the operation, "
    "or the supplier is not in its registration (operation, reason and supplier id; no values).",
)
SUBSTITUTION_RECORDED = define(
    "nummervoorziening.substitution.recorded",
    "A client replaced a pupil's new HPgn by the old one (replaceStampseudonym); no values logged.",
)
BATCH_SUBMITTED = define(
    "nummervoorziening.batch.submitted", "A client submitted a batch (kind and size only)."
)
BATCH_RETRIEVED = define(
    "nummervoorziening.batch.retrieved",
    "A client retrieved a batch's results; the results were deleted from the service.",
)
BATCH_REMOVED = define(
    "nummervoorziening.batch.removed",
    "A batch expired unretrieved and its items and results were deleted.",
)
QUOTA_EXCEEDED = define(
    "nummervoorziening.quota.exceeded", "A client's batch was refused: daily quota reached."
)
KEY_ROTATED = define(
    "nummervoorziening.key.rotated", "A new version of a pseudonym key was generated."
)
CONVERSION_PRODUCED = define(
    "nummervoorziening.conversion.produced",
    "A conversion table (old key version → current) was produced for a chain party.",
)
