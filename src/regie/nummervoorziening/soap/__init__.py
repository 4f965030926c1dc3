"""The number service's SOAP 1.1 endpoint: a client generated from ``eckid.wsdl`` works unchanged.

``GET …/soap?wsdl`` serves the packaged ``eckid.wsdl`` (Kennisnet's interface description, kept
byte-identical to the national ``eckid.wsdl``) with its ``soap:address`` pointing at this server.
``POST …/soap`` takes a SOAP 1.1 envelope (document/literal, namespace
``http://ketenid.nl/eck/schemas/v1_0``) and answers with the response element the WSDL's schema
defines, or with a SOAP 1.1 fault. The operations are those of the WSDL; supplier pseudonyms are
not part of it and stay JSON-only (``api.py``). Every operation calls one function of
:mod:`services`, exactly as the JSON API does, and is open to both client roles (a LAS and a
hub). The one permission SOAP meets is ``retrieveBatch`` of a supplier batch (submitted over JSON
by a hub): refused with ``AuthorizationException`` once the client may no longer obtain that
supplier's pseudonyms.

Processing a request, in this order:

1. **Parsing** with lxml, safely: no network, no entity resolution, no DTD (a document type
   declaration is refused, as SOAP 1.1 requires), comments and processing instructions dropped,
   libxml2's default limits on depth and size kept (no ``huge_tree``).
2. **Envelope**: a SOAP 1.1 ``Envelope`` with an optional ``Header`` and a ``Body`` holding exactly
   one element. A SOAP 1.2 envelope gets a ``VersionMismatch`` fault; a header marked
   ``mustUnderstand`` that is not WS-Addressing gets a ``MustUnderstand`` fault.
3. **Operation**: chosen by the body element (``pingRequest`` → ``ping`` …), not by the
   ``SOAPAction`` or ``wsa:Action``, which are not checked against it.
4. **Authentication** (every operation except ``ping``): the client authenticates as for the JSON
   API (``api.ClientAuth``: an API key as ``Authorization: Bearer <key>`` with
   ``NV_AUTH="api-key"``, a client certificate passed on by a trusted proxy with ``"mtls"``), and
   the WS-Addressing ``From`` address must name that client's OIN:
   ``<wsa:From><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous?oin=<OIN>``.
   ``ping`` is answered without authentication, like ``GET /ping`` of the JSON API, so that
   monitoring can probe the service; it reveals only availability, version and time.
5. **Validation** of the body element against the XSD schema embedded in the WSDL.
6. **The call**, and the response: the schema's response element, with WS-Addressing headers as a
   WS-A service sends them (``Action`` = the request's action + ``Response``, a fresh ``MessageID``,
   ``RelatesTo`` = the request's ``MessageID``, ``To`` = anonymous). Replies always go back on the
   HTTP response (``ReplyTo`` is not used).

Errors are SOAP 1.1 faults with HTTP status 500, as SOAP 1.1 over HTTP prescribes. A
:class:`~regie.nummervoorziening.errors.NummervoorzieningError` becomes faultcode ``soap:Client``
(``soap:Server`` where ``soap_client_fault`` is False), faultstring ``"{soap_name}: {detail}"``
and a ``detail`` holding an element ``sid:{soap_name}`` with the message, so clients see the
exception names they know (``NotFinishedException``, ``ContentAlreadyRetrievedException`` …).
Problems with the message itself (not XML, not SOAP 1.1, not valid against the schema, an unknown
operation) are ``soap:Client`` faults named ``InvalidRequestException``. No fault message repeats a
submitted value: XML and schema errors name a position or an element path and the expected type,
never the content. Anything unexpected is a ``soap:Server`` fault "internal error", logged
without values. Invalid items in a batch are no fault: they come back under ``failed``.
Faults are logged by name and operation only; django.request does not log them as server errors.

Modules: ``envelope`` (safe parsing, SOAP 1.1 and WS-Addressing, faults), ``wsdl`` (the packaged
WSDL and its schema), ``operations`` (one handler per WSDL operation) and ``views``.
"""

from .envelope import SoapFault
from .operations import OPERATIONS
from .views import soap_endpoint
from .wsdl import WSDL_PATH, schema, wsdl_for

__all__ = ["OPERATIONS", "WSDL_PATH", "SoapFault", "schema", "soap_endpoint", "wsdl_for"]
