"""The OneRoster 1.2 REST binding's error payload and its code-minor values as exceptions.

OneRoster Rostering Service REST/JSON Binding 1.2, "Status codes" and the ``imsx_StatusInfo``
structure (from the 1EdTech common data model, ``imsxStatusInfoDType``): a failed request answers
with ``imsx_codeMajor`` ``failure``, ``imsx_severity`` ``error``, a human description and one
``imsx_CodeMinor`` field naming the reason. Descriptions name fields and operators, never a value
from the request (a value may be a pseudonym).
"""

from __future__ import annotations

from typing import Any, ClassVar

import orjson
from django.http import HttpResponse


class OneRosterError(Exception):
    """A refused request; ``code_minor`` and ``status`` as the binding defines them."""

    code_minor: ClassVar[str] = "invaliddata"
    status: ClassVar[int] = 400

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description

    def payload(self) -> dict[str, Any]:
        return status_info(self.code_minor, self.description)

    def response(self) -> HttpResponse:
        return HttpResponse(
            orjson.dumps(self.payload()), status=self.status, content_type="application/json"
        )


class InvalidData(OneRosterError):
    """A parameter (``limit``, ``offset``, ``orderBy`` …) has a value the binding does not allow."""

    code_minor = "invaliddata"


class InvalidFilterField(OneRosterError):
    """``filter`` is malformed or names a field that cannot be filtered on."""

    code_minor = "invalid_filter_field"


class InvalidSelectionField(OneRosterError):
    """``fields`` names a field the collection does not have."""

    code_minor = "invalid_selection_field"


class InvalidSortField(OneRosterError):
    """``sort`` names a field that cannot be sorted on."""

    code_minor = "invalid_sort_field"


class UnknownObject(OneRosterError):
    """No such object — or one the supplier may not see: the same answer for both."""

    code_minor = "unknownobject"
    status = 404


class UnauthorisedRequest(OneRosterError):
    """No valid access token."""

    code_minor = "unauthorisedrequest"
    status = 401


class Forbidden(OneRosterError):
    """A valid token without the scope the endpoint needs."""

    code_minor = "forbidden"
    status = 403


class ServerBusy(OneRosterError):
    """A service the answer depends on (the number service) is not reachable now."""

    code_minor = "server_busy"
    status = 503


class InternalServerError(OneRosterError):
    code_minor = "internal_server_error"
    status = 500


def status_info(code_minor: str, description: str) -> dict[str, Any]:
    return {
        "imsx_codeMajor": "failure",
        "imsx_severity": "error",
        "imsx_description": description,
        "imsx_CodeMinor": {
            "imsx_codeMinorField": [
                {
                    "imsx_codeMinorFieldName": "TargetEndSystem",
                    "imsx_codeMinorFieldValue": code_minor,
                }
            ]
        },
    }
