"""The hub's client of the number service: the only way other apps reach it (DESIGN §3).

Everything goes over the number service's JSON API (``{REGIE_NV_URL}/api/v1/``), also when the hub
and the number service run in one process: no app reads the number service's database or calls
its Python internals. One pooled ``httpx.Client`` per configuration, from :func:`get_client`::

    client = get_client()
    stampseudonym = client.stampseudonym(hpgn)
    result = client.run_batch("eckid", stampseudonyms, chain_id=chain, sector_id=sector)

Supplier pseudonyms are for a hub client only, for the suppliers its registration names. The hub
declares them itself (:meth:`NummervoorzieningClient.declare_suppliers`: those its boards have a
signed or active processing agreement with). When the number service refuses a supplier as
undeclared (:class:`SupplierNotDeclared`), a client with a *supplier declarer*
(:func:`set_supplier_declarer`, set by the hub's agreements app) lets it declare the hub's
suppliers and asks once more, so that a hub heals itself after a declaration was lost to an
outage.

Errors are typed. The server's RFC 9457 problem details become a
:class:`NummervoorzieningClientError` subclass with the problem's ``code``, ``status`` and
``detail``; a server that cannot be reached (refused, timed out, broken connection) becomes
:class:`NummervoorzieningUnavailable`. No identifier ever appears in an exception message or a log
line: the server's details do not echo values, and they are masked here once more.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache, partial
from types import TracebackType
from typing import Any, ClassVar, Literal, Self, TypeVar
from urllib.parse import quote

import httpx
import orjson
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from regie.lib.logging import get_logger, mask_text

logger = get_logger(__name__)

USER_AGENT = "regie-nummervoorziening-client/0.1"
API_PATH = "/api/v1/"

T = TypeVar("T")
BatchKindName = Literal["stampseudonym", "eckid", "supplier"]
SupplierDeclarer = Callable[["NummervoorzieningClient"], object]
_BATCH_PATHS: dict[str, tuple[str, str]] = {
    # kind → (submit path, name of the value field of one item)
    "stampseudonym": ("batches/stampseudonyms", "hpgn"),
    "eckid": ("batches/eck-ids", "stampseudonym"),
    "supplier": ("batches/supplier-pseudonyms", "eckId"),
}


# --- Errors --------------------------------------------------------------------------------------


class NummervoorzieningClientError(Exception):
    """The number service refused a call. ``code`` is the problem type's last part (stable)."""

    default_code: ClassVar[str] = "error"

    def __init__(self, detail: str, *, code: str | None = None, status: int | None = None) -> None:
        self.detail = mask_text(detail)
        self.code = code or self.default_code
        self.status = status
        super().__init__(self.detail)

    def __str__(self) -> str:
        where = f"{self.status} " if self.status is not None else ""
        return f"{where}{self.code}: {self.detail}"


class NummervoorzieningUnavailable(NummervoorzieningClientError):
    """The number service could not be reached or did not answer in time (``status`` is None)."""

    default_code = "unavailable"


class AuthenticationFailed(NummervoorzieningClientError):
    """The API key (or client certificate) was missing, unknown or revoked."""

    default_code = "authentication-failed"


class ClientBlocked(NummervoorzieningClientError):
    """This client is temporarily blocked by the number service."""

    default_code = "temporary-blocked"


class InvalidInput(NummervoorzieningClientError):
    """The request was refused as a whole: a malformed value, unknown chain or sector, …"""

    default_code = "invalid-input"


class BatchTooLarge(InvalidInput):
    default_code = "batch-too-large"


class QuotaExceeded(NummervoorzieningClientError):
    """The daily batch quota of this client is used up; it resets at midnight."""

    default_code = "daily-batch-quota-exceeded"


class SubstitutionRefused(NummervoorzieningClientError):
    default_code = "substitution-conflict"


class OperationNotPermitted(NummervoorzieningClientError):
    """This client's role does not allow the call (supplier pseudonyms for a LAS client)."""

    default_code = "operation-not-permitted"


class SupplierNotDeclared(NummervoorzieningClientError):
    """The supplier is not among the suppliers this hub client declared."""

    default_code = "supplier-not-declared"


class BatchNotFound(NummervoorzieningClientError):
    default_code = "batch-not-found"


class BatchNotFinished(NummervoorzieningClientError):
    """The batch is still being processed (or did not finish within the wait of ``run_batch``)."""

    default_code = "batch-not-finished"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        status: int | None = None,
        batch_ids: Sequence[str] = (),
    ) -> None:
        super().__init__(detail, code=code, status=status)
        self.batch_ids = list(batch_ids)


class BatchAlreadyRetrieved(NummervoorzieningClientError):
    """The results of this batch were handed out before; they are fetched only once."""

    default_code = "batch-already-retrieved"


class BatchRemoved(NummervoorzieningClientError):
    """The batch expired unretrieved and its results were removed."""

    default_code = "batch-removed"


_ERRORS_BY_CODE: dict[str, type[NummervoorzieningClientError]] = {
    "authentication-failed": AuthenticationFailed,
    "temporary-blocked": ClientBlocked,
    "batch-not-found": BatchNotFound,
    "batch-not-finished": BatchNotFinished,
    "batch-already-retrieved": BatchAlreadyRetrieved,
    "batch-removed": BatchRemoved,
    "batch-too-large": BatchTooLarge,
    "daily-batch-quota-exceeded": QuotaExceeded,
    "substitution-conflict": SubstitutionRefused,
    "operation-not-permitted": OperationNotPermitted,
    "supplier-not-declared": SupplierNotDeclared,
    "service-unavailable": NummervoorzieningUnavailable,
}
_ERRORS_BY_STATUS: dict[int, type[NummervoorzieningClientError]] = {
    400: InvalidInput,
    401: AuthenticationFailed,
    403: ClientBlocked,
    404: BatchNotFound,
    413: BatchTooLarge,
    422: InvalidInput,
    429: QuotaExceeded,
    502: NummervoorzieningUnavailable,
    503: NummervoorzieningUnavailable,
    504: NummervoorzieningUnavailable,
}
_PROBLEM_PREFIX = "urn:regie:problem:"


def error_from_response(response: httpx.Response) -> NummervoorzieningClientError:
    """The typed error for a non-2xx response: from its problem detail, or from its status."""
    status = response.status_code
    try:
        problem = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        problem = None
    if not isinstance(problem, dict) or not isinstance(problem.get("type"), str):
        fallback = _ERRORS_BY_STATUS.get(status, NummervoorzieningClientError)
        return fallback(
            f"the number service answered HTTP {status} without a problem detail",
            code="unexpected-response",
            status=status,
        )
    problem_type: str = problem["type"]
    code = problem_type.removeprefix(_PROBLEM_PREFIX)
    detail = problem.get("detail") or problem.get("title") or code
    error_class = _ERRORS_BY_CODE.get(code) or _ERRORS_BY_STATUS.get(status)
    if error_class is None:
        error_class = InvalidInput if 400 <= status < 500 else NummervoorzieningClientError
    return error_class(str(detail), code=code, status=status)


# --- Results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ping:
    available: bool
    application_version: str
    system_time: datetime


@dataclass(frozen=True)
class Chain:
    id: str
    name: str
    description: str
    last_edited: datetime


@dataclass(frozen=True)
class Sector:
    id: str
    code: str
    name: str
    description: str
    last_edited: datetime


@dataclass(frozen=True)
class Registration:
    """This client's registration at the number service."""

    oin: str
    name: str
    role: str  # "las" or "hub"
    suppliers: tuple[str, ...]


@dataclass(frozen=True)
class SupplierDeclaration:
    """The suppliers after a declaration, and which were added and removed by it."""

    suppliers: tuple[str, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]


@dataclass(frozen=True)
class BatchProgress:
    batch_id: str
    kind: str
    status: str
    finished: bool
    items: int
    expires_at: datetime


@dataclass
class BatchResult:
    """A batch's outcome by the caller's index: the value, or why that item failed."""

    success: dict[int, str] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)

    def update(self, other: BatchResult) -> None:
        self.success.update(other.success)
        self.failed.update(other.failed)


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _indexed(values: Sequence[str] | Mapping[int, str]) -> list[tuple[int, str]]:
    """Items as ``(index, value)``: a mapping keeps its keys, a sequence is numbered from 0."""
    if isinstance(values, Mapping):
        return list(values.items())
    return list(enumerate(values))


# --- The client ----------------------------------------------------------------------------------


class NummervoorzieningClient:
    """A connection-pooled client of one number service. Thread-safe; close it when done."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        timeout: float,
        *,
        max_batch_items: int | None = None,
        transport: httpx.BaseTransport | None = None,
        supplier_declarer: SupplierDeclarer | None = None,
    ) -> None:
        """``base_url`` is where the number service is mounted (``REGIE_NV_URL``).

        ``max_batch_items`` is the largest batch ``run_batch`` submits (default: the
        ``NV_BATCH_MAX_ITEMS`` setting); a server that refuses that size gets halves.
        ``supplier_declarer(client)`` declares the hub's suppliers when a supplier is refused as
        undeclared (then the call is made once more); without it that refusal is raised.
        """
        self.base_url = base_url.rstrip("/")
        self.max_batch_items = max_batch_items
        self.supplier_declarer = supplier_declarer
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._http = httpx.Client(
            base_url=self.base_url + API_PATH,
            headers=headers,
            timeout=timeout,
            transport=transport or httpx.HTTPTransport(retries=1),
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"NummervoorzieningClient({self.base_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- Transport -------------------------------------------------------------------------------

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        content = None if body is None else orjson.dumps(body)
        headers = {"Content-Type": "application/json"} if content is not None else None
        try:
            response = self._http.request(method, path, content=content, headers=headers)
        except httpx.TimeoutException as error:
            logger.warning("nv.client.timeout", url=self.base_url, path=path)
            raise NummervoorzieningUnavailable(
                f"the number service at {self.base_url} did not answer within "
                f"{self._http.timeout.read} seconds ({type(error).__name__})"
            ) from error
        except httpx.TransportError as error:
            logger.warning("nv.client.unreachable", url=self.base_url, path=path)
            raise NummervoorzieningUnavailable(
                f"the number service at {self.base_url} cannot be reached "
                f"({type(error).__name__}); is it running, and is REGIE_NV_URL right?"
            ) from error
        if response.is_success:
            try:
                return orjson.loads(response.content)
            except orjson.JSONDecodeError:
                raise NummervoorzieningClientError(
                    "the number service answered with a body that is not JSON",
                    code="unexpected-response",
                    status=response.status_code,
                ) from None
        refusal = error_from_response(response)
        logger.info("nv.client.refused", path=path, status=refusal.status, code=refusal.code)
        raise refusal

    # --- Operations ------------------------------------------------------------------------------

    def ping(self) -> Ping:
        body = self._request("GET", "ping")
        return Ping(
            available=bool(body["available"]),
            application_version=body["applicationVersion"],
            system_time=_moment(body["systemTime"]),
        )

    def stampseudonym(self, hpgn: str) -> str:
        """The stampseudonym of a first-step hash (after substitutions)."""
        body = self._request("POST", "stampseudonyms", {"hpgn": hpgn})
        value: str = body["stampseudonym"]
        return value

    def eck_id(self, stampseudonym: str, chain_id: str, sector_id: str) -> str:
        body = self._request(
            "POST",
            "eck-ids",
            {"stampseudonym": stampseudonym, "chainId": chain_id, "sectorId": sector_id},
        )
        value: str = body["eckId"]
        return value

    def supplier_pseudonym(self, eck_id: str, supplier_id: str, sector_id: str) -> str:
        """The pupil's pseudonym at a supplier (hub clients, for declared suppliers)."""
        body = self._declaring(
            lambda: self._request(
                "POST",
                "supplier-pseudonyms",
                {"eckId": eck_id, "supplierId": supplier_id, "sectorId": sector_id},
            )
        )
        value: str = body["supplierPseudonym"]
        return value

    # --- This client's registration --------------------------------------------------------------

    def registration(self) -> Registration:
        """This client's role and (for a hub) the suppliers it may obtain pseudonyms for."""
        body = self._request("GET", "clients/me")
        return Registration(
            oin=body["oin"],
            name=body["name"],
            role=body["role"],
            suppliers=tuple(body["suppliers"]),
        )

    def declare_suppliers(self, supplier_ids: Collection[str]) -> SupplierDeclaration:
        """Declare every supplier this hub obtains pseudonyms for (replaces the previous list)."""
        body = self._request("PUT", "clients/me/suppliers", {"suppliers": sorted(supplier_ids)})
        declaration = SupplierDeclaration(
            suppliers=tuple(body["suppliers"]),
            added=tuple(body["added"]),
            removed=tuple(body["removed"]),
        )
        logger.info(
            "nv.client.suppliers_declared",
            suppliers=len(declaration.suppliers),
            added=len(declaration.added),
            removed=len(declaration.removed),
        )
        return declaration

    def _declaring(self, call: Callable[[], T]) -> T:
        """``call()``; when it is refused for an undeclared supplier and this client has a
        supplier declarer, let it declare the hub's suppliers and call once more."""
        try:
            return call()
        except SupplierNotDeclared:
            if self.supplier_declarer is None:
                raise
            logger.warning("nv.client.supplier_not_declared", action="declaring again")
            self.supplier_declarer(self)
            return call()

    def replace_stampseudonym(
        self, hpgn_new: str, hpgn_old: str, effective_date: datetime | date | None = None
    ) -> str:
        """From ``effective_date`` (default now) on, ``hpgn_new`` gets ``hpgn_old``'s stampseudonym.

        A ``date`` means the start of that day in the configured time zone; a ``datetime`` must be
        aware. Returns the stampseudonym the pupil keeps.
        """
        body: dict[str, Any] = {"hpgnNew": hpgn_new, "hpgnOld": hpgn_old}
        if effective_date is not None:
            body["effectiveDate"] = _aware(effective_date).isoformat()
        answer = self._request("POST", "substitutions", body)
        value: str = answer["stampseudonym"]
        return value

    def chains(self) -> list[Chain]:
        return [
            Chain(
                id=item["id"],
                name=item["name"],
                description=item["description"],
                last_edited=_moment(item["lastEdited"]),
            )
            for item in self._request("GET", "chains")
        ]

    def sectors(self) -> list[Sector]:
        return [
            Sector(
                id=item["id"],
                code=item["code"],
                name=item["name"],
                description=item["description"],
                last_edited=_moment(item["lastEdited"]),
            )
            for item in self._request("GET", "sectors")
        ]

    # --- Batches ---------------------------------------------------------------------------------

    def _submit(
        self, kind: BatchKindName, items: Sequence[tuple[int, str]], context: dict[str, str]
    ) -> str:
        path, value_field = _BATCH_PATHS[kind]
        body = {
            **context,
            "items": [{"index": index, value_field: value} for index, value in items],
        }
        batch_id: str = self._request("POST", path, body)["batchId"]
        logger.info("nv.client.batch_submitted", kind=kind, batch=batch_id, items=len(items))
        return batch_id

    def submit_stampseudonym_batch(self, hpgns: Sequence[str] | Mapping[int, str]) -> str:
        """Submit HPgns (numbered from 0, or keyed by your own index); returns the batch id."""
        return self._submit("stampseudonym", _indexed(hpgns), {})

    def submit_eck_id_batch(
        self, stampseudonyms: Sequence[str] | Mapping[int, str], chain_id: str, sector_id: str
    ) -> str:
        context = {"chainId": chain_id, "sectorId": sector_id}
        return self._submit("eckid", _indexed(stampseudonyms), context)

    def submit_supplier_pseudonym_batch(
        self, eck_ids: Sequence[str] | Mapping[int, str], supplier_id: str, sector_id: str
    ) -> str:
        context = {"supplierId": supplier_id, "sectorId": sector_id}
        return self._declaring(lambda: self._submit("supplier", _indexed(eck_ids), context))

    def batch_progress(self, batch_id: str) -> BatchProgress:
        body = self._request("GET", f"batches/{quote(batch_id, safe='')}")
        return BatchProgress(
            batch_id=str(body["batchId"]),
            kind=body["kind"],
            status=body["status"],
            finished=bool(body["finished"]),
            items=int(body["items"]),
            expires_at=_moment(body["expiresAt"]),
        )

    def retrieve_batch(self, batch_id: str) -> BatchResult:
        """A finished batch's results, once: :class:`BatchNotFinished` while it is running,
        :class:`BatchAlreadyRetrieved` the second time."""
        return self._declaring(lambda: self._retrieve(batch_id))

    def _retrieve(self, batch_id: str) -> BatchResult:
        body = self._request("POST", f"batches/{quote(batch_id, safe='')}/retrieve")
        result = BatchResult(
            success={item["index"]: item["value"] for item in body["success"]},
            failed={item["index"]: item["errorMessage"] for item in body["failed"]},
        )
        logger.info(
            "nv.client.batch_retrieved",
            batch=batch_id,
            succeeded=len(result.success),
            failed=len(result.failed),
        )
        return result

    def run_batch(
        self,
        kind: BatchKindName,
        values: Sequence[str] | Mapping[int, str],
        *,
        chain_id: str = "",
        sector_id: str = "",
        supplier_id: str = "",
        max_wait_seconds: float = 3600.0,
        first_poll_seconds: float = 0.05,
        max_poll_seconds: float = 2.0,
    ) -> BatchResult:
        """Submit ``values`` in batches the server accepts, wait for them and return every result.

        Results are keyed by the caller's index (a sequence's position or a mapping's key). All
        batches are submitted first, so the server works while the rest are sent; then each is
        polled with backoff and retrieved as soon as it is finished. Raises
        :class:`BatchNotFinished` (with the open ``batch_ids``) after ``max_wait_seconds``.
        """
        if kind not in _BATCH_PATHS:
            raise ValueError(f"unknown batch kind {kind!r}; one of {', '.join(_BATCH_PATHS)}")
        run = partial(
            self._run_batch,
            kind,
            values,
            chain_id=chain_id,
            sector_id=sector_id,
            supplier_id=supplier_id,
            max_wait_seconds=max_wait_seconds,
            first_poll_seconds=first_poll_seconds,
            max_poll_seconds=max_poll_seconds,
        )
        return self._declaring(run) if kind == "supplier" else run()

    def _run_batch(
        self,
        kind: BatchKindName,
        values: Sequence[str] | Mapping[int, str],
        *,
        chain_id: str,
        sector_id: str,
        supplier_id: str,
        max_wait_seconds: float,
        first_poll_seconds: float,
        max_poll_seconds: float,
    ) -> BatchResult:
        context = {
            "stampseudonym": {},
            "eckid": {"chainId": chain_id, "sectorId": sector_id},
            "supplier": {"supplierId": supplier_id, "sectorId": sector_id},
        }[kind]
        items = _indexed(values)
        deadline = time.monotonic() + max_wait_seconds
        batch_ids = self._submit_all(kind, items, context)
        result = BatchResult()
        pending = deque(batch_ids)
        pause = first_poll_seconds
        while pending:
            if self.batch_progress(pending[0]).finished:
                result.update(self._retrieve(pending.popleft()))
                pause = first_poll_seconds
                continue
            if time.monotonic() + pause > deadline:
                raise BatchNotFinished(
                    f"{len(pending)} of {len(batch_ids)} batches did not finish within "
                    f"{max_wait_seconds:g} seconds",
                    batch_ids=list(pending),
                )
            time.sleep(pause)
            pause = min(pause * 1.5, max_poll_seconds)
        return result

    def _submit_all(
        self, kind: BatchKindName, items: list[tuple[int, str]], context: dict[str, str]
    ) -> list[str]:
        size = self.max_batch_items or int(settings.NV_BATCH_MAX_ITEMS)
        batch_ids: list[str] = []
        start = 0
        while start < len(items):
            part = items[start : start + size]
            try:
                batch_ids.append(self._submit(kind, part, context))
            except BatchTooLarge:
                if size == 1:
                    raise
                size = max(1, size // 2)
                logger.warning("nv.client.batch_size_reduced", kind=kind, size=size)
                continue
            start += len(part)
        return batch_ids


def _aware(moment: datetime | date) -> datetime:
    from django.utils import timezone

    if not isinstance(moment, datetime):
        return datetime.combine(moment, datetime.min.time(), tzinfo=timezone.get_current_timezone())
    if timezone.is_naive(moment):
        raise ValueError("effective_date must be timezone-aware (or a date)")
    return moment


# --- From settings -------------------------------------------------------------------------------

_supplier_declarer: SupplierDeclarer | None = None


def set_supplier_declarer(declarer: SupplierDeclarer | None) -> None:
    """What :func:`get_client`'s client calls when a supplier is refused as undeclared, before it
    asks once more. The hub's agreements app sets it when Django starts: it declares the suppliers
    the hub's boards have a signed or active processing agreement with."""
    global _supplier_declarer
    _supplier_declarer = declarer


def _current_supplier_declarer(client: NummervoorzieningClient) -> object:
    if _supplier_declarer is None:
        raise SupplierNotDeclared(
            "the supplier is not declared, and this hub has nothing set up to declare it"
        )
    return _supplier_declarer(client)


@cache
def get_client() -> NummervoorzieningClient:
    """The hub's client, configured by ``REGIE_NV_URL``, ``REGIE_NV_API_KEY`` and
    ``REGIE_NV_TIMEOUT_SECONDS``; shared (one connection pool per process)."""
    return NummervoorzieningClient(
        settings.NV_CLIENT_URL,
        settings.NV_CLIENT_API_KEY,
        float(settings.NV_CLIENT_TIMEOUT_SECONDS),
        supplier_declarer=_current_supplier_declarer,
    )


@receiver(setting_changed)
def _forget_client(*, setting: str, **kwargs: Any) -> None:
    if setting in {"NV_CLIENT_URL", "NV_CLIENT_API_KEY", "NV_CLIENT_TIMEOUT_SECONDS"}:
        if get_client.cache_info().currsize:
            get_client().close()
        get_client.cache_clear()
