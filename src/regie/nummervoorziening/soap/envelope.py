"""SOAP 1.1 and WS-Addressing mechanics: parsing a request safely, reading it, writing answers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qs, urlsplit

from django.http import HttpResponse
from lxml import etree

from regie.nummervoorziening.errors import AuthenticationFailed, NummervoorzieningError

SOAP_ENV: Final = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV: Final = "http://www.w3.org/2003/05/soap-envelope"
SOAP_ACTOR_NEXT: Final = "http://schemas.xmlsoap.org/soap/actor/next"
SID: Final = "http://ketenid.nl/eck/schemas/v1_0"
WSA: Final = "http://www.w3.org/2005/08/addressing"
WSA_ANONYMOUS: Final = f"{WSA}/anonymous"
WSA_FAULT_ACTION: Final = f"{WSA}/soap/fault"

CONTENT_TYPE: Final = "text/xml; charset=utf-8"

# The WS-Addressing headers this endpoint reads; others (To, ReplyTo …) are accepted and ignored.
_ADDRESSING_HEADERS: Final = frozenset({"Action", "MessageID", "From"})


def qname(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def safe_parser() -> etree.XMLParser:
    """A parser that never touches the network or expands an entity (one per use: not shared)."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


class SoapFault(Exception):
    """A fault to answer with. ``code`` is the local part of a SOAP 1.1 faultcode.

    ``detail`` is False for faults about the envelope or its headers, which SOAP 1.1 answers
    without a ``detail`` element.
    """

    def __init__(
        self,
        message: str,
        *,
        name: str = "InvalidRequestException",
        code: str = "Client",
        detail: bool = True,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.name = name
        self.code = code
        self.detail = detail

    @classmethod
    def from_error(cls, error: NummervoorzieningError) -> SoapFault:
        code = "Client" if error.soap_client_fault else "Server"
        return cls(error.detail, name=error.soap_name, code=code)


# --- Reading a request ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Addressing:
    """The WS-Addressing headers of a request that this endpoint uses."""

    action: str | None = None
    message_id: str | None = None
    from_address: str | None = None


def elements(parent: etree._Element) -> list[etree._Element]:
    return [child for child in parent if isinstance(child.tag, str)]


def parse(body: bytes) -> etree._Element:
    """The request document's root; errors name a position only, never the content."""
    try:
        root = etree.fromstring(body, safe_parser())
    except etree.XMLSyntaxError as error:
        line, column = error.position
        raise SoapFault(
            f"the request is not well-formed XML (error at line {line}, column {column})"
        ) from None
    if root.getroottree().docinfo.internalDTD is not None:
        raise SoapFault("a SOAP message must not contain a document type declaration")
    return root


def open_envelope(root: etree._Element) -> tuple[etree._Element | None, etree._Element]:
    """The envelope's header (if any) and the one element in its body."""
    if root.tag != qname(SOAP_ENV, "Envelope"):
        if root.tag == qname(SOAP12_ENV, "Envelope"):
            raise SoapFault(
                f"this endpoint speaks SOAP 1.1 only (envelope namespace {SOAP_ENV})",
                code="VersionMismatch",
                detail=False,
            )
        if etree.QName(root).localname == "Envelope":
            raise SoapFault(
                f"unknown envelope namespace; SOAP 1.1 uses {SOAP_ENV}",
                code="VersionMismatch",
                detail=False,
            )
        raise SoapFault(f"the request is not a SOAP 1.1 envelope ({SOAP_ENV} Envelope)")
    parts = elements(root)
    header = parts.pop(0) if parts and parts[0].tag == qname(SOAP_ENV, "Header") else None
    if len(parts) != 1 or parts[0].tag != qname(SOAP_ENV, "Body"):
        raise SoapFault("a SOAP 1.1 envelope holds an optional Header followed by one Body")
    payload = elements(parts[0])
    if len(payload) != 1:
        raise SoapFault(f"the SOAP Body must hold exactly one request element, not {len(payload)}")
    return header, payload[0]


def addressing(header: etree._Element | None) -> Addressing:
    """The WS-Addressing headers; a ``mustUnderstand`` header of another kind is a fault."""
    if header is None:
        return Addressing()
    found: dict[str, etree._Element] = {}
    for entry in elements(header):
        name = etree.QName(entry)
        if name.namespace == WSA:
            if name.localname in _ADDRESSING_HEADERS:
                if name.localname in found:
                    raise SoapFault(f"the WS-Addressing header {name.localname} occurs twice")
                found[name.localname] = entry
            continue
        must = (entry.get(qname(SOAP_ENV, "mustUnderstand")) or "").strip()
        actor = (entry.get(qname(SOAP_ENV, "actor")) or SOAP_ACTOR_NEXT).strip()
        if must in {"1", "true"} and actor == SOAP_ACTOR_NEXT:
            raise SoapFault(
                f"header {{{name.namespace or ''}}}{name.localname} is not understood",
                code="MustUnderstand",
                detail=False,
            )

    def text(element: etree._Element | None) -> str | None:
        return ((element.text or "").strip() or None) if element is not None else None

    sender = found.get("From")
    return Addressing(
        action=text(found.get("Action")),
        message_id=text(found.get("MessageID")),
        from_address=text(sender.find(qname(WSA, "Address"))) if sender is not None else None,
    )


def claimed_oin(from_address: str | None) -> str | None:
    """The OIN in a WS-Addressing From address ``…/anonymous?oin=<OIN>``; None if it has none."""
    if not from_address:
        return None
    try:
        query = urlsplit(from_address).query
    except ValueError:
        raise AuthenticationFailed("the WS-Addressing From address is not a URI") from None
    values = parse_qs(query, keep_blank_values=True).get("oin", [])
    if len(values) > 1:
        raise AuthenticationFailed("the WS-Addressing From address names more than one OIN")
    return values[0] if values else None


# --- Writing an answer ---------------------------------------------------------------------------


def envelope(content: etree._Element, *, action: str, relates_to: str | None) -> bytes:
    """A SOAP 1.1 envelope around ``content`` with the WS-Addressing headers of a reply."""
    root = etree.Element(qname(SOAP_ENV, "Envelope"), nsmap={"soap": SOAP_ENV, "wsa": WSA})
    header = etree.SubElement(root, qname(SOAP_ENV, "Header"))
    etree.SubElement(header, qname(WSA, "Action")).text = action
    etree.SubElement(header, qname(WSA, "MessageID")).text = f"urn:uuid:{uuid.uuid4()}"
    if relates_to:
        etree.SubElement(header, qname(WSA, "RelatesTo")).text = relates_to
    etree.SubElement(header, qname(WSA, "To")).text = WSA_ANONYMOUS
    etree.SubElement(root, qname(SOAP_ENV, "Body")).append(content)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def fault_response(fault: SoapFault, relates_to: str | None) -> HttpResponse:
    """A SOAP 1.1 fault, HTTP status 500 as SOAP 1.1 over HTTP prescribes."""
    element = etree.Element(qname(SOAP_ENV, "Fault"), nsmap={"soap": SOAP_ENV})
    etree.SubElement(element, "faultcode").text = f"soap:{fault.code}"
    etree.SubElement(element, "faultstring").text = f"{fault.name}: {fault.message}"
    if fault.detail:
        detail = etree.SubElement(element, "detail")
        named = etree.SubElement(detail, qname(SID, fault.name), nsmap={"sid": SID})
        named.text = fault.message
    body = envelope(element, action=WSA_FAULT_ACTION, relates_to=relates_to)
    response = HttpResponse(body, status=500, content_type=CONTENT_TYPE)
    # A fault is an answer, not a crash: keep django.request from logging "Internal Server Error"
    # for each one (the endpoint logs its faults itself).
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response
