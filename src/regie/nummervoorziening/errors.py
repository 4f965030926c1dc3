"""The number service's errors: one class per thing that can go wrong, shared by both interfaces.

The JSON API renders them as RFC 9457 problem details (``type`` = ``urn:regie:problem:{code}``),
the SOAP endpoint as SOAP 1.1 faults whose ``faultstring`` starts with the exception name real
ECK iD clients know (``NotFinishedException`` …). Messages never contain an identifier or secret.
"""

from __future__ import annotations

from typing import ClassVar

from regie.lib.problems import ProblemError


class NummervoorzieningError(ProblemError):
    # The fault name a client generated from eckid.wsdl sees, and whether it is the caller's fault.
    soap_name: ClassVar[str] = "InvalidRequestException"
    soap_client_fault: ClassVar[bool] = True


class InvalidInput(NummervoorzieningError):
    code = "invalid-input"
    title = "Invalid input"


class UnknownChain(NummervoorzieningError):
    code = "unknown-chain"
    title = "Unknown chain"
    soap_name = "UnknownChainException"


class UnknownSector(NummervoorzieningError):
    code = "unknown-sector"
    title = "Unknown sector"
    soap_name = "UnknownSectorException"


class AuthenticationFailed(NummervoorzieningError):
    code = "authentication-failed"
    status = 401
    title = "Not authenticated"
    soap_name = "AuthenticationException"


class TemporaryBlocked(NummervoorzieningError):
    code = "temporary-blocked"
    status = 403
    title = "Client temporarily blocked"
    soap_name = "TemporaryBlockedException"


class OperationNotPermitted(NummervoorzieningError):
    """The client's role does not allow this operation (a LAS asking for supplier pseudonyms).

    ``eckid.wsdl`` declares no fault types, and none of its operations is refused by role; the
    name is regie's, for a supplier batch that a client may no longer retrieve over SOAP.
    """

    code = "operation-not-permitted"
    status = 403
    title = "Operation not permitted for this client"
    soap_name = "AuthorizationException"


class SupplierNotDeclared(NummervoorzieningError):
    """A hub asked for a supplier that is not in its registration."""

    code = "supplier-not-declared"
    status = 403
    title = "Supplier not declared by this client"
    soap_name = "AuthorizationException"


class BatchNotFound(NummervoorzieningError):
    code = "batch-not-found"
    status = 404
    title = "Unknown batch"
    soap_name = "BatchNotFoundException"


class NotFinished(NummervoorzieningError):
    code = "batch-not-finished"
    status = 409
    title = "Batch not finished"
    soap_name = "NotFinishedException"
    soap_client_fault = False


class AlreadyRetrieved(NummervoorzieningError):
    code = "batch-already-retrieved"
    status = 410
    title = "Batch already retrieved"
    soap_name = "ContentAlreadyRetrievedException"


class ContentRemoved(NummervoorzieningError):
    code = "batch-removed"
    status = 410
    title = "Batch removed"
    soap_name = "ContentRemovedException"


class BatchTooLarge(NummervoorzieningError):
    code = "batch-too-large"
    status = 413
    title = "Batch too large"
    soap_name = "BatchTooLargeException"


class QuotaExceeded(NummervoorzieningError):
    code = "daily-batch-quota-exceeded"
    status = 429
    title = "Daily batch quota exceeded"
    soap_name = "LimitDailyBatchSubmissionsExceededException"


class SubstitutionConflict(NummervoorzieningError):
    code = "substitution-conflict"
    status = 409
    title = "Substitution refused"
    soap_name = "SubstitutionException"


class ServiceUnavailable(NummervoorzieningError):
    code = "service-unavailable"
    status = 503
    title = "Number service unavailable"
    soap_name = "ServiceUnavailableException"
    soap_client_fault = False
