"""``POST /orders/receipts``: where suppliers hand in signed receipts for orders.

The body is the compact JWS (``content-type: application/jose``). The answer is ``202`` when
the receipt was verified and recorded, else an RFC 9457 problem: ``400`` with the reason, or
``409`` for a receipt seen already. No session, no CSRF token: the receipt's signature is the
supplier's authentication.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from regie.lib.problems import problem_response

from . import services

CONTENT_TYPE = "application/jose"
MAX_BYTES = 256 * 1024


def signed_body(request: HttpRequest, *, what: str, max_bytes: int) -> str | HttpResponse:
    """The compact JWS a supplier POSTed (a receipt, a breach report), or the problem to answer:
    415 for another content type, 413 above ``max_bytes``. A body that is not ASCII comes back
    as ``""``, which the JWS check then refuses with its reason."""
    if request.content_type != CONTENT_TYPE:
        return problem_response(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            f"A {what} is sent as application/jose (a compact JWS).",
        )
    if len(request.body) > max_bytes:
        return problem_response(
            413, "too-large", "Too large", f"A {what} is at most {max_bytes // 1024} KiB."
        )
    try:
        return request.body.decode("ascii")
    except UnicodeDecodeError:
        return ""


@csrf_exempt
@require_POST
def receive(request: HttpRequest) -> HttpResponse:
    token = signed_body(request, what="receipt", max_bytes=MAX_BYTES)
    if isinstance(token, HttpResponse):
        return token
    try:
        services.record_receipt(token, via="endpoint")
    except services.ReceiptRefused as refused:
        code = "receipt-replayed" if refused.status == 409 else "receipt-refused"
        title = "Receipt replayed" if refused.status == 409 else "Receipt refused"
        return problem_response(refused.status, code, title, refused.reason)
    return HttpResponse(status=202)
