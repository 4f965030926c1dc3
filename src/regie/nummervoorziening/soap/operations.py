"""The operations of eckid.wsdl: read the request element, call :mod:`services`, build the answer.

Request elements reach these handlers already valid against the WSDL's schema, so required
children are present and ``index`` values are ``xsd:int``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from django.utils import timezone
from lxml import etree

from regie.nummervoorziening import services
from regie.nummervoorziening.errors import AuthenticationFailed, InvalidInput
from regie.nummervoorziening.models import BatchKind, Client
from regie.nummervoorziening.registry import Chain, Sector

from .envelope import SID, SoapFault, qname

Handler = Callable[[Client | None, etree._Element], etree._Element]


def _element(name: str) -> etree._Element:
    return etree.Element(qname(SID, name), nsmap={"sid": SID})


def _add(parent: etree._Element, name: str, value: str) -> etree._Element:
    child = etree.SubElement(parent, qname(SID, name))
    child.text = value
    return child


def _text(request: etree._Element, name: str) -> str:
    return request.findtext(qname(SID, name)) or ""


def _xsd_datetime(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_datetime(text: str, name: str) -> datetime:
    """An xsd:dateTime (already schema-valid); without a zone it is in the service's time zone."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"{name} is a valid xsd:dateTime this service cannot use; "
            "send it as YYYY-MM-DDThh:mm:ss with a time zone",
            code="invalid-datetime",
        ) from None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def _indexed(request: etree._Element, list_name: str, value_name: str) -> list[tuple[int, str]]:
    return [
        (int(_text(item, "index")), _text(item, value_name))
        for item in request.iterfind(qname(SID, list_name))
    ]


def _ping(client: Client | None, request: etree._Element) -> etree._Element:
    status = services.ping()
    response = _element("pingResponse")
    _add(response, "available", "true" if status["available"] else "false")
    _add(response, "applicationVersion", str(status["applicationVersion"]))
    _add(response, "systemTime", _xsd_datetime(status["systemTime"]))
    return response


def _retrieve_stampseudonym(client: Client, request: etree._Element) -> etree._Element:
    response = _element("retrieveStampseudonymResponse")
    _add(response, "stampseudonym", services.retrieve_stampseudonym(client, _text(request, "hpgn")))
    return response


def _retrieve_eck_id(client: Client, request: etree._Element) -> etree._Element:
    eck_id = services.retrieve_eck_id(
        client,
        _text(request, "stampseudonym"),
        _text(request, "chainId"),
        _text(request, "sectorId"),
    )
    response = _element("retrieveEckIdResponse")
    _add(response, "eckId", eck_id)
    return response


def _submitted(batch_id: object) -> etree._Element:
    response = _element("submitBatchResponse")
    _add(response, "batchIdentifier", str(batch_id))
    return response


def _submit_stampseudonym_batch(client: Client, request: etree._Element) -> etree._Element:
    items = _indexed(request, "hpgnList", "hPgn")
    return _submitted(services.submit_batch(client, BatchKind.STAMPSEUDONYM, items).pk)


def _submit_eck_id_batch(client: Client, request: etree._Element) -> etree._Element:
    batch = services.submit_batch(
        client,
        BatchKind.ECK_ID,
        _indexed(request, "stampseudonymList", "stampseudonym"),
        chain_id=_text(request, "chainId"),
        sector_id=_text(request, "sectorId"),
    )
    return _submitted(batch.pk)


def _retrieve_batch(client: Client, request: etree._Element) -> etree._Element:
    result = services.retrieve_batch(client, _text(request, "batchIdentifier").strip())
    response = _element("retrieveBatchResponse")
    for index, value in result.success:
        item = etree.SubElement(response, qname(SID, "success"))
        _add(item, "index", str(index))
        _add(item, "value", value)
    for index, message in result.failed:
        item = etree.SubElement(response, qname(SID, "failed"))
        _add(item, "index", str(index))
        _add(item, "errorMessage", message)
    return response


def _replace_stampseudonym(client: Client, request: etree._Element) -> etree._Element:
    effective = request.findtext(qname(SID, "effectiveDate"))
    stampseudonym = services.replace_stampseudonym(
        client,
        _text(request, "hpgnNew"),
        _text(request, "hpgnOld"),
        _parse_datetime(effective, "effectiveDate") if effective is not None else None,
    )
    response = _element("replaceStampseudonymResponse")
    _add(response, "stampseudonym", stampseudonym)
    return response


def _described(response: etree._Element, name: str, entry: Chain | Sector) -> None:
    item = etree.SubElement(response, qname(SID, name))
    _add(item, "id", entry.id)
    _add(item, "name", entry.name)
    _add(item, "description", entry.description)
    _add(item, "lastEdited", _xsd_datetime(entry.last_edited))


def _retrieve_chains(client: Client, request: etree._Element) -> etree._Element:
    response = _element("retrieveChainsResponse")
    for chain in services.chains():
        _described(response, "chain", chain)
    return response


def _retrieve_sectors(client: Client, request: etree._Element) -> etree._Element:
    response = _element("retrieveSectorsResponse")
    for sector in services.sectors():
        _described(response, "sector", sector)
    return response


def _needs_client(handler: Callable[[Client, etree._Element], etree._Element]) -> Handler:
    """``handler``, refusing to run without an authenticated client."""

    def checked(client: Client | None, request: etree._Element) -> etree._Element:
        if client is None:
            raise AuthenticationFailed("this operation needs an authenticated client")
        return handler(client, request)

    return checked


@dataclass(frozen=True)
class Operation:
    name: str
    handler: Handler
    authenticated: bool = True

    @property
    def action(self) -> str:
        """The operation's ``soapAction`` in the WSDL (also its WS-Addressing action)."""
        return f"{SID}/{self.name}"


OPERATIONS: Final[dict[str, Operation]] = {
    f"{operation.name}Request": operation
    for operation in (
        Operation("ping", _ping, authenticated=False),
        Operation("retrieveStampseudonym", _needs_client(_retrieve_stampseudonym)),
        Operation("retrieveEckId", _needs_client(_retrieve_eck_id)),
        Operation("submitStampseudonymBatch", _needs_client(_submit_stampseudonym_batch)),
        Operation("submitEckIdBatch", _needs_client(_submit_eck_id_batch)),
        Operation("retrieveBatch", _needs_client(_retrieve_batch)),
        Operation("replaceStampseudonym", _needs_client(_replace_stampseudonym)),
        Operation("retrieveChains", _needs_client(_retrieve_chains)),
        Operation("retrieveSectors", _needs_client(_retrieve_sectors)),
    )
}


def operation_for(payload: etree._Element) -> Operation:
    """The operation whose request element ``payload`` is."""
    name = etree.QName(payload)
    operation = OPERATIONS.get(name.localname)
    if operation is None:
        raise SoapFault(
            "the body element is not a request of eckid.wsdl; expected one of "
            + ", ".join(OPERATIONS)
        )
    if name.namespace != SID:
        raise SoapFault(f"the request element {name.localname} must be in namespace {SID}")
    return operation
