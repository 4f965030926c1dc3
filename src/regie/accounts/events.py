"""Audit event types of logins through a school's identity provider.

Details name the provider, the kind of person and a reason code, never a claim value (an e-mail
address, a username, a ``sub``), a code or a token.
"""

from regie.audit.events import define

UPSTREAM_LOGIN = define(
    "accounts.login.upstream",
    "Someone logged in through their school's identity provider (provider id, staff, pupil or "
    "guardian; the login as subject; never the claim values).",
)
UPSTREAM_REFUSED = define(
    "accounts.login.upstream_refused",
    "A login through a school's identity provider was refused and nobody was logged in "
    "(provider id and a reason code such as state_mismatch, upstream_error, invalid_id_token "
    "with the failed check, upstream_unavailable or unknown_person; never claim values, codes "
    "or tokens).",
)

# --- Failed logins and lockouts (regie.accounts.throttling) ---------------------------------------
# The username is personal data and never recorded: the login's id when the username exists, and a
# keyed hash of the client's address (the same address gives the same value until the secret key
# is rotated), so that failures from one place can be told apart without storing where.

LOGIN_FAILED = define(
    "accounts.login.failed",
    "A login with a username and password was refused (form: hub or admin; the login's id when "
    "the username exists, else nothing; a keyed hash of the client's address; locked: refused "
    "because of a lockout, whatever the password). Never the username or the password.",
)
LOGIN_LOCKED_OUT = define(
    "accounts.login.locked_out",
    "Too many failed logins started a lockout (rule: user_address, user or address; the login's "
    "id when known; a keyed hash of the address; the lockout's length in minutes).",
)
LOGIN_UNLOCKED = define(
    "accounts.login.unlocked",
    "An administrator lifted lockouts before they ended (via: admin or command; by: username, "
    "address or all; the login's id when known; the number of records removed).",
)

# --- Two-factor authentication (regie.accounts.second_factor) -------------------------------------

SECOND_FACTOR_ENROLLED = define(
    "accounts.second_factor.enrolled",
    "A login set up an authenticator app (TOTP) and got new recovery codes (the login as "
    "subject; whether it replaced an earlier app).",
)
SECOND_FACTOR_FAILED = define(
    "accounts.second_factor.failed",
    "A second-factor code was refused (step: verify or enrol; reason: wrong_code or throttled; "
    "never the code).",
)
SECOND_FACTOR_RECOVERY_CODE_USED = define(
    "accounts.second_factor.recovery_code_used",
    "A login's second step was passed with a recovery code, which is now used up (codes left).",
)
SECOND_FACTOR_RECOVERY_CODES_REGENERATED = define(
    "accounts.second_factor.recovery_codes_regenerated",
    "A login made new recovery codes; the earlier ones no longer work.",
)
SECOND_FACTOR_RESET = define(
    "accounts.second_factor.reset",
    "An administrator removed a login's authenticator app and recovery codes, so that it sets "
    "them up again at its next login (via: admin or command; the number of devices removed).",
)

# --- Logins that succeeded, and logouts (regie.accounts.receivers) --------------------------------

LOGIN_SUCCEEDED = define(
    "accounts.login.succeeded",
    "Someone logged in (the login as subject and actor; how: the authentication backend's class "
    "name). Never the username.",
)
LOGGED_OUT = define("accounts.logout", "Someone logged out (the login as subject and actor).")

# --- Guardians' invitations (regie.accounts.invitations) ------------------------------------------
# The invitation's id as subject (the board's when no invitation was found or made); never the
# e-mail address or the link's secret.

INVITATION_SENT = define(
    "accounts.invitation.sent",
    "The school invited a guardian to make a portal login: a one-time link (board id, expiry date, "
    "how many earlier open invitations to the same address it replaced). Never the address or the "
    "link.",
)
INVITATION_ACCEPTED = define(
    "accounts.invitation.accepted",
    "A guardian made their portal login with an invitation, which is now used (board id, the "
    "guardian login's id).",
)
INVITATION_REFUSED = define(
    "accounts.invitation.refused",
    "An invitation was refused and nothing changed (step: invite or accept; reason: "
    "not_on_export, has_account, unknown, used, expired or no_longer_on_export). Never the "
    "address or the link.",
)
