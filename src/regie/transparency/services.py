"""Publishing the audit log: signed checkpoints, witnesses' cosignatures, proofs and bundles.

:func:`publish` (the periodic job ``transparency.publish``, ``regie log publish``, and on demand
when a proof needs a newer checkpoint) brings the tree up to date, signs a checkpoint when the
tree grew — only after checking that the new tree extends the last checkpoint it signed, so the
hub never signs a fork of its own log — and sends the newest checkpoint to every active witness
(C2SP tlog-witness: the size the witness knows and a consistency proof from it). A witness that
refuses (a rollback, a fork) is flagged on the dashboard and audited; one that cannot be reached
is flagged and tried again at the next run.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from regie.agreements.services import TodoLine
from regie.audit import log, rfc9162, signed_note
from regie.audit.models import AuditEvent
from regie.audit.services import SYSTEM, record
from regie.audit.witness_client import (
    Conflict,
    WitnessRefused,
    WitnessUnreachable,
    add_checkpoint,
)
from regie.lib.logging import get_logger

from . import events, keys
from .models import Checkpoint, Cosignature, Witness

logger = get_logger(__name__)

PUBLISH_EVERY = dt.timedelta(minutes=5)
"""How often ``transparency.publish`` runs (``regie.ops.schedule``)."""


class LogInconsistent(Exception):
    """The log no longer extends the last checkpoint the hub signed."""


def latest() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-size").first()


def publish(*, now: dt.datetime | None = None) -> Checkpoint:
    """Sign a checkpoint of the whole tree if it grew, then send the newest to the witnesses."""
    now = now or timezone.now()
    checkpoint = sign_checkpoint(now)
    for witness in Witness.objects.filter(active=True):
        send(witness, checkpoint, now=now)
    return checkpoint


class _Mismatch(Exception):
    def __init__(self, signed: int, size: int, reason: str) -> None:
        super().__init__(reason)
        self.signed, self.size, self.reason = signed, size, reason


def sign_checkpoint(now: dt.datetime) -> Checkpoint:
    """The newest checkpoint, signed now when the tree grew since the last one."""
    size = log.integrate()
    signer = keys.signer()
    try:
        with transaction.atomic():
            previous = Checkpoint.objects.select_for_update().order_by("-size").first()
            if previous is not None and previous.size > size:
                raise _Mismatch(previous.size, size, "the log has fewer events than it signed")
            if previous is not None and previous.size == size:
                if bytes(previous.root_hash) != log.root(size):
                    raise _Mismatch(previous.size, size, "the root hash changed")
                return previous
            root = log.root(size)
            if previous is not None:
                _check_extends(previous, size, root, signer.verifier)
            text = signed_note.Checkpoint(signer.name, size, root).text()
            note = signed_note.sign_note(text, signer).decode()
            return Checkpoint.objects.create(size=size, root_hash=root, note=note, created_at=now)
    except IntegrityError:
        # Another process signed the same size at the same moment (the first checkpoint, when
        # nothing was there to lock): the log is the same, so is its checkpoint.
        return Checkpoint.objects.get(size=size)
    except _Mismatch as mismatch:
        # Outside the rolled-back transaction, so that the refusal itself is on record.
        record(
            events.LOG_INCONSISTENT,
            SYSTEM,
            details={"signed_size": mismatch.signed, "size": mismatch.size},
        )
        logger.error(
            "transparency.log_inconsistent",
            signed_size=mismatch.signed,
            size=mismatch.size,
            reason=mismatch.reason,
        )
        raise LogInconsistent(
            f"the log of {mismatch.size} events does not extend the checkpoint of "
            f"{mismatch.signed} events the hub signed ({mismatch.reason}); nothing was signed"
        ) from None


def _check_extends(
    previous: Checkpoint, size: int, root: bytes, verifier: signed_note.Verifier
) -> None:
    try:
        old, _note = signed_note.open_checkpoint(previous.note.encode(), verifier)
    except signed_note.NoteError as error:
        raise _Mismatch(
            previous.size, size, f"the stored checkpoint does not verify: {error}"
        ) from None
    if old.size != previous.size:
        raise _Mismatch(previous.size, size, "the stored checkpoint's size was changed")
    try:
        proof = log.consistency_proof(old.size, size)
        rfc9162.verify_consistency(old.size, size, proof, old.root_hash, root)
    except rfc9162.ProofError as error:
        raise _Mismatch(old.size, size, str(error)) from None


def send(witness: Witness, checkpoint: Checkpoint, *, now: dt.datetime) -> bool:
    """Ask ``witness`` to cosign ``checkpoint``; whether it did. Its answer is stored."""
    if checkpoint.cosignatures.filter(witness=witness).exists():
        return True
    old = witness.size
    for _attempt in range(2):
        if old > checkpoint.size:
            return _failed(
                witness,
                checkpoint,
                now,
                refused=True,
                old=old,
                reason=(
                    f"the witness knows {old} events, more than this checkpoint's {checkpoint.size}"
                ),
            )
        proof = log.consistency_proof(old, checkpoint.size)
        try:
            answer = add_checkpoint(
                witness.url,
                old,
                proof,
                checkpoint.note.encode(),
                timeout=settings.LOG_WITNESS_TIMEOUT_SECONDS,
            )
        except WitnessRefused as error:
            # 4xx: the witness looked at the checkpoint and said no; 5xx: it is unwell.
            refused = 400 <= error.status < 500
            reason = f"{'refused' if refused else 'failed'} ({error.status}): {error.reason}"
            return _failed(witness, checkpoint, now, refused=refused, old=old, reason=reason)
        except WitnessUnreachable:
            return _failed(witness, checkpoint, now, refused=False, old=old, reason="not reached")
        if isinstance(answer, Conflict):
            old = answer.size  # the witness knows another size: prove from there, once
            continue
        return _cosigned(witness, checkpoint, answer, now)
    return _failed(witness, checkpoint, now, refused=True, old=old, reason="the size kept changing")


def _cosigned(witness: Witness, checkpoint: Checkpoint, lines: list[str], now: dt.datetime) -> bool:
    verifier = witness.verifier
    for line in lines:
        try:
            note = signed_note.open_note(
                signed_note.add_signatures(checkpoint.note.encode(), [line]), [verifier]
            )
        except signed_note.NoteError:
            continue
        if verifier in note.verified_by:
            with transaction.atomic():
                Cosignature.objects.get_or_create(
                    checkpoint=checkpoint,
                    witness=witness,
                    defaults={
                        "line": line if line.endswith("\n") else line + "\n",
                        "received_at": now,
                    },
                )
                Witness.objects.filter(pk=witness.pk).update(
                    size=checkpoint.size, cosigned_at=now, failure="", failed_at=None, refused=False
                )
            return True
    return _failed(
        witness,
        checkpoint,
        now,
        refused=False,
        old=witness.size,
        reason="the answer holds no cosignature by the witness's key",
    )


def _failed(
    witness: Witness,
    checkpoint: Checkpoint,
    now: dt.datetime,
    *,
    refused: bool,
    old: int,
    reason: str,
) -> bool:
    Witness.objects.filter(pk=witness.pk).update(
        failed_at=now, failure=reason[:300], refused=refused
    )
    if refused:
        record(
            events.WITNESS_REFUSED,
            SYSTEM,
            subject=f"witness:{witness.pk}",
            details={"old_size": old, "size": checkpoint.size, "reason": reason[:200]},
        )
    logger.warning(
        "transparency.witness_failed", witness=witness.name, refused=refused, reason=reason
    )
    return False


# --- What is published ---------------------------------------------------------------------


def key_list() -> str:
    """The keys to trust, one vkey per line: the log's first, then the active witnesses'."""
    lines = [keys.verifier().vkey, *(w.vkey for w in Witness.objects.filter(active=True))]
    return "\n".join(lines) + "\n"


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def inclusion(leaf_index: int, tree_size: int) -> dict[str, Any]:
    """The inclusion proof of leaf ``leaf_index`` in the tree of ``tree_size`` leaves (the log
    refuses a size it does not have, :class:`rfc9162.ProofError`)."""
    proof = log.inclusion_proof(leaf_index, tree_size)
    return {
        "leaf_index": leaf_index,
        "tree_size": tree_size,
        "leaf_hash": _b64(rfc9162.leaf_hash(log.leaf(leaf_index))),
        "inclusion_path": [_b64(item) for item in proof],
    }


def consistency(first: int, second: int) -> dict[str, Any]:
    proof = log.consistency_proof(first, second)
    return {
        "tree_size_1": first,
        "tree_size_2": second,
        "consistency_path": [_b64(item) for item in proof],
    }


def bundle(event: AuditEvent) -> dict[str, Any]:
    """The proof bundle of one event (docs/audit-log.md): the leaf, what it commits to, its
    inclusion proof in the newest checkpoint, that checkpoint with its cosignatures, the keys.
    Publishes a checkpoint first when the newest does not hold the event yet."""
    found = log.leaf_of(event)
    checkpoint = latest()
    if found is None or checkpoint is None or checkpoint.size <= found[0]:
        checkpoint = publish()
        found = log.leaf_of(event)
    if found is None:
        raise LookupError("the event is not in the log")
    index, leaf = found
    return {
        "format": "regie-log-proof/v1",
        "origin": keys.origin(),
        "leaf_index": index,
        "leaf": leaf.decode(),
        "event": {
            "actor": event.actor,
            "subject": event.subject,
            "details": event.details,
            "salt": event.salt,
        },
        "tree_size": checkpoint.size,
        "inclusion_path": [_b64(item) for item in log.inclusion_proof(index, checkpoint.size)],
        "checkpoint": checkpoint.cosigned().decode(),
        "log_key": keys.verifier().vkey,
        "witness_keys": [
            c.witness.vkey for c in checkpoint.cosignatures.select_related("witness").order_by("pk")
        ],
    }


# --- The dashboard ------------------------------------------------------------------------


@dataclass(frozen=True)
class Health:
    stale: bool  # events wait for a checkpoint longer than two publishing intervals
    refused: list[Witness]
    unreachable: list[Witness]


def health(now: dt.datetime | None = None) -> Health:
    now = now or timezone.now()
    newest = latest()
    waiting = AuditEvent.objects.filter(occurred_at__lt=now - 2 * PUBLISH_EVERY)
    if newest is not None:
        waiting = waiting.filter(occurred_at__gt=newest.created_at)
    witnesses = list(Witness.objects.filter(active=True).exclude(failure=""))
    return Health(
        stale=waiting.exists(),
        refused=[w for w in witnesses if w.refused],
        unreachable=[w for w in witnesses if not w.refused],
    )


def dashboard_lines(user: Any) -> list[TodoLine]:
    """The log not published in time, witnesses that refused it or were out of reach."""
    found = health()
    url = reverse("transparency:index")
    return [
        TodoLine(
            _("Controlepunten van het logboek die niet gepubliceerd zijn"), url, int(found.stale)
        ),
        TodoLine(_("Getuigen die het logboek weigerden"), url, len(found.refused)),
        TodoLine(_("Getuigen die niet bereikt werden"), url, len(found.unreachable)),
    ]
