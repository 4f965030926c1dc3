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
SENSITIVE_READ = define(
    "roster.sensitive.read",
    "Staff read a pupil's sensitive records (a list of them or one record): the category, the "
    "reader's role and the record (never its content). Guardians see these reads in the portal.",
)
SENSITIVE_REFUSED = define(
    "roster.sensitive.refused",
    "A login without need-to-know asked for a pupil's sensitive records: refused (403). The "
    "role(s) of the login and the category asked for; never content.",
)
SENSITIVE_RECORDED = define(
    "roster.sensitive.recorded",
    "A sensitive record about a pupil was added by hand (its category and source, never content).",
)
SENSITIVE_DESIGNATED = define(
    "roster.sensitive.designated",
    "The board designated a staff member to read a school's sensitive records (the school).",
)
SENSITIVE_DESIGNATION_WITHDRAWN = define(
    "roster.sensitive.designation_withdrawn",
    "A designation to read a school's sensitive records was withdrawn (the school).",
)
