"""The demo supplier's web application: plain WSGI, sessions in memory, pages in Dutch.

Routes (``{p}`` is a product's prefix, empty for the supplier's first product):

- ``GET /`` — the start page, with "Inloggen via je school (regie)" per product;
- ``GET {p}/login`` — starts the sign-in; also the OIDC third-party-initiated login endpoint
  (OIDC Core §4: ``iss`` must be the hub, ``target_link_uri`` must be on this supplier);
- ``GET {p}/callback`` — the redirect URI: the code is exchanged and validated, or the hub's
  ``error=access_denied`` is explained;
- ``GET {p}/ontvangen`` — "Wat … van regie ontving": the ``sub`` and every claim received;
- ``POST /logout`` — ends the session here and at the hub (RP-initiated logout, id_token_hint);
- ``POST /backchannel-logout`` — the hub's Logout Token (OIDC Back-Channel Logout 1.0): validated,
  then this supplier's sessions with that ``sid`` (or ``sub``) end; 200, or 400 with an error;
- ``POST /orders`` — the hub's signed orders (erasure, access, …), answered with signed receipts;
  ``GET /opdrachten`` shows the orders received (see :mod:`.orders`);
- ``POST /datalek`` ("Datalek melden bij regie"): the supplier reports the demo's data breach,
  signed, over the order channel (:mod:`.breaches`); the start page says how many schools'
  boards got an incident;
- for a supplier with a back office (``spec.roster``): ``GET /rooster`` shows the roster last
  fetched, ``POST /rooster/ophalen`` ("Rooster ophalen") fetches classes and pupils over OneRoster
  REST, ``POST /rooster/resultaat`` ("Resultaat terugsturen") puts a line item for the class and
  a result for the pupil (see :mod:`.rostering`), ``POST /rooster/oude-gegevens`` ("Oude gegevens
  aanmelden bij regie") registers the named data held from before pseudonyms (:mod:`.legacy`).

The supplier is fictional and keeps nothing but what the pages show, in memory; what it holds per
pseudonym is in :mod:`.holdings`.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from html import escape
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs
from wsgiref.types import StartResponse, WSGIEnvironment

from .breaches import report_breach
from .holdings import Holdings
from .legacy import DEMO_RECORDS, DEMO_SCHOOL, LegacyBook
from .orders import OrderDesk, Signer, orders_page_body
from .relyingparty import PROTOCOL_CLAIMS, Pending, Received, RelyingParty, RelyingPartyError
from .rostering import Roster, RosterClient, RosterError
from .suppliers import DemoProduct, DemoSupplierSpec

MAX_SESSIONS = 2000
MAX_BODY = 8192
CLAIM_LABELS = {
    "sub": "Jouw pseudoniem bij deze leverancier",
    "given_name": "Voornaam",
    "family_name": "Achternaam",
    "birthdate": "Geboortedatum",
    "gender": "Geslacht",
    "eck_id": "ECK iD",
    "school": "School",
    "groups": "Groepen",
    "year_level": "Leerjaar",
    "role": "Rol",
}
STATUS_TEXT = {
    200: "OK",
    201: "Created",
    302: "Found",
    303: "See Other",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass
class Response:
    status: int = 200
    body: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Response:
        return cls(status, "", [("Location", location)])


@dataclass
class Flow:
    prefix: str
    pending: Pending
    target: str


@dataclass
class Session:
    id: str
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    flows: dict[str, Flow] = field(default_factory=dict)
    received: dict[str, Received] = field(default_factory=dict)
    roster: Roster | None = None
    sent: list[str] = field(default_factory=list)
    breach: str = ""  # what the hub answered to the last breach report


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    cookies: dict[str, str]

    @classmethod
    def from_environ(cls, environ: WSGIEnvironment) -> Request:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        form: dict[str, str] = {}
        if method == "POST":
            try:
                length = min(int(environ.get("CONTENT_LENGTH") or 0), MAX_BODY)
            except ValueError:
                length = 0
            form = _first(environ["wsgi.input"].read(length).decode("utf-8", "replace"))
        cookie: SimpleCookie = SimpleCookie()
        with contextlib.suppress(CookieError):  # a malformed header: no session
            cookie.load(str(environ.get("HTTP_COOKIE", "")))
        return cls(
            method=method,
            path=str(environ.get("PATH_INFO", "/")) or "/",
            query=_first(str(environ.get("QUERY_STRING", ""))),
            form=form,
            cookies={name: morsel.value for name, morsel in cookie.items()},
        )


def _first(encoded: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(encoded).items()}


class DemoSupplierApp:
    """The WSGI application of one demo supplier; ``parties`` hold its OAuth clients."""

    def __init__(
        self,
        spec: DemoSupplierSpec,
        base_url: str,
        issuer: str,
        *,
        jwks_url: str | None = None,
        keeps_erased: bool = False,
    ) -> None:
        """``keeps_erased`` (tests only): the supplier misbehaves — it confirms erasure orders
        but keeps what it held, and goes on using it (its roster copy, its results)."""
        self.spec = spec
        self.base = base_url.rstrip("/")
        self.issuer = issuer
        key = None
        self.parties: dict[str, RelyingParty] = {}
        for product in spec.products:
            party = RelyingParty(issuer, f"{self.base}{product.prefix}/callback", key)
            key = party.key  # one key per supplier, registered for each of its clients
            self.parties[product.prefix] = party
        first = self.parties[spec.products[0].prefix]
        self.roster_client = RosterClient(first) if spec.roster else None
        self.cookie_name = f"{spec.key}_sessie"  # not the hub's: cookies ignore the port
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()
        self.holdings = Holdings()
        self.orders = OrderDesk(
            issuer=issuer,
            endpoint=self.order_endpoint,
            holdings=self.holdings,
            signer=self.receipt_signer,
            forget=self.forget,
            jwks_url=jwks_url,
            keeps_erased=keeps_erased,
        )
        # The named data the back office held from before pseudonyms (motion 9).
        self.legacy: LegacyBook | None = (
            LegacyBook(DEMO_SCHOOL, list(DEMO_RECORDS)) if spec.roster else None
        )
        if self.legacy is not None:
            self.orders.destroy_legacy = self.legacy.destroy

    @property
    def order_endpoint(self) -> str:
        """Where the hub sends this supplier's orders (to register at the hub)."""
        return f"{self.base}/orders"

    def receipt_signer(self) -> Signer | None:
        """Receipts are signed with the key registered for the first product's client."""
        party = self.parties[self.spec.products[0].prefix]
        if party.client_id is None:
            return None
        return Signer(party.client_id, dict(party.key.as_dict(private=True)))

    def forget(self, subs: set[str] | None) -> None:
        """Erase the sessions' copies of what was received for ``subs`` (None: everything)."""
        with self._lock:
            for session in self._sessions.values():
                for prefix, received in list(session.received.items()):
                    if subs is None or received.sub in subs:
                        del session.received[prefix]
                roster = session.roster
                if roster is not None:
                    students = tuple(
                        item
                        for item in roster.students
                        if subs is not None and item.sourced_id not in subs
                    )
                    session.roster = Roster(roster.classes if subs is not None else (), students)
                session.sent = [
                    item
                    for item in session.sent
                    if subs is not None and item.split("\x1f")[0] not in subs
                ]

    def product(self, prefix: str) -> DemoProduct:
        return next(item for item in self.spec.products if item.prefix == prefix)

    def uris(self, prefix: str) -> dict[str, str]:
        """What the hub registers for the client of the product at ``prefix``."""
        return {
            "initiate_login_uri": f"{self.base}{prefix}/login",
            "redirect_uri": f"{self.base}{prefix}/callback",
            "post_logout_redirect_uri": f"{self.base}/",
            "backchannel_logout_uri": f"{self.base}/backchannel-logout",
        }

    # --- WSGI ------------------------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/orders":  # the hub's orders: no session, JSON
            return self.order_endpoint_answer(environ, start_response)
        request = Request.from_environ(environ)
        if request.path == "/backchannel-logout":  # server to server: no session of its own
            session, is_new = None, False
            response = self.backchannel_logout(request)
        else:
            session, is_new = self._session(request)
            response = self.dispatch(request, session)
        if not any(name == "Content-Type" for name, _ in response.headers):
            response.headers.insert(0, ("Content-Type", "text/html; charset=utf-8"))
        headers = [
            ("Cache-Control", "no-store"),
            ("Referrer-Policy", "no-referrer"),
            ("X-Frame-Options", "DENY"),
            ("X-Content-Type-Options", "nosniff"),
            ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"),
            *response.headers,
        ]
        if session is not None and is_new:
            headers.append(
                ("Set-Cookie", f"{self.cookie_name}={session.id}; Path=/; HttpOnly; SameSite=Lax")
            )
        body = response.body.encode("utf-8")
        headers.append(("Content-Length", str(len(body))))
        start_response(f"{response.status} {STATUS_TEXT.get(response.status, '')}", headers)
        return [body]

    def order_endpoint_answer(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        if str(environ.get("REQUEST_METHOD", "")).upper() != "POST":
            status, body, kind = 405, b"", "text/plain"
        else:
            status, body = self.orders.receive(environ)
            kind = "application/json" if status == 200 else "application/problem+json"
        headers = [
            ("Content-Type", kind),
            ("Cache-Control", "no-store"),
            ("Content-Length", str(len(body))),
        ]
        if status == 405:
            headers.append(("Allow", "POST"))
        start_response(f"{status} {STATUS_TEXT.get(status, '')}", headers)
        return [body]

    def _session(self, request: Request) -> tuple[Session, bool]:
        with self._lock:
            known = self._sessions.get(request.cookies.get(self.cookie_name, ""))
            if known is not None:
                self._sessions.move_to_end(known.id)
                return known, False
            session = Session(secrets.token_urlsafe(24))
            self._sessions[session.id] = session
            while len(self._sessions) > MAX_SESSIONS:
                self._sessions.popitem(last=False)
            return session, True

    def dispatch(self, request: Request, session: Session) -> Response:
        if request.path == "/":
            return self.start_page(session) if request.method == "GET" else _not_allowed()
        if request.path == "/opdrachten":
            if request.method != "GET":
                return _not_allowed()
            return self.page(
                "Opdrachten van scholen", orders_page_body(self.orders, self.spec.title)
            )
        if request.path == "/logout":
            return self.logout(request, session) if request.method == "POST" else _not_allowed()
        if request.path == "/datalek":
            return (
                self.report_breach(request, session) if request.method == "POST" else _not_allowed()
            )
        if self.roster_client is not None and request.path.startswith("/rooster"):
            return self.back_office(request, session, self.roster_client)
        for prefix in self.parties:
            handlers = {
                f"{prefix}/login": self.login,
                f"{prefix}/callback": self.callback,
                f"{prefix}/ontvangen": self.received,
            }
            handler = handlers.get(request.path)
            if handler is not None:
                if request.method != "GET":
                    return _not_allowed()
                return handler(request, session, prefix)
        return self.page("Niet gevonden", "<p>Deze pagina bestaat niet.</p>", status=404)

    # --- pages -----------------------------------------------------------------------------------

    def start_page(self, session: Session) -> Response:
        sections = []
        for product in self.spec.products:
            received = session.received.get(product.prefix)
            status = (
                f'<p>Je bent ingelogd. <a href="{escape(product.prefix)}/ontvangen">'
                f"Bekijk wat {escape(product.product)} van regie ontving</a>.</p>"
                if received
                else ""
            )
            sections.append(
                f"<section><h2>{escape(product.product)}</h2>"
                f"<p>{escape(product.description)}</p>{status}"
                f'<p><a class="button" href="{escape(product.prefix)}/login">'
                "Inloggen via je school (regie)</a></p></section>"
            )
        sections.append(
            "<section><h2>Voor de leverancier: opdrachten van scholen</h2>"
            f"<p>Scholen sturen via regie ondertekende opdrachten aan {escape(self.spec.title)}, "
            "bijvoorbeeld om de gegevens van een leerling te wissen.</p>"
            '<p><a href="/opdrachten">Naar de opdrachten</a></p></section>'
        )
        reported = f"<p class='sent'>{escape(session.breach)}</p>" if session.breach else ""
        sections.append(
            "<section><h2>Voor de leverancier: een datalek melden</h2>"
            f"<p>Ontdekt {escape(self.spec.title)} een datalek, dan meldt het dat ondertekend bij "
            "regie. regie registreert het bij elk schoolbestuur van wie leerlingen gegevens aan "
            f"{escape(self.spec.title)} gaven.</p>{reported}"
            '<form method="post" action="/datalek">'
            f'<input type="hidden" name="csrf" value="{escape(session.csrf)}">'
            '<button type="submit">Datalek melden bij regie</button></form></section>'
        )
        if self.roster_client is not None:
            sections.append(
                "<section><h2>Voor de leverancier: rooster en resultaten</h2>"
                f"<p>Zo haalt {escape(self.spec.title)} bij regie op welke klassen en leerlingen "
                "de school heeft klaargezet, en stuurt het resultaten terug.</p>"
                '<p><a href="/rooster">Naar het rooster</a></p></section>'
            )
        body = (
            f"<p>{escape(self.spec.title)} is een fictieve leverancier van digitale leermiddelen, "
            "om te laten zien hoe inloggen via regie werkt. Je logt in bij je eigen school; "
            f"{escape(self.spec.title)} krijgt alleen wat de school heeft toegestaan.</p>"
            + "".join(sections)
        )
        return self.page(self.spec.title, body)

    def report_breach(self, request: Request, session: Session) -> Response:
        """Report the demo's data breach to the hub, signed like a receipt."""
        if not hmac.compare_digest(request.form.get("csrf", ""), session.csrf):
            return self.problem("Dit formulier is verlopen. Probeer het opnieuw.")
        signer = self.receipt_signer()
        if signer is None:
            return self.problem("Deze leverancier is nog niet bij regie geregistreerd.")
        sent = report_breach(signer, self.issuer)
        if sent.incidents is not None:
            session.breach = (
                "Gemeld. regie registreerde het datalek bij "
                f"{sent.incidents} schoolbestuur/-besturen."
            )
        else:
            session.breach = f"Melden is niet gelukt ({sent.status}: {sent.detail})."
        return Response.redirect(f"{self.base}/", 303)

    def login(self, request: Request, session: Session, prefix: str) -> Response:
        party = self.parties[prefix]
        issuer = request.query.get("iss")
        if issuer is not None and issuer != party.issuer:
            return self.problem("Deze inlogpoging komt niet van je school (onbekende uitgever).")
        target = request.query.get("target_link_uri", "")
        if not target.startswith(self.base + "/"):
            target = ""  # OIDC Core §4: never redirect elsewhere (no open redirector)
        if party.client_id is None:
            return self.problem(
                f"{self.spec.title} is nog niet aangemeld bij regie. Probeer het zo nog eens.",
                status=503,
            )
        try:
            url, pending = party.start(request.query.get("login_hint"))
        except RelyingPartyError:
            return self.problem("regie is nu niet bereikbaar. Probeer het later nog eens.", 502)
        with self._lock:
            if len(session.flows) > 20:
                session.flows.clear()
            session.flows[pending.state] = Flow(prefix, pending, target)
        return Response.redirect(url)

    def callback(self, request: Request, session: Session, prefix: str) -> Response:
        with self._lock:
            flow = session.flows.pop(request.query.get("state", ""), None)
        error = request.query.get("error")
        if error == "access_denied":
            return self.denied()
        if flow is None or flow.prefix != prefix:
            return self.problem("Deze inlogpoging is verlopen of onbekend. Begin opnieuw.")
        if error or "code" not in request.query:
            code = error if error and re.fullmatch(r"[a-z_]{1,40}", error) else "invalid_request"
            return self.problem(f"Inloggen via regie is niet gelukt (foutcode {code}).")
        try:
            received = self.parties[prefix].finish(flow.pending, request.query["code"])
        except RelyingPartyError as failure:
            if failure.error == "access_denied":
                return self.denied()
            return self.problem(f"Inloggen via regie is niet gelukt (foutcode {failure.error}).")
        session.received[prefix] = received
        self.holdings.signed_in(
            received.sub, self.product(prefix).product, received.about_the_pupil
        )
        return Response.redirect(flow.target or f"{self.base}{prefix}/ontvangen", 303)

    def received(self, request: Request, session: Session, prefix: str) -> Response:
        received = session.received.get(prefix)
        if received is None:
            return Response.redirect(f"{self.base}/", 303)
        product = self.product(prefix).product
        rows = [_row("sub", received.sub)]
        rows += [
            _row(name, value)
            for name, value in sorted(received.about_the_pupil.items())
            if name != "sub"
        ]
        technical = "".join(
            f"<tr><th scope='row'><code>{escape(name)}</code></th>"
            f"<td>{escape(_text(value))}</td></tr>"
            for name, value in sorted(received.id_token_claims.items())
            if name in PROTOCOL_CLAIMS
        )
        body = (
            f"<p>Dit is <strong>alles</strong> wat {escape(self.spec.title)} over jou van je "
            "school kreeg, via regie (in het ID-token en bij userinfo). Meer weet "
            f"{escape(self.spec.title)} niet: geen naam, tenzij die hieronder staat.</p>"
            "<table><caption>Gegevens over jou</caption>"
            "<thead><tr><th scope='col'>Gegeven</th><th scope='col'>Waarde</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
            "<p>Het pseudoniem is alleen bij deze leverancier zo: een andere leverancier krijgt "
            "voor jou een ander pseudoniem, zodat zij je niet aan elkaar kunnen koppelen.</p>"
            "<details><summary>Technische gegevens van het ID-token</summary>"
            f"<table><caption>Over het token zelf</caption><tbody>{technical}</tbody></table>"
            "</details>"
            '<form method="post" action="/logout">'
            f'<input type="hidden" name="csrf" value="{escape(session.csrf)}">'
            '<button type="submit">Uitloggen (ook bij regie)</button></form>'
            '<p><a href="/">Terug naar de startpagina</a></p>'
        )
        return self.page(f"Wat {product} van regie ontving", body)

    def logout(self, request: Request, session: Session) -> Response:
        if not hmac.compare_digest(request.form.get("csrf", ""), session.csrf):
            return self.problem("Deze uitlogpoging is verlopen. Probeer het opnieuw.")
        with self._lock:
            last = next(reversed(session.received.items()), None)
            session.received.clear()
            session.flows.clear()
        if last is None:
            return Response.redirect(f"{self.base}/", 303)
        prefix, received = last
        try:
            url = self.parties[prefix].logout_url(received.id_token, f"{self.base}/")
        except RelyingPartyError:
            url = f"{self.base}/"
        return Response.redirect(url, 303)

    def backchannel_logout(self, request: Request) -> Response:
        """OIDC Back-Channel Logout 1.0 §2.8: end the sessions the hub's Logout Token names."""
        if request.method != "POST":
            return _not_allowed()
        token = request.form.get("logout_token", "")
        failure = RelyingPartyError("invalid_request", "no logout_token")
        for prefix, party in self.parties.items():
            if not token or party.client_id is None:
                continue
            try:
                claims = party.validate_logout_token(token)
            except RelyingPartyError as refused:
                failure = refused
                continue
            self.end_sessions(prefix, claims.get("sid"), claims.get("sub"))
            return Response(200, "")
        body = {"error": failure.error, "error_description": failure.description}
        return Response(400, json.dumps(body), [("Content-Type", "application/json")])

    def end_sessions(self, prefix: str, sid: Any, sub: Any) -> int:
        """Forget the sign-ins of product ``prefix`` with session ``sid`` (or, without one,
        every sign-in of ``sub``); how many."""
        ended = 0
        with self._lock:
            for session in self._sessions.values():
                received = session.received.get(prefix)
                if received is None:
                    continue
                if (received.id_token_claims.get("sid") == sid) if sid else (received.sub == sub):
                    del session.received[prefix]
                    ended += 1
        return ended

    # --- the back office: roster and results -----------------------------------------------------

    def back_office(self, request: Request, session: Session, client: RosterClient) -> Response:
        routes = {
            "/rooster": "GET",
            "/rooster/ophalen": "POST",
            "/rooster/resultaat": "POST",
            "/rooster/oude-gegevens": "POST",
        }
        if request.path not in routes:
            return self.page("Niet gevonden", "<p>Deze pagina bestaat niet.</p>", status=404)
        if request.method != routes[request.path]:
            return _not_allowed()
        if request.path == "/rooster":
            return self.roster_page(session)
        if not hmac.compare_digest(request.form.get("csrf", ""), session.csrf):
            return self.roster_problem("Dit formulier is verlopen. Probeer het opnieuw.")
        if request.path == "/rooster/ophalen":
            try:
                roster = client.sync()
            except RosterError as failure:
                return self.roster_problem(
                    f"Het rooster ophalen bij regie is niet gelukt (foutcode {failure.error})."
                )
            with self._lock:
                session.roster = roster
            self.holdings.roster_copy(
                {item.sourced_id: item.title for item in roster.classes},
                {item.sourced_id: item.class_ids for item in roster.students},
            )
            return Response.redirect(f"{self.base}/rooster", 303)
        if request.path == "/rooster/oude-gegevens":
            return self.register_legacy(client)
        return self.send_result(request, session, client)

    def register_legacy(self, client: RosterClient) -> Response:
        book = self.legacy
        if book is None or not book.named or book.registration is not None:
            return self.roster_problem("Er zijn geen oude gegevens (meer) om aan te melden.")
        try:
            client.register_legacy(book)
        except RosterError as failure:
            return self.roster_problem(
                f"Oude gegevens aanmelden bij regie is niet gelukt (foutcode {failure.error})."
            )
        return Response.redirect(f"{self.base}/rooster", 303)

    def legacy_section(self, csrf: str) -> str:
        """The old named records: how many are held, the conversion, the destruction."""
        book = self.legacy
        if book is None:
            return ""
        intro = (
            "<section><h2>Oude gegevens (van voor de pseudoniemen)</h2>"
            f"<p>{escape(self.spec.title)} kreeg vroeger namen, geboortedata en eigen "
            "leerlingnummers. Die meldt het aan bij regie: regie geeft voor elke leerling het "
            "pseudoniem terug en vraagt daarna de oude gegevens te vernietigen.</p>"
        )
        if book.registration is None:
            return (
                intro + f"<p data-legacy='held'>Nog {book.named} oude record(s) met namen.</p>"
                f'<form method="post" action="/rooster/oude-gegevens">{csrf}'
                "<button type='submit'>Oude gegevens aanmelden bij regie</button></form>"
                "</section>"
            )
        counts = ", ".join(f"{escape(key)}: {value}" for key, value in sorted(book.counts.items()))
        state = (
            f"<p data-legacy='destroyed'>{escape(book.statement)}</p>"
            if book.statement
            else f"<p data-legacy='converted'>Nog {book.named} oude record(s) met namen; "
            "regie vraagt ze te vernietigen (zie de opdrachten).</p>"
        )
        return (
            intro + f"<p>Aangemeld bij regie (aanmelding {book.registration}): {counts}. "
            f"{len(book.pseudonyms) or len(book.kept)} oud nummer(s) vervangen door een "
            "pseudoniem.</p>" + state + "</section>"
        )

    def send_result(self, request: Request, session: Session, client: RosterClient) -> Response:
        roster = session.roster
        class_id = request.form.get("class", "")
        student_id = request.form.get("student", "")
        title = roster.class_title(class_id) if roster else None
        known = roster is not None and any(
            item.sourced_id == student_id and class_id in item.class_ids for item in roster.students
        )
        if title is None or not known:
            return self.roster_problem(
                "Deze leerling of klas staat niet in het opgehaalde rooster."
            )
        if not self.holdings.may_process(student_id):
            return self.roster_problem(
                "De school heeft gevraagd de gegevens van deze leerling niet meer te verwerken. "
                "Er is niets verstuurd."
            )
        try:
            line_item, result = client.send_result(class_id, title, student_id, 8.0, date.today())
        except RosterError as failure:
            return self.roster_problem(
                f"Het resultaat terugsturen is niet gelukt (foutcode {failure.error}). "
                "Misschien staat de school het terugsturen van resultaten niet toe."
            )
        with self._lock:
            session.sent.append(f"{student_id}\x1f{class_id}")
        self.holdings.result_sent(
            student_id,
            {
                "class": class_id,
                "lineItem": line_item,
                "result": result,
                "score": 8.0,
                "date": date.today().isoformat(),
            },
        )
        return Response.redirect(f"{self.base}/rooster", 303)

    def roster_page(self, session: Session) -> Response:
        roster = session.roster
        csrf = f'<input type="hidden" name="csrf" value="{escape(session.csrf)}">'
        fetch = (
            f'<form method="post" action="/rooster/ophalen">{csrf}'
            '<button type="submit">Rooster ophalen</button></form>'
        )
        intro = (
            f"<p>{escape(self.spec.title)} haalt bij regie op welke klassen en leerlingen de "
            "school voor dit leermiddel heeft klaargezet (OneRoster 1.2). Leerlingen hebben "
            f"alleen een pseudoniem: {escape(self.spec.title)} weet geen namen.</p>"
        )
        legacy = self.legacy_section(csrf)
        if roster is None:
            return self.page(
                "Rooster", intro + "<p>Nog geen rooster opgehaald.</p>" + fetch + legacy
            )
        classes = "".join(
            f'<tr data-class="{escape(item.sourced_id)}"><td>{escape(item.title)}</td>'
            f"<td><code>{escape(item.sourced_id)}</code></td></tr>"
            for item in roster.classes
        )
        titles = {item.sourced_id: item.title for item in roster.classes}
        rows = []
        for student in roster.students:
            buttons = "".join(
                '<form method="post" action="/rooster/resultaat">'
                f'{csrf}<input type="hidden" name="class" value="{escape(class_id)}">'
                f'<input type="hidden" name="student" value="{escape(student.sourced_id)}">'
                f'<button type="submit">Resultaat terugsturen '
                f"<span>({escape(titles.get(class_id, ''))}, cijfer 8)</span></button>"
                + (
                    " <span class='sent'>Verstuurd</span>"
                    if f"{student.sourced_id}\x1f{class_id}" in session.sent
                    else ""
                )
                + "</form>"
                for class_id in student.class_ids
                if class_id in titles
            )
            groups = ", ".join(titles.get(class_id, "") for class_id in student.class_ids)
            rows.append(
                f'<tr data-student="{escape(student.sourced_id)}">'
                f"<td><code>{escape(student.sourced_id)}</code></td>"
                f"<td>{escape(groups)}</td><td>{buttons}</td></tr>"
            )
        body = (
            intro + f"<table><caption>Klassen ({len(roster.classes)})</caption>"
            "<thead><tr><th scope='col'>Naam</th><th scope='col'>sourcedId</th></tr></thead>"
            f"<tbody>{classes}</tbody></table>"
            f"<table><caption>Leerlingen ({len(roster.students)})</caption>"
            "<thead><tr><th scope='col'>sourcedId (pseudoniem)</th><th scope='col'>Klassen</th>"
            "<th scope='col'>Resultaat</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
            "<p>Een teruggestuurd resultaat ziet de leerkracht van de klas in regie, onder "
            "<em>Resultaten</em>, met de naam van de leerling.</p>"
            + fetch
            + legacy
            + '<p><a href="/">Terug naar de startpagina</a></p>'
        )
        return self.page("Rooster", body)

    def roster_problem(self, message: str, status: int = 400) -> Response:
        return self.page(
            "Dat is niet gelukt",
            f'<p class="alert" role="alert">{escape(message)}</p>'
            '<p><a href="/rooster">Terug naar het rooster</a></p>',
            status=status,
        )

    def denied(self) -> Response:
        return self.page(
            "De school heeft dit (nog) niet geregeld",
            '<p class="alert" role="alert">Je school heeft dit leermiddel (nog) niet voor jou '
            f"klaargezet. {escape(self.spec.title)} heeft geen gegevens over jou gekregen.</p>"
            "<p>Vraag het je leerkracht als je denkt dat dit niet klopt.</p>"
            '<p><a href="/">Terug naar de startpagina</a></p>',
            status=403,
        )

    def problem(self, message: str, status: int = 400) -> Response:
        return self.page(
            "Inloggen is niet gelukt",
            f'<p class="alert" role="alert">{escape(message)}</p>'
            '<p><a href="/">Terug naar de startpagina</a></p>',
            status=status,
        )

    def page(self, title: str, body: str, status: int = 200) -> Response:
        colour = escape(self.spec.colour)
        html = (
            '<!doctype html><html lang="nl"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)} — {escape(self.spec.title)} (fictief)</title>"
            f"<style>{_STYLE.replace('COLOUR', colour)}</style></head><body>"
            f'<header><p class="brand">{escape(self.spec.title)} '
            '<span class="fictional">(fictieve leverancier, demo)</span></p></header>'
            f"<main><h1>{escape(title)}</h1>{body}</main>"
            "<footer><p>Demo van regie: alle gegevens zijn fictief. Deze leverancier bewaart "
            "alleen in het geheugen wat je hier ziet.</p></footer></body></html>"
        )
        return Response(status, html)


def _row(name: str, value: Any) -> str:
    label = CLAIM_LABELS.get(name, name)
    return (
        f'<tr data-claim="{escape(name)}"><th scope="row">{escape(label)} '
        f"<code>{escape(name)}</code></th><td>{escape(_text(value))}</td></tr>"
    )


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_text(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_text(item)}" for key, item in value.items())
    return str(value)


def _not_allowed() -> Response:
    return Response(405, "<!doctype html><title>405</title>", [("Allow", "GET, POST")])


_STYLE = """
body{font-family:system-ui,sans-serif;margin:0;color:#1a1a1a;line-height:1.5}
header{background:COLOUR;color:#fff;padding:.75rem 1.5rem}
.brand{font-size:1.4rem;font-weight:700;margin:0}.fictional{font-weight:400;font-size:1rem}
main{max-width:48rem;padding:1rem 1.5rem}footer{padding:1rem 1.5rem;color:#555}
a.button,button{display:inline-block;background:COLOUR;color:#fff;border:0;border-radius:.3rem;
padding:.6rem 1rem;font-size:1rem;text-decoration:none;cursor:pointer}
a.button:focus,button:focus,a:focus{outline:3px solid #ffbf47;outline-offset:2px}
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #999;padding:.3rem .6rem;
text-align:left;vertical-align:top}caption{text-align:left;font-weight:700}
.alert{border-left:.4rem solid #b00020;padding:.5rem 1rem;background:#fdecee}
code{word-break:break-all}
"""
