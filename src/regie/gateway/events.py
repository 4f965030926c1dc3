"""Audit event types of the gateway: what went to which supplier, and what was refused.

Details name channels, suppliers, products and attribute *names*, never values or pseudonyms.
"""

from regie.audit.events import define

RELEASE = define(
    "gateway.release",
    "Pupil or teacher data went to a supplier (channel, client, product, the person's internal id "
    "or counts with the pupils' internal ids, attribute names).",
)
LAUNCH_REFUSED = define(
    "gateway.launch.refused",
    "A launch into a product was refused by the release policy (client, product, pupil id and "
    "the failed condition per attribute); the supplier got access_denied.",
)
REQUEST_REFUSED = define(
    "gateway.request.refused",
    "A supplier's request was refused with a standard OAuth/OIDC error (endpoint, error code).",
)
CLIENT_SAVED = define(
    "gateway.client.saved",
    "A supplier's OAuth client was registered or changed (field names, never secrets).",
)
CODE_REPLAYED = define(
    "gateway.code.replayed",
    "An authorization code was used a second time: refused, and the tokens issued for it revoked.",
)
RESULT_RECEIVED = define(
    "gateway.result.received",
    "A supplier put a OneRoster gradebook result for a pupil (supplier, product, line item id; "
    "the pupil's internal id as subject, never the pseudonym or the score).",
)
RESULT_DELETED = define(
    "gateway.result.deleted",
    "A supplier deleted one of its OneRoster gradebook results, itself or with its line item "
    "(supplier, product, line item id; the pupil's internal id as subject).",
)
LOGOUT_SENT = define(
    "gateway.logout.sent",
    "A back-channel logout token reached a supplier's client (client, session record id, "
    "attempts; never the sub or sid).",
)
LOGOUT_GIVEN_UP = define(
    "gateway.logout.given_up",
    "A back-channel logout token could not be delivered after every retry and was given up "
    "(client, session record id, attempts, the last failure: an HTTP status or error type).",
)
