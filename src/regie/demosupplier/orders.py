"""The demo supplier's side of the hub's order channel (``docs/supplier-orders.md``).

``POST /orders``: the hub's signed order (RFC 9421 HTTP Message Signatures with the hub's Ed25519
key, ``Content-Digest`` per RFC 9530, Standard Webhooks' id and timestamp). The supplier

1. verifies it with :func:`regie.lib.supplier_orders.verify_order_request` against the hub's JWKS
   (``<issuer>/jwks``, fetched with httpx, cached, fetched again once for a key id it does not
   know) — a bad signature is ``401``, an order it cannot read ``400``;
2. acts on it at once on what it holds (:mod:`.holdings`): erasure deletes (with
   ``details.attributes``: only those attributes of the claims kept), access reads,
   restriction and objection mark (nothing is processed for the pupil any more), a rectification
   notice is noted, the end of the contract deletes everything;
3. answers ``200 {"receipts": [accepted, completed]}``, both signed with the supplier's own key
   (the one registered at the hub for ``private_key_jwt``).

Idempotent by order id: a repeated order gets the receipts made the first time and nothing is done
again. ``GET /opdrachten`` shows the orders received, for the demo's viewer.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from typing import Any

import httpx

from regie.lib.logging import get_logger
from regie.lib.supplier_orders import OrderSignatureError, make_receipt, verify_order_request

from .holdings import Holdings

logger = get_logger(__name__)

MAX_ORDER_BODY = 1024 * 1024
MAX_SUBJECTS = 10_000
UNKNOWN_KID_PAUSE = 60.0  # a key id the hub did not publish is not asked for again this soon
TIMEOUT_SECONDS = 10.0
TYPES = {
    "erasure": "Wissen",
    "rectification-notice": "Melding van een correctie",
    "access": "Inzage",
    "restriction": "Beperking van de verwerking",
    "objection": "Bezwaar",
    "end-of-contract-destruction": "Vernietiging aan het einde van het contract",
    "legacy-conversion": "Omzetting van oude nummers",
}
FIELDS = {"id", "type", "issuer", "subjects", "legal_basis", "deadline", "created", "receipts"}
BODY_REASONS = {"body is not JSON", "body is not an order"}  # verify_order_request's reasons
KEYID = re.compile(r';\s*keyid="([^"\\]{1,200})"')


class OrderRefused(Exception):
    """The order is not taken; ``status`` is the HTTP answer, the text a short reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Signer:
    """Who signs the receipts: the registered client and its private JWK."""

    client_id: str
    private_jwk: dict[str, Any]


@dataclass
class Handled:
    """An order received and acted on, with the answer it got (given again on a repeat)."""

    order_id: str
    digest: str
    type: str
    subjects: int
    deadline: str
    legal_basis: str
    received_at: datetime
    statement: str
    receipts: list[str]
    deliveries: int = 1
    answer: bytes = field(default=b"", repr=False)


class HubKeys:
    """The hub's JWKS, read from ``url`` once and read again for a key id it does not hold."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.fetches = 0
        self._jwks: dict[str, Any] | None = None
        self._missing: dict[str, float] = {}
        self._lock = threading.Lock()

    def for_kid(self, kid: str | None) -> dict[str, Any]:
        with self._lock:
            if self._jwks is None or (kid is not None and not self._has(kid) and self._may(kid)):
                self._jwks = self._fetch()
                if kid is not None and not self._has(kid):
                    self._missing[kid] = time.monotonic()
            return self._jwks

    def _has(self, kid: str) -> bool:
        keys = (self._jwks or {}).get("keys", [])
        return any(isinstance(key, dict) and key.get("kid") == kid for key in keys)

    def _may(self, kid: str) -> bool:
        asked = self._missing.get(kid)
        return asked is None or time.monotonic() - asked > UNKNOWN_KID_PAUSE

    def _fetch(self) -> dict[str, Any]:
        self.fetches += 1
        try:
            answer = httpx.get(self.url, timeout=TIMEOUT_SECONDS)
            answer.raise_for_status()
            jwks: Any = answer.json()
        except (httpx.HTTPError, ValueError):
            raise OrderRefused(503, "the hub's JWKS could not be read") from None
        if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
            raise OrderRefused(503, "the hub's JWKS is not a JWKS")
        return jwks


def wsgi_headers(environ: Mapping[str, Any]) -> dict[str, str]:
    """The request's header fields, by lower-case name, from a WSGI environment."""
    headers = {
        key[5:].replace("_", "-").lower(): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    for key, name in (("CONTENT_TYPE", "content-type"), ("CONTENT_LENGTH", "content-length")):
        if environ.get(key):
            headers[name] = str(environ[key])
    return headers


class OrderDesk:
    """Receives the hub's orders for one demo supplier."""

    def __init__(
        self,
        *,
        issuer: str,
        endpoint: str,
        holdings: Holdings,
        signer: Callable[[], Signer | None],
        forget: Callable[[set[str] | None], None],
        jwks_url: str | None = None,
        tolerance: int = 300,
        keeps_erased: bool = False,
    ) -> None:
        self.issuer = issuer
        self.endpoint = endpoint
        self.holdings = holdings
        self.signer = signer
        self.forget = forget  # the sessions' copies too (None: every session)
        self.hub_keys = HubKeys(jwks_url or issuer.rstrip("/") + "/jwks")
        self.tolerance = tolerance
        # For tests only: a misbehaving supplier that confirms an erasure and keeps the data
        # (the hub's canaries catch it: regie.retention.canaries).
        self.keeps_erased = keeps_erased
        self.handled: dict[str, Handled] = {}
        self._lock = threading.Lock()
        # Destroys the legacy named data (motion 9) and says what was done; None: holds none.
        self.destroy_legacy: Callable[[], str] | None = None

    # --- receiving -------------------------------------------------------------------------------

    def receive(self, environ: Mapping[str, Any]) -> tuple[int, bytes]:
        """The answer to ``POST /orders``: status and JSON body."""
        try:
            return 200, self._receive(environ)
        except OrderRefused as refusal:
            logger.info("demosupplier.order.refused", status=refusal.status, reason=refusal.reason)
            problem = {
                "type": "about:blank",
                "title": {400: "Bad Request", 401: "Unauthorized", 409: "Conflict"}.get(
                    refusal.status, "Not accepted"
                ),
                "status": refusal.status,
                "detail": refusal.reason,
            }
            return refusal.status, json.dumps(problem).encode()

    def _receive(self, environ: Mapping[str, Any]) -> bytes:
        headers = wsgi_headers(environ)
        body = self._body(environ)
        query = str(environ.get("QUERY_STRING", ""))
        url = self.endpoint + (f"?{query}" if query else "")
        match = KEYID.search(headers.get("signature-input", ""))
        jwks = self.hub_keys.for_kid(match[1] if match else None)
        now = int(time.time())
        try:
            order = verify_order_request(
                method=str(environ.get("REQUEST_METHOD", "POST")),
                url=url,
                headers=headers,
                body=body,
                jwks=jwks,
                now=now,
                tolerance=self.tolerance,
            )
        except OrderSignatureError as error:
            # The signature held but the body is no order: that is a bad request, not a forgery.
            status = 400 if error.reason in BODY_REASONS else 401
            raise OrderRefused(status, error.reason) from None
        check_order(order, self.issuer)
        signer = self.signer()
        if signer is None:
            raise OrderRefused(503, "this supplier is not registered at the hub yet")
        digest = headers["content-digest"]
        with self._lock:  # one order at a time: a repeat waits and gets the first answer
            done = self.handled.get(order["id"])
            if done is not None:
                if done.digest != digest:
                    raise OrderRefused(409, "this order id was used for another order")
                done.deliveries += 1
                logger.info("demosupplier.order.repeated", order=order["id"])
                return done.answer
            statement, data = self.act(order)
            receipts = [
                make_receipt(
                    order=order,
                    order_digest=digest,
                    status=status,
                    subjects=list(order["subjects"]),
                    statement=text,
                    data=payload,
                    client_id=signer.client_id,
                    private_jwk=signer.private_jwk,
                    now=now,
                )
                for status, text, payload in (
                    ("accepted", "Opdracht ontvangen en in behandeling genomen.", {}),
                    ("completed", statement, data),
                )
            ]
            answer = json.dumps({"receipts": receipts}).encode()
            self.handled[order["id"]] = Handled(
                order_id=order["id"],
                digest=digest,
                type=order["type"],
                subjects=len(order["subjects"]),
                deadline=order["deadline"],
                legal_basis=order["legal_basis"],
                received_at=datetime.now(UTC),
                statement=statement,
                receipts=receipts,
                answer=answer,
            )
        logger.info(
            "demosupplier.order.done",
            order=order["id"],
            type=order["type"],
            subjects=len(order["subjects"]),
        )
        return answer

    def _body(self, environ: Mapping[str, Any]) -> bytes:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise OrderRefused(400, "Content-Length is not a number") from None
        if length > MAX_ORDER_BODY:
            raise OrderRefused(413, "the order is too large")
        body: bytes = environ["wsgi.input"].read(length) if length > 0 else b""
        return body

    def received(self) -> list[Handled]:
        """The orders handled, newest first."""
        with self._lock:
            return sorted(self.handled.values(), key=lambda item: item.received_at, reverse=True)

    # --- acting ----------------------------------------------------------------------------------

    def act(self, order: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Do what the order asks; the completed receipt's statement and data."""
        kind: str = order["type"]
        subjects: list[str] = list(order["subjects"])
        count = len(subjects)
        today = datetime.now(UTC).date().isoformat()
        attributes = erasure_attributes(order)
        if kind == "erasure" and attributes:
            erased = self.holdings.erase_attributes(subjects, attributes)
            self.forget(set(subjects))
            named = ", ".join(attributes)
            return (
                f"Vernietigingsverklaring: op {today} heeft de leverancier van {count} "
                f"leerling(en) alleen deze gegevens gewist: {named} ({erased} bewaard(e) "
                "gegeven(s) uit het inloggen). De andere gegevens blijven: de opdracht ging "
                "alleen over deze gegevens (ingetrokken toestemming). Ook de kopie van het "
                "inloggen in open sessies is gewist; bij het volgende inloggen krijgt de "
                "leverancier alleen wat de school nog vrijgeeft.",
                {},
            )
        if kind == "erasure":
            if self.keeps_erased:
                held = sum(1 for sub in subjects if self.holdings.holds(sub))
            else:
                held = self.holdings.erase(subjects)
                self.forget(set(subjects))
            return (
                f"Vernietigingsverklaring: op {today} heeft de leverancier alle gegevens van "
                f"{count} leerling(en) gewist (van {held} waren gegevens aanwezig): gegevens van "
                "het inloggen, de kopie van het rooster en de teruggestuurde resultaten. Er is "
                "niets bewaard.",
                {},
            )
        if kind == "end-of-contract-destruction":
            held = self.holdings.erase_all()
            self.forget(None)
            return (
                f"Vernietigingsverklaring: op {today}, aan het einde van het contract, heeft de "
                f"leverancier alle gegevens vernietigd die zij via regie kreeg ({held} "
                "pseudoniem(en), het rooster en de resultaten). Er is niets bewaard."
                + subprocessors_passed(order.get("details", {})),
                {},
            )
        if kind == "access":
            return (
                f"Inzage: hieronder staat alles wat de leverancier van {count} leerling(en) "
                "bewaart.",
                self.holdings.data(subjects),
            )
        if kind in {"restriction", "objection"}:
            if kind == "restriction":
                self.holdings.mark(subjects, restricted=True)
            else:
                self.holdings.mark(subjects, objected=True)
            return (
                f"Gemarkeerd: de gegevens van {count} leerling(en) worden niet meer verwerkt "
                "(alleen bewaard tot de school anders beslist).",
                {},
            )
        if kind == "rectification-notice":
            self.holdings.note(subjects, f"{today}: de school heeft gegevens gecorrigeerd")
            return (
                f"Genoteerd: de correctie voor {count} leerling(en) is vastgelegd; bij het "
                "volgende inloggen en het volgende rooster gebruikt de leverancier de "
                "gecorrigeerde gegevens.",
                {},
            )
        if self.destroy_legacy is not None:  # legacy-conversion
            return self.destroy_legacy(), {}
        return (  # legacy-conversion, with nothing held
            "Genoteerd: deze leverancier bewaart geen gegevens onder oude nummers; er was "
            "niets om te zetten.",
            {},
        )


def subprocessors_passed(details: Mapping[str, Any]) -> str:
    """The sentence of an end-of-contract statement that names the subprocessors the order was
    passed to (``details.subprocessors``: name and country), or ``""`` when it lists none."""
    listed = details.get("subprocessors")
    names = [
        f"{item['name']} ({item['country']})"
        for item in listed or []
        if isinstance(item, dict)
        and isinstance(item.get("name"), str)
        and isinstance(item.get("country"), str)
    ]
    if not names:
        return ""
    return (
        " De opdracht is doorgegeven aan de subverwerkers, die hun kopie ook vernietigden: "
        + "; ".join(names[:50])
        + "."
    )


def erasure_attributes(order: dict[str, Any]) -> list[str]:
    """The attributes an erasure order is limited to (``details.attributes``), or none: then it
    is about everything held."""
    attributes = order.get("details", {}).get("attributes")
    if not isinstance(attributes, list):
        return []
    return [item for item in attributes if isinstance(item, str) and 0 < len(item) <= 100]


def check_order(order: Any, issuer: str) -> None:
    """The order's body as the contract describes it, from this supplier's hub (else 400)."""
    if not isinstance(order, dict) or not set(order) >= FIELDS:
        raise OrderRefused(400, "the order lacks a field")
    if order["issuer"] != issuer:
        raise OrderRefused(400, "the order comes from another hub")
    if order["type"] not in TYPES:
        raise OrderRefused(400, "unknown order type")
    subjects = order["subjects"]
    if (
        not isinstance(subjects, list)
        or not subjects
        or len(subjects) > MAX_SUBJECTS
        or not all(isinstance(item, str) and 0 < len(item) <= 200 for item in subjects)
    ):
        raise OrderRefused(400, "subjects must be a list of pseudonyms")
    for name in ("id", "legal_basis", "deadline", "created", "receipts"):
        if not isinstance(order[name], str) or not order[name]:
            raise OrderRefused(400, f"{name} must be a text")
    if not isinstance(order.get("details", {}), dict):
        raise OrderRefused(400, "details must be an object")
    attributes = order.get("details", {}).get("attributes")
    if attributes is not None and (
        not isinstance(attributes, list)
        or not attributes
        or len(erasure_attributes(order)) != len(attributes)
    ):
        raise OrderRefused(400, "details.attributes must be a list of names")


def orders_page_body(desk: OrderDesk, title: str) -> str:
    """``GET /opdrachten``: the orders received, newest first, and what was done."""
    intro = (
        f"<p>Hier ziet u de opdrachten die scholen via regie aan {escape(title)} stuurden: "
        "bijvoorbeeld om de gegevens van een leerling te wissen. Elke opdracht is door regie "
        f"ondertekend; {escape(title)} controleert de handtekening, voert de opdracht uit en "
        "stuurt twee ondertekende ontvangstbewijzen terug: <em>ontvangen</em> en "
        "<em>uitgevoerd</em>.</p>"
    )
    handled = desk.received()
    if not handled:
        return intro + "<p>Nog geen opdrachten ontvangen.</p>" + BACK
    rows = "".join(
        f'<tr data-order="{escape(item.order_id)}">'
        f"<td>{escape(item.received_at.strftime('%d-%m-%Y %H:%M:%S'))} UTC</td>"
        f"<td>{escape(TYPES.get(item.type, item.type))}</td>"
        f"<td>{item.subjects}</td><td>{escape(item.deadline)}</td>"
        f"<td>{escape(item.legal_basis)}</td><td>{escape(item.statement)}</td>"
        f"<td>{item.deliveries}</td></tr>"
        for item in handled
    )
    return (
        intro + f"<table><caption>Ontvangen opdrachten ({len(handled)})</caption>"
        "<thead><tr><th scope='col'>Ontvangen</th><th scope='col'>Soort</th>"
        "<th scope='col'>Leerlingen</th><th scope='col'>Uiterlijk</th>"
        "<th scope='col'>Grondslag</th><th scope='col'>Wat er is gedaan</th>"
        "<th scope='col'>Keer ontvangen</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        "<p>Een opdracht die vaker binnenkomt (regie probeert opnieuw als het antwoord "
        "uitblijft), wordt maar één keer uitgevoerd: regie krijgt dezelfde "
        "ontvangstbewijzen terug.</p>" + BACK
    )


BACK = '<p><a href="/">Terug naar de startpagina</a></p>'
