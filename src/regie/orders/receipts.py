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


@csrf_exempt
@require_POST
def receive(request: HttpRequest) -> HttpResponse:
    if request.content_type != CONTENT_TYPE:
        return problem_response(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            "A receipt is sent as application/jose (a compact JWS).",
        )
    if len(request.body) > MAX_BYTES:
        return problem_response(413, "too-large", "Too large", "A receipt is at most 256 KiB.")
    try:
        token = request.body.decode("ascii")
    except UnicodeDecodeError:
        token = ""
    try:
        services.record_receipt(token, via="endpoint")
    except services.ReceiptRefused as refused:
        code = "receipt-replayed" if refused.status == 409 else "receipt-refused"
        title = "Receipt replayed" if refused.status == 409 else "Receipt refused"
        return problem_response(refused.status, code, title, refused.reason)
    return HttpResponse(status=202)
