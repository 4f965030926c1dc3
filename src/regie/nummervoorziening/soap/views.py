"""The endpoint's view: the WSDL on ``GET ?wsdl``, one SOAP 1.1 call per ``POST``."""

from __future__ import annotations

from typing import Final

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from regie.lib.logging import get_logger
from regie.nummervoorziening import services
from regie.nummervoorziening.api import ClientAuth
from regie.nummervoorziening.errors import NummervoorzieningError
from regie.nummervoorziening.models import Client

from .envelope import (
    CONTENT_TYPE,
    Addressing,
    SoapFault,
    addressing,
    claimed_oin,
    envelope,
    fault_response,
    open_envelope,
    parse,
)
from .operations import Operation, operation_for
from .wsdl import validate, wsdl_for

logger = get_logger(__name__)

_XML_MEDIA_TYPES: Final = frozenset({"text/xml", "application/xml", "application/soap+xml"})

# The JSON API's authentication (API key, or a certificate subject from a trusted proxy), reused.
_client_auth = ClientAuth()


def _authenticate(request: HttpRequest, headers: Addressing) -> Client:
    client: Client = _client_auth(request)
    services.check_caller_oin(client, claimed_oin(headers.from_address))
    return client


def _read_body(request: HttpRequest) -> bytes:
    media_type = (request.content_type or "").lower()
    if media_type and media_type not in _XML_MEDIA_TYPES:
        raise SoapFault("send the SOAP 1.1 envelope with Content-Type text/xml")
    try:
        return request.body
    except RequestDataTooBig:
        raise SoapFault("the request is larger than this service accepts") from None


def _call(request: HttpRequest) -> HttpResponse:
    relates_to: str | None = None
    operation: Operation | None = None
    try:
        header, payload = open_envelope(parse(_read_body(request)))
        headers = addressing(header)
        relates_to = headers.message_id
        operation = operation_for(payload)
        client = _authenticate(request, headers) if operation.authenticated else None
        validate(payload)
        content = operation.handler(client, payload)
        action = (headers.action or operation.action) + "Response"
        body = envelope(content, action=action, relates_to=relates_to)
        return HttpResponse(body, content_type=CONTENT_TYPE)
    except (SoapFault, NummervoorzieningError) as error:
        fault = error if isinstance(error, SoapFault) else SoapFault.from_error(error)
        logger.info(
            "nv.soap.fault",
            operation=operation.name if operation else None,
            fault=fault.name,
            code=fault.code,
        )
        return fault_response(fault, relates_to)
    except Exception as error:
        logger.error(
            "nv.soap.internal_error",
            operation=operation.name if operation else None,
            error=type(error).__name__,
            exc_info=error,
        )
        internal = SoapFault("internal error", name="InternalErrorException", code="Server")
        return fault_response(internal, relates_to)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def soap_endpoint(request: HttpRequest) -> HttpResponse:
    """``GET ?wsdl``: the service description; ``POST``: a SOAP 1.1 call."""
    if request.method == "POST":
        return _call(request)
    if any(key.lower() == "wsdl" for key in request.GET):
        location = request.build_absolute_uri(reverse("nummervoorziening-soap"))
        return HttpResponse(wsdl_for(location), content_type=CONTENT_TYPE)
    return HttpResponse(
        "GET this address with ?wsdl for the service description (eckid.wsdl); "
        "send SOAP 1.1 requests with POST.\n",
        status=400,
        content_type="text/plain; charset=utf-8",
    )
