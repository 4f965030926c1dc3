"""The audit event types of the published log (checkpoints are not events: they prove the
events, and a checkpoint per event would grow the log forever)."""

from __future__ import annotations

from regie.audit.events import define

WITNESS_REFUSED = define(
    "transparency.witness.refused",
    "A witness refused the log's checkpoint (witness, tree sizes, the HTTP status and its "
    "reason: a rollback, a fork, a signature it cannot verify).",
)
LOG_INCONSISTENT = define(
    "transparency.log.inconsistent",
    "The hub refused to sign a checkpoint: its log no longer extends the last checkpoint it "
    "signed (the database was changed behind its back); sizes only.",
)
WITNESS_SAVED = define(
    "transparency.witness.saved",
    "A witness was added to the log or made active again with `regie log add-witness` (the "
    "admin's changes are admin.saved).",
)
