"""The number service's front door: every operation of both interfaces (JSON and SOAP) is here.

Interfaces authenticate the caller into a :class:`Client`, call one function below and render its
result or its :mod:`errors` exception. Nothing here returns or raises a message that contains an
identifier; HPgns are held only in local variables (and, for pending batches, until processed).

Permissions follow the client's role (:class:`~.models.ClientRole`). Every operation of the
national ``eckid.wsdl`` is open to both roles; supplier pseudonyms (single, batch, and retrieving
a supplier batch) only to a hub, and only for a supplier in its registration
(:func:`check_supplier_permitted`). The registration's suppliers are set by an operator or
declared by the hub itself (:func:`declare_suppliers`); every change and every refusal is audited.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import orjson
from django.conf import settings
from django.core.signals import setting_changed
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.dispatch import receiver
from django.utils import timezone

from regie.audit.services import SYSTEM, record
from regie.lib.identifiers import InvalidIdentifier, check_kvk, check_oin
from regie.lib.iterables import batched
from regie.lib.logging import get_logger

from . import events
from .derivation import DerivationError, Deriver
from .errors import (
    AlreadyRetrieved,
    AuthenticationFailed,
    BatchNotFound,
    BatchTooLarge,
    ContentRemoved,
    InvalidInput,
    NotFinished,
    NummervoorzieningError,
    OperationNotPermitted,
    QuotaExceeded,
    SubstitutionConflict,
    SupplierNotDeclared,
    TemporaryBlocked,
    UnknownChain,
    UnknownSector,
)
from .keys import load_keyring
from .models import (
    Batch,
    BatchChunk,
    BatchKind,
    BatchStatus,
    Client,
    ClientRole,
    ClientSupplier,
    Substitution,
)
from .registry import Chain, Sector, get_registry

logger = get_logger(__name__)

APPLICATION_VERSION = "regie-nummervoorziening 0.1.0"
API_KEY_PREFIX = "nv"
_LOOKUP_SLICE = 500
_MAX_SUBSTITUTION_DEPTH = 64
# More suppliers than any board has agreements with; a longer list is a mistake, not a hub.
MAX_CLIENT_SUPPLIERS = 5000


# --- Keys ----------------------------------------------------------------------------------------


@cache
def get_deriver() -> Deriver:
    """The deriver under the configured keyring; raises ``KeyringError`` naming a bad key file."""
    return Deriver(load_keyring(Path(settings.NV_KEYS_DIR)), settings.NV_PSEUDONYM_BASE)


@receiver(setting_changed)
def _forget_keys(*, setting: str, **kwargs: Any) -> None:
    if setting in {"NV_KEYS_DIR", "NV_PSEUDONYM_BASE"}:
        get_deriver.cache_clear()
    if setting == "NV_REGISTRY_FILE":
        get_registry.cache_clear()


# --- Clients and authentication ------------------------------------------------------------------


def _hash_api_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode("utf-8")).hexdigest()


def _role(role: str) -> ClientRole:
    try:
        return ClientRole(role)
    except ValueError:
        raise InvalidInput(
            f"a client's role is one of {', '.join(ClientRole.values)}", code="invalid-role"
        ) from None


def register_client(
    *,
    oin: str,
    name: str,
    role: str,
    daily_batch_quota: int | None = None,
    suppliers: Iterable[str] = (),
    actor: str = SYSTEM,
) -> tuple[Client, str]:
    """Register a client by OIN and role (a hub with the suppliers it may obtain pseudonyms for)
    and issue its first API key (shown once, stored hashed)."""
    try:
        check_oin(oin)
    except InvalidIdentifier as error:
        raise InvalidInput(str(error), code="invalid-oin") from None
    checked_role = _role(role)
    supplier_ids = _supplier_ids(suppliers)
    if supplier_ids and checked_role != ClientRole.HUB:
        raise InvalidInput("only a hub client has suppliers", code="not-a-hub")
    if Client.objects.filter(oin=oin).exists():
        raise InvalidInput("a client with this OIN is already registered", code="duplicate-oin")
    with transaction.atomic():
        client = Client(oin=oin, name=name, role=checked_role)
        if daily_batch_quota is not None:
            client.daily_batch_quota = daily_batch_quota
        client.save()
        record(
            events.CLIENT_REGISTERED,
            actor,
            f"nv-client:{oin}",
            {"name": name, "role": checked_role.value},
        )
        if supplier_ids:
            _replace_suppliers(client, supplier_ids, actor)
        key = issue_api_key(client, actor=actor)
    return client, key


def issue_api_key(client: Client, *, actor: str = SYSTEM) -> str:
    """A new API key for ``client``; the previous key stops working. Returned once, never stored."""
    prefix = secrets.token_hex(6)
    raw_key = f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    client.api_key_prefix = prefix
    client.api_key_hash = _hash_api_key(raw_key)
    client.save(update_fields=["api_key_prefix", "api_key_hash"])
    record(events.API_KEY_ISSUED, actor, client.audit_actor)
    return raw_key


def set_daily_batch_quota(client: Client, quota: int, *, actor: str = SYSTEM) -> None:
    """Change how many batches ``client`` may submit per day (0 stops its batches)."""
    if quota < 0:
        raise InvalidInput("a daily batch quota is 0 or more", code="invalid-quota")
    old = client.daily_batch_quota
    client.daily_batch_quota = quota
    client.save(update_fields=["daily_batch_quota"])
    record(events.CLIENT_CHANGED, actor, client.audit_actor, {"quota": [old, quota]})


def set_blocked_until(client: Client, until: datetime | None, *, actor: str = SYSTEM) -> None:
    """Refuse ``client``'s calls until ``until`` (aware), or lift its block with ``None``."""
    if until is not None and timezone.is_naive(until):
        raise InvalidInput("a block ends at a moment with a time zone", code="invalid-moment")
    old = client.blocked_until
    client.blocked_until = until
    client.save(update_fields=["blocked_until"])
    record(
        events.CLIENT_CHANGED,
        actor,
        client.audit_actor,
        {"blocked_until": [moment.isoformat() if moment else None for moment in (old, until)]},
    )


def set_role(client: Client, role: str, *, actor: str = SYSTEM) -> None:
    """Make ``client`` a LAS or a hub. A client that stops being a hub loses its suppliers."""
    new = _role(role)
    old = client.role
    if new == old:
        return
    with transaction.atomic():
        client.role = new
        client.save(update_fields=["role"])
        record(events.CLIENT_CHANGED, actor, client.audit_actor, {"role": [old, new.value]})
        if new != ClientRole.HUB:
            _replace_suppliers(client, [], actor)


# --- A hub client's suppliers --------------------------------------------------------------------


@dataclass(frozen=True)
class SupplierChange:
    """A client's suppliers after a change, and which were added and removed."""

    suppliers: list[str]
    added: list[str]
    removed: list[str]


def _supplier_ids(values: Iterable[str]) -> list[str]:
    """Distinct, valid supplier ids, sorted; refused as a whole, naming the first bad position."""
    checked: set[str] = set()
    for position, value in enumerate(values):
        if position >= MAX_CLIENT_SUPPLIERS:
            raise InvalidInput(
                f"a client has at most {MAX_CLIENT_SUPPLIERS} suppliers", code="too-many-suppliers"
            )
        try:
            checked.add(_supplier(value if isinstance(value, str) else ""))
        except InvalidInput:
            raise InvalidInput(
                f"supplier {position + 1} in the list is not a KvK number (8 digits) "
                "or an OIN (20 digits)",
                code="invalid-supplier-id",
            ) from None
    return sorted(checked)


def _replace_suppliers(client: Client, wanted: list[str], actor: str) -> SupplierChange:
    """Make ``wanted`` (valid, distinct) the client's suppliers; audit what changed."""
    with transaction.atomic():
        # Serialise concurrent changes of one client's list (two declarations at once).
        Client.objects.select_for_update().filter(pk=client.pk).exists()
        current = set(client.suppliers.values_list("supplier_id", flat=True))
        added = sorted(set(wanted) - current)
        removed = sorted(current - set(wanted))
        if removed:
            client.suppliers.filter(supplier_id__in=removed).delete()
        ClientSupplier.objects.bulk_create(
            ClientSupplier(client=client, supplier_id=supplier_id) for supplier_id in added
        )
        if added or removed:
            record(
                events.CLIENT_SUPPLIERS_CHANGED,
                actor,
                client.audit_actor,
                {"added": added, "removed": removed},
            )
    return SupplierChange(sorted(wanted), added, removed)


def _require_hub(client: Client) -> None:
    if client.role != ClientRole.HUB:
        raise InvalidInput(
            "only a hub client has suppliers; make it a hub first (set-role)", code="not-a-hub"
        )


def set_suppliers(
    client: Client, supplier_ids: Iterable[str], *, actor: str = SYSTEM
) -> SupplierChange:
    """An operator sets the suppliers a hub client may obtain supplier pseudonyms for."""
    _require_hub(client)
    return _replace_suppliers(client, _supplier_ids(supplier_ids), actor)


def add_suppliers(
    client: Client, supplier_ids: Iterable[str], *, actor: str = SYSTEM
) -> SupplierChange:
    _require_hub(client)
    wanted = set(client.supplier_ids()) | set(_supplier_ids(supplier_ids))
    return _replace_suppliers(client, _supplier_ids(wanted), actor)


def remove_suppliers(
    client: Client, supplier_ids: Iterable[str], *, actor: str = SYSTEM
) -> SupplierChange:
    """Remove suppliers from a hub client's list; one that is not on it is refused."""
    _require_hub(client)
    leaving = set(_supplier_ids(supplier_ids))
    current = set(client.supplier_ids())
    if leaving - current:
        raise InvalidInput(
            f"not in this client's suppliers: {', '.join(sorted(leaving - current))}",
            code="unknown-supplier",
        )
    return _replace_suppliers(client, sorted(current - leaving), actor)


def _refuse(
    client: Client, error: NummervoorzieningError, operation: str, supplier_id: str = ""
) -> NummervoorzieningError:
    """``error``, after recording the refusal (committed even when the caller's work is not)."""
    details = {"operation": operation, "reason": error.code}
    if supplier_id:
        details["supplier"] = supplier_id
    record(events.REQUEST_REFUSED, client.audit_actor, details=details)
    logger.info("nv.request.refused", client=client.oin, operation=operation, reason=error.code)
    return error


def declare_suppliers(client: Client, supplier_ids: Iterable[str]) -> SupplierChange:
    """A hub declares its suppliers (those its boards have a signed or active processing agreement
    with): from now on it obtains supplier pseudonyms for these only. Refused for a LAS."""
    if client.role != ClientRole.HUB:
        raise _refuse(
            client,
            OperationNotPermitted("only a hub client declares suppliers"),
            "declare-suppliers",
        )
    return _replace_suppliers(client, _supplier_ids(supplier_ids), client.audit_actor)


def check_supplier_permitted(client: Client, supplier_id: str, operation: str) -> str:
    """The valid ``supplier_id``, if ``client`` may obtain its pseudonyms; refused (and audited)
    for a client that is not a hub, and for a supplier not in the hub's registration."""
    if client.role != ClientRole.HUB:
        raise _refuse(
            client,
            OperationNotPermitted(
                "supplier pseudonyms are for a hub client only; this client is registered as "
                f"{client.role}"
            ),
            operation,
        )
    supplier = _supplier(supplier_id)
    if not client.suppliers.filter(supplier_id=supplier).exists():
        raise _refuse(
            client,
            SupplierNotDeclared(
                "this supplier is not among the suppliers declared for this client; a hub "
                "declares those its boards have an agreement with (PUT clients/me/suppliers)"
            ),
            operation,
            supplier,
        )
    return supplier


def _usable(client: Client) -> Client:
    if not client.is_active:
        raise AuthenticationFailed("this client is not active")
    if client.is_blocked():
        raise TemporaryBlocked("this client is temporarily blocked; try again later")
    return client


def authenticate_api_key(raw_key: str | None) -> Client:
    """The client an API key belongs to: prefix lookup, then a constant-time hash compare."""
    if not raw_key:
        raise AuthenticationFailed("an API key is required")
    parts = raw_key.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX:
        raise AuthenticationFailed("malformed API key")
    client = Client.objects.filter(api_key_prefix=parts[1]).first()
    expected = client.api_key_hash if client else _hash_api_key("regie-no-such-key")
    if not hmac.compare_digest(expected, _hash_api_key(raw_key)) or client is None:
        raise AuthenticationFailed("unknown or revoked API key")
    return _usable(client)


def oin_from_subject(subject_dn: str) -> str:
    """The OIN in a PKIoverheid certificate subject: its ``serialNumber`` attribute."""
    for part in subject_dn.replace("/", ",").split(","):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() in {"serialnumber", "2.5.4.5"}:
            try:
                return check_oin(value.strip())
            except InvalidIdentifier:
                break
    raise AuthenticationFailed("the client certificate's subject holds no OIN (serialNumber)")


def authenticate_certificate(subject_dn: str | None) -> Client:
    """mTLS: the client whose OIN is in the verified certificate subject a trusted proxy passed."""
    if not subject_dn:
        raise AuthenticationFailed("a client certificate is required")
    client = Client.objects.filter(oin=oin_from_subject(subject_dn)).first()
    if client is None:
        raise AuthenticationFailed("no client is registered for this certificate's OIN")
    return _usable(client)


def check_caller_oin(client: Client, claimed_oin: str | None) -> None:
    """The OIN a SOAP caller names (WS-Addressing From) must be the authenticated client's."""
    if not claimed_oin:
        raise AuthenticationFailed("the caller's OIN is missing (WS-Addressing From ?oin=…)")
    try:
        check_oin(claimed_oin)
    except InvalidIdentifier as error:
        raise AuthenticationFailed(f"the caller's OIN is malformed: {error}") from None
    if not hmac.compare_digest(claimed_oin, client.oin):
        raise AuthenticationFailed("the caller's OIN does not belong to the authenticated client")


def ping() -> dict[str, Any]:
    """Available when the keys load and the database answers."""
    get_deriver()
    Client.objects.exists()
    return {
        "available": True,
        "applicationVersion": APPLICATION_VERSION,
        "systemTime": timezone.now(),
    }


# --- Registry ------------------------------------------------------------------------------------


def chains() -> list[Chain]:
    return list(get_registry().chains.values())


def sectors() -> list[Sector]:
    return list(get_registry().sectors.values())


def _chain(chain_id: str) -> Chain:
    chain = get_registry().chain(chain_id)
    if chain is None:
        raise UnknownChain("unknown chainId; retrieveChains lists the known chains")
    return chain


def _sector(sector_id: str) -> Sector:
    sector = get_registry().sector(sector_id)
    if sector is None:
        raise UnknownSector("unknown sectorId; retrieveSectors lists the known sectors")
    return sector


def check_supplier_id(supplier_id: str) -> str:
    """``supplier_id`` if it is a valid KvK number (8 digits) or OIN (20 digits)."""
    return _supplier(supplier_id)


def _supplier(supplier_id: str) -> str:
    try:
        return check_oin(supplier_id) if len(supplier_id) == 20 else check_kvk(supplier_id)
    except InvalidIdentifier:
        raise InvalidInput(
            "supplierId must be the supplier's OIN (20 digits) or KvK number (8 digits)",
            code="invalid-supplier-id",
        ) from None


# --- Single derivations --------------------------------------------------------------------------


def _invalid(error: DerivationError) -> InvalidInput:
    return InvalidInput(error.message, code=error.code)


def _resolve_anchors(anchors: Sequence[bytes], now: datetime) -> list[bytes]:
    """Follow effective substitutions from each anchor to the oldest one (one query per step)."""
    resolved = list(anchors)
    pending = dict(enumerate(anchors))
    for _ in range(_MAX_SUBSTITUTION_DEPTH):
        if not pending:
            break
        found: dict[bytes, bytes] = {}
        for part in batched(set(pending.values()), _LOOKUP_SLICE):
            rows = Substitution.objects.filter(anchor_new__in=part, effective_at__lte=now)
            for new, old in rows.values_list("anchor_new", "anchor_old"):
                found[bytes(new)] = bytes(old)
        pending = {index: found[anchor] for index, anchor in pending.items() if anchor in found}
        for index, anchor in pending.items():
            resolved[index] = anchor
    return resolved


def retrieve_stampseudonym(client: Client, hpgn: str) -> str:
    deriver = get_deriver()
    try:
        anchor = deriver.anchor(hpgn)
    except DerivationError as error:
        raise _invalid(error) from None
    return deriver.stampseudonym(_resolve_anchors([anchor], timezone.now())[0])


def retrieve_eck_id(client: Client, stampseudonym: str, chain_id: str, sector_id: str) -> str:
    chain, sector = _chain(chain_id), _sector(sector_id)
    try:
        return get_deriver().eck_id(stampseudonym, chain.id, sector.id)
    except DerivationError as error:
        raise _invalid(error) from None


def retrieve_supplier_pseudonym(
    client: Client, eck_id: str, supplier_id: str, sector_id: str
) -> str:
    supplier = check_supplier_permitted(client, supplier_id, "supplier-pseudonym")
    sector = _sector(sector_id)
    try:
        return get_deriver().supplier_pseudonym(eck_id, supplier, sector.id)
    except DerivationError as error:
        raise _invalid(error) from None


# --- Substitutions -------------------------------------------------------------------------------


def _successors(anchor: bytes) -> list[bytes]:
    """Where ``anchor`` leads, following every substitution whatever its date."""
    path = []
    current = anchor
    for _ in range(_MAX_SUBSTITUTION_DEPTH):
        row = Substitution.objects.filter(anchor_new=current).values_list("anchor_old", flat=True)
        following = row.first()
        if following is None:
            break
        current = bytes(following)
        path.append(current)
    return path


def replace_stampseudonym(
    client: Client, hpgn_new: str, hpgn_old: str, effective_at: datetime | None = None
) -> str:
    """From ``effective_at`` (default now) on, ``hpgn_new`` gets ``hpgn_old``'s stampseudonym.

    Returns the stampseudonym ``hpgn_old`` has now: the one the pupil keeps.
    """
    deriver = get_deriver()
    try:
        anchor_new, anchor_old = deriver.anchor(hpgn_new), deriver.anchor(hpgn_old)
    except DerivationError as error:
        raise _invalid(error) from None
    if anchor_new == anchor_old:
        raise InvalidInput("hpgnNew and hpgnOld are the same", code="same-hpgn")
    now = timezone.now()
    with transaction.atomic():
        if Substitution.objects.filter(anchor_new=anchor_new).exists():
            raise SubstitutionConflict("hpgnNew already has a substitution")
        if anchor_new in _successors(anchor_old):
            raise SubstitutionConflict("this substitution would make a cycle")
        Substitution.objects.create(
            anchor_new=anchor_new,
            anchor_old=anchor_old,
            effective_at=effective_at or now,
            client=client,
        )
        record(
            events.SUBSTITUTION_RECORDED,
            client.audit_actor,
            details={"effective_at": (effective_at or now).isoformat()},
        )
    return deriver.stampseudonym(_resolve_anchors([anchor_old], now)[0])


# --- Batches -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchResult:
    success: list[tuple[int, str]]
    failed: list[tuple[int, str]]


def _start_of_today() -> datetime:
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


def submit_batch(
    client: Client,
    kind: BatchKind,
    items: Sequence[tuple[int, str]],
    *,
    chain_id: str = "",
    sector_id: str = "",
    supplier_id: str = "",
) -> Batch:
    """Accept a batch for background processing; the whole batch is refused on a structural error.

    Items are ``(index, value)``; an item whose value is invalid is not refused here but fails by
    index in the result, as the national service does.
    """
    if kind == BatchKind.SUPPLIER:
        supplier_id = check_supplier_permitted(client, supplier_id, "supplier-batch")
    if not items:
        raise InvalidInput("a batch holds at least one item", code="empty-batch")
    if len(items) > settings.NV_BATCH_MAX_ITEMS:
        raise BatchTooLarge(
            f"a batch holds at most {settings.NV_BATCH_MAX_ITEMS} items; this one has {len(items)}"
        )
    if len({index for index, _ in items}) != len(items):
        raise InvalidInput("every item in a batch needs its own index", code="duplicate-index")
    if kind == BatchKind.ECK_ID:
        chain_id, sector_id = _chain(chain_id).id, _sector(sector_id).id
    elif kind == BatchKind.SUPPLIER:
        sector_id = _sector(sector_id).id
    now = timezone.now()
    with transaction.atomic():
        locked = Client.objects.select_for_update().get(pk=client.pk)
        submitted_today = Batch.objects.filter(client=locked, created_at__gte=_start_of_today())
        over_quota = submitted_today.count() >= locked.daily_batch_quota
        if not over_quota:
            batch = _create_batch(locked, kind, items, chain_id, sector_id, supplier_id, now)
    if over_quota:
        record(
            events.QUOTA_EXCEEDED, client.audit_actor, details={"quota": locked.daily_batch_quota}
        )
        raise QuotaExceeded(
            f"this client may submit {locked.daily_batch_quota} batches a day; "
            "the quota resets at midnight"
        )
    return batch


def _create_batch(
    client: Client,
    kind: BatchKind,
    items: Sequence[tuple[int, str]],
    chain_id: str,
    sector_id: str,
    supplier_id: str,
    now: datetime,
) -> Batch:
    batch = Batch.objects.create(
        client=client,
        kind=kind,
        chain_id=chain_id,
        sector_id=sector_id,
        supplier_id=supplier_id,
        item_count=len(items),
        created_at=now,
        expires_at=now + timedelta(seconds=settings.NV_BATCH_RESULT_TTL_SECONDS),
    )
    BatchChunk.objects.bulk_create(
        BatchChunk(batch=batch, sequence=sequence, items=orjson.dumps(part))
        for sequence, part in enumerate(batched(items, settings.NV_BATCH_CHUNK_SIZE))
    )
    record(
        events.BATCH_SUBMITTED,
        client.audit_actor,
        f"nv-batch:{batch.pk}",
        {"kind": kind.value, "items": len(items)},
    )
    return batch


def _own_batch(client: Client, batch_id: str | uuid.UUID, *, lock: bool = False) -> Batch:
    try:
        key = batch_id if isinstance(batch_id, uuid.UUID) else uuid.UUID(batch_id)
    except ValueError:
        raise BatchNotFound("no batch with this identifier") from None
    batches = Batch.objects.select_for_update() if lock else Batch.objects
    batch = batches.filter(pk=key, client=client).first()
    if batch is None:
        raise BatchNotFound("no batch with this identifier")
    return batch


def _remove(batch: Batch, now: datetime) -> None:
    batch.chunks.all().delete()
    batch.status = BatchStatus.REMOVED
    batch.closed_at = now
    batch.save(update_fields=["status", "closed_at"])
    record(events.BATCH_REMOVED, SYSTEM, f"nv-batch:{batch.pk}", {"items": batch.item_count})


def batch_progress(client: Client, batch_id: str | uuid.UUID) -> dict[str, Any]:
    """Status without side effects: counts only."""
    batch = _own_batch(client, batch_id)
    chunks = batch.chunks.all()
    return {
        "batch_id": str(batch.pk),
        "kind": batch.kind,
        "status": batch.status,
        "items": batch.item_count,
        "finished": batch.status == BatchStatus.OPEN and not chunks.filter(done=False).exists(),
        "expires_at": batch.expires_at,
    }


def retrieve_batch(client: Client, batch_id: str | uuid.UUID) -> BatchResult:
    """Hand out a finished batch's results once, then delete them.

    Supplier pseudonyms are handed out only while the client may still obtain them: a supplier
    removed from a hub's registration after the batch was submitted is refused here too.
    """
    now = timezone.now()
    batch = _own_batch(client, batch_id)
    if batch.kind == BatchKind.SUPPLIER:
        check_supplier_permitted(client, batch.supplier_id, "retrieve-supplier-batch")
    with transaction.atomic():
        batch = _own_batch(client, batch_id, lock=True)
        if batch.status == BatchStatus.OPEN and batch.expires_at <= now:
            _remove(batch, now)  # committed before the error is raised below
    if batch.status == BatchStatus.REMOVED:
        raise ContentRemoved("this batch expired and its results were removed")
    with transaction.atomic():
        batch = _own_batch(client, batch_id, lock=True)
        if batch.status == BatchStatus.RETRIEVED:
            raise AlreadyRetrieved("the results of this batch were already retrieved")
        if batch.status == BatchStatus.REMOVED:
            raise ContentRemoved("this batch expired and its results were removed")
        if batch.chunks.filter(done=False).exists():
            raise NotFinished("this batch is still being processed; try again later")
        success: list[tuple[int, str]] = []
        failed: list[tuple[int, str]] = []
        for results in batch.chunks.order_by("sequence").values_list("results", flat=True):
            outcome = orjson.loads(bytes(results or b"{}"))
            success.extend((index, value) for index, value in outcome["success"])
            failed.extend((index, message) for index, message in outcome["failed"])
        batch.chunks.all().delete()
        batch.status = BatchStatus.RETRIEVED
        batch.closed_at = now
        batch.save(update_fields=["status", "closed_at"])
        record(events.BATCH_RETRIEVED, client.audit_actor, f"nv-batch:{batch.pk}")
    success.sort()
    failed.sort()
    return BatchResult(success=success, failed=failed)


def _derive_chunk(batch: Batch, items: list[list[Any]]) -> dict[str, list[list[Any]]]:
    """Results of one chunk: ``{"success": [[index, value]], "failed": [[index, message]]}``."""
    deriver = get_deriver()
    success: list[list[Any]] = []
    failed: list[list[Any]] = []
    if batch.kind == BatchKind.STAMPSEUDONYM:
        valid: list[tuple[int, bytes]] = []
        for index, value in items:
            try:
                valid.append((index, deriver.anchor(value if isinstance(value, str) else "")))
            except DerivationError as error:
                failed.append([index, error.message])
        roots = _resolve_anchors([anchor for _, anchor in valid], timezone.now())
        success = [
            [index, deriver.stampseudonym(root)]
            for (index, _), root in zip(valid, roots, strict=True)
        ]
        return {"success": success, "failed": failed}
    derive: Callable[[str], str]
    if batch.kind == BatchKind.ECK_ID:
        chain_id, sector_id = batch.chain_id, batch.sector_id

        def derive(value: str) -> str:
            return deriver.eck_id(value, chain_id, sector_id)
    else:
        supplier_id, sector_id = batch.supplier_id, batch.sector_id

        def derive(value: str) -> str:
            return deriver.supplier_pseudonym(value, supplier_id, sector_id)

    for index, value in items:
        try:
            success.append([index, derive(value if isinstance(value, str) else "")])
        except DerivationError as error:
            failed.append([index, error.message])
    return {"success": success, "failed": failed}


def claim_chunk(worker_id: str) -> BatchChunk | None:
    """Lease the next chunk that is free (new, or its lease ran out) to ``worker_id``; None when
    there is none. :func:`process_next_chunk` claims and processes one."""
    now = timezone.now()
    with transaction.atomic():
        candidates = BatchChunk.objects.claimable(now).order_by("id")
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        chunk_id = candidates.values_list("id", flat=True).first()
        if chunk_id is None:
            return None
        claimed = (
            BatchChunk.objects.claimable(now)
            .filter(id=chunk_id)
            .update(
                lease_owner=worker_id,
                lease_until=now + timedelta(seconds=settings.NV_BATCH_LEASE_SECONDS),
            )
        )
    if not claimed:
        return None
    return BatchChunk.objects.select_related("batch").get(id=chunk_id)


def process_next_chunk(worker_id: str) -> bool:
    """Process one claimable chunk; False when there was none.

    The results, the emptied items and ``done`` are written in one statement that only succeeds
    while this worker still holds the lease: a chunk is never half-done and never done twice.
    """
    chunk = claim_chunk(worker_id)
    if chunk is None:
        return False
    outcome = _derive_chunk(chunk.batch, orjson.loads(bytes(chunk.items or b"[]")))
    with transaction.atomic():
        stored = BatchChunk.objects.filter(id=chunk.pk, lease_owner=worker_id, done=False).update(
            results=orjson.dumps(outcome), items=b"", done=True, lease_until=None
        )
    if not stored:
        logger.warning("nv.chunk.lease_lost", chunk=chunk.pk, worker=worker_id)
    return True


def purge_expired(now: datetime | None = None) -> int:
    """Remove expired unretrieved batches (items and results); return how many."""
    now = now or timezone.now()
    expired = Batch.objects.filter(status=BatchStatus.OPEN, expires_at__lte=now)
    count = 0
    for batch_id in expired.values_list("pk", flat=True):
        with transaction.atomic():
            batch = Batch.objects.select_for_update().get(pk=batch_id)
            if batch.status == BatchStatus.OPEN:
                _remove(batch, now)
                count += 1
    return count


def run_worker(
    stop: threading.Event, *, worker_id: str | None = None, idle_seconds: float = 0.2
) -> None:
    """Process batches until ``stop`` is set. Survives a database restart (retries, reconnects)."""
    worker_id = worker_id or f"worker-{uuid.uuid4().hex[:12]}"
    logger.info("nv.worker.started", worker=worker_id)
    next_purge = 0.0
    while not stop.is_set():
        try:
            if time.monotonic() >= next_purge:
                purge_expired()
                next_purge = time.monotonic() + 60
            worked = process_next_chunk(worker_id)
        except DatabaseError as error:
            logger.warning("nv.worker.database_error", worker=worker_id, error=type(error).__name__)
            close_old_connections()
            connection.close()
            stop.wait(1.0)
            continue
        if not worked:
            close_old_connections()
            stop.wait(idle_seconds)
    logger.info("nv.worker.stopped", worker=worker_id)


# --- Key rotation conversions --------------------------------------------------------------------


@dataclass(frozen=True)
class Conversion:
    old: str
    new: str | None
    error: str | None


def convert_values(kind: str, values: Iterable[str], *, actor: str = SYSTEM) -> list[Conversion]:
    """The conversion table for a chain party: each old value at the current key version."""
    layer = get_deriver().layers[kind]
    table = []
    for value in values:
        try:
            table.append(Conversion(value, layer.convert(value), None))
        except DerivationError as error:
            table.append(Conversion(value, None, error.message))
    record(events.CONVERSION_PRODUCED, actor, details={"kind": kind, "rows": len(table)})
    return table
