"""Audit event types of the roster. Subjects are record ids; details never hold names or numbers."""

from regie.audit.events import define

IMPORT_PREVIEWED = define(
    "roster.import.previewed",
    "A LAS export was uploaded and validated; its plan (counts per school) or problems shown.",
)
IMPORT_APPLIED = define(
    "roster.import.applied",
    "A LAS export was applied as a diff in one transaction (counts of new, changed, leaving; "
    "and of pupils without BSN, onderwijsnummer or ECK iD).",
)
IMPORT_QUEUED = define(
    "roster.import.queued",
    "A school asked for a previewed LAS export to be applied: a background job will apply it.",
)
IMPORT_FAILED = define(
    "roster.import.failed",
    "Applying a LAS export in the background failed; nothing of it was applied (the reason as a "
    "code).",
)
IMPORT_DISCARDED = define(
    "roster.import.discarded", "An uploaded LAS export was discarded without being applied."
)
PSEUDONYMS_OBTAINED = define(
    "roster.pseudonyms.obtained",
    "PGNs in an export were hashed and exchanged at the number service; the PGNs were dropped "
    "(count only).",
)
STUDENT_LEFT = define(
    "roster.student.left",
    "A pupil left a school (no longer in its LAS export): retention starts from the left-on date.",
)
STUDENT_MOVED = define(
    "roster.student.moved",
    "A pupil arrived at another school of the same board and sector (same ECK iD): the two "
    "enrolments were linked.",
)
STUDENT_LINKED = define(
    "roster.student.linked",
    "The school linked a pupil's enrolment to an earlier one in another sector (explicit act).",
)
