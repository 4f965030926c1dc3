"""The packaged ``eckid.wsdl``: served with this server's address, and its schema for validation."""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Iterable
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Final, cast

from lxml import etree

from regie.lib.logging import mask_text

from .envelope import SoapFault, qname, safe_parser

# A verbatim copy of Kennisnet's eckid.wsdl (© Stichting Kennisnet, Apache License 2.0).
WSDL_PATH: Final = Path(__file__).resolve().parent.parent / "eckid.wsdl"

WSDL_NS: Final = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP_NS: Final = "http://schemas.xmlsoap.org/wsdl/soap/"
XSD_NS: Final = "http://www.w3.org/2001/XMLSchema"

_MAX_REPORTED_ERRORS: Final = 5


@cache
def _wsdl_bytes() -> bytes:
    return WSDL_PATH.read_bytes()


def _wsdl_document() -> etree._ElementTree:
    """A fresh tree of the packaged WSDL (comments kept: they hold its licence)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.ElementTree(etree.fromstring(_wsdl_bytes(), parser))


@lru_cache(maxsize=16)
def wsdl_for(location: str) -> bytes:
    """The packaged WSDL with every ``soap:address`` pointing at ``location``."""
    document = _wsdl_document()
    path = f"{qname(WSDL_NS, 'service')}/{qname(WSDL_NS, 'port')}/{qname(WSDL_SOAP_NS, 'address')}"
    for address in document.iterfind(path):
        address.set("location", location)
    return etree.tostring(document, xml_declaration=True, encoding="UTF-8")


@cache
def schema_source() -> bytes:
    """``wsdl:types/xsd:schema`` as a standalone schema document.

    The schema refers to its own types as ``sid:…``, a prefix declared on ``wsdl:definitions``:
    the standalone copy declares every namespace in scope of the original.
    """
    original = _wsdl_document().find(f"{qname(WSDL_NS, 'types')}/{qname(XSD_NS, 'schema')}")
    if original is None:
        raise RuntimeError(f"{WSDL_PATH.name} holds no wsdl:types/xsd:schema")
    namespaces = cast(dict[str, str], original.nsmap)
    attributes = {str(key): str(value) for key, value in original.attrib.items()}
    standalone = etree.Element(original.tag, attrib=attributes, nsmap=namespaces)
    standalone.extend(copy.deepcopy(child) for child in original)
    return etree.tostring(standalone)


_per_thread = threading.local()


def schema() -> etree.XMLSchema:
    """The WSDL's schema, built once per thread.

    An ``etree.XMLSchema`` keeps the error log of its last validation on itself, so concurrent
    request threads must not share one.
    """
    built: etree.XMLSchema | None = getattr(_per_thread, "schema", None)
    if built is None:
        built = etree.XMLSchema(etree.fromstring(schema_source(), safe_parser()))
        _per_thread.schema = built
    return built


_EXPECTED = re.compile(r"Expected is (\(.*\))\.?$")
_ATOMIC_TYPE = re.compile(r"of the atomic type '(?:xs:)?([A-Za-z]+)'")
_PREFIX = re.compile(r"(?<=/)[^/:\[]+:")
_NAMESPACE = re.compile(r"\{[^}]*\}")


def _describe(entry: Any) -> str:
    """One schema error as element path and reason, from names in the schema only (no content).

    libxml2's own messages quote the offending value; they are not passed on.
    """
    path = _PREFIX.sub("", str(getattr(entry, "path", "") or "")).lstrip("/") or "request"
    message = str(getattr(entry, "message", ""))
    if "not expected" in message:
        reason = "unexpected element"
    elif "Missing child" in message:
        reason = "missing element"
    elif "attribute" in message and "not allowed" in message:
        reason = "attributes are not allowed here"
    elif "Element content is not allowed" in message or "Character content" in message:
        reason = "unexpected content"
    elif atomic := _ATOMIC_TYPE.search(message):
        reason = f"not a valid xsd:{atomic.group(1)}"
    else:
        reason = f"invalid ({getattr(entry, 'type_name', '') or 'schema violation'})"
    if expected := _EXPECTED.search(message):
        reason += f"; expected {_NAMESPACE.sub('', expected.group(1))}"
    return mask_text(f"{path}: {reason}")


def validate(payload: etree._Element) -> None:
    """Raise a :class:`SoapFault` naming where ``payload`` breaks the WSDL's schema."""
    validator = schema()
    if validator.validate(payload):
        return
    entries = list(cast(Iterable[Any], validator.error_log))
    reasons = [_describe(entry) for entry in entries[:_MAX_REPORTED_ERRORS]]
    hidden = len(entries) - _MAX_REPORTED_ERRORS
    raise SoapFault(
        f"the {etree.QName(payload).localname} does not match eckid.wsdl's schema: "
        + "; ".join(reasons)
        + (f" (and {hidden} more)" if hidden > 0 else "")
    )
