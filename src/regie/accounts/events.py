"""Audit event types of logins through a school's identity provider.

Details name the provider, the kind of person and a reason code, never a claim value (an e-mail
address, a username, a ``sub``), a code or a token.
"""

from regie.audit.events import define

UPSTREAM_LOGIN = define(
    "accounts.login.upstream",
    "Someone logged in through their school's identity provider (provider id, staff or pupil; "
    "the login as subject; never the claim values).",
)
UPSTREAM_REFUSED = define(
    "accounts.login.upstream_refused",
    "A login through a school's identity provider was refused and nobody was logged in "
    "(provider id and a reason code such as state_mismatch, upstream_error, invalid_id_token "
    "with the failed check, upstream_unavailable or unknown_person; never claim values, codes "
    "or tokens).",
)
