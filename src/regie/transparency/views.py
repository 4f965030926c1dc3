"""The log as the public sees it (``/log/``: a page, the newest checkpoint, the keys, proofs)
and the privacy officer's proof bundle of one event.

The public URLs show nothing personal: checkpoints and proofs are hashes; the leaves behind them
hold only hashes of their subject and details (docs/audit-log.md).
"""

from __future__ import annotations

import orjson
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from regie.agreements import audit_log
from regie.agreements import services as register
from regie.agreements.views.common import board_register_page, user_of
from regie.audit import rfc9162
from regie.audit.models import AuditEvent
from regie.lib.logging import get_logger
from regie.lib.problems import json_response, problem_response

from . import keys, services
from .models import Witness

logger = get_logger(__name__)

TEXT = "text/plain; charset=utf-8"


def _unavailable(error: keys.LogKeyError) -> HttpResponse:
    """The operator reads why in the log (it names the key file); the public answer names no
    path of the server."""
    logger.error("transparency.log_key_unavailable", reason=str(error))
    return problem_response(
        503,
        "log-unavailable",
        "The log is not published",
        "The log's signing key is not available; the hub's administrator has been told.",
    )


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    checkpoint = services.latest()
    context = {
        "checkpoint": checkpoint,
        "cosigned_by": (
            [c.witness for c in checkpoint.cosignatures.select_related("witness")]
            if checkpoint
            else []
        ),
        "witnesses": Witness.objects.filter(active=True),
        "origin": keys.origin(),
    }
    return render(request, "transparency/index.html", context)


@require_GET
def checkpoint(request: HttpRequest) -> HttpResponse:
    newest = services.latest()
    if newest is None:
        return problem_response(
            404, "no-checkpoint", "No checkpoint yet", "The log has not published a checkpoint."
        )
    response = HttpResponse(newest.cosigned(), content_type=TEXT)
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def key_list(request: HttpRequest) -> HttpResponse:
    try:
        return HttpResponse(services.key_list(), content_type=TEXT)
    except keys.LogKeyError as error:
        return _unavailable(error)


def _sizes(request: HttpRequest, *names: str) -> list[int] | HttpResponse:
    values = []
    for name in names:
        raw = request.GET.get(name, "")
        if not raw.isdigit() or len(raw) > 18:
            return problem_response(
                400,
                "bad-parameter",
                "Bad parameter",
                f"`{name}` must be a whole number from 0 (it is "
                f"{'missing' if not raw else 'not one'})",
            )
        values.append(int(raw))
    return values


@require_GET
def inclusion(request: HttpRequest) -> HttpResponse:
    sizes = _sizes(request, "leaf_index", "tree_size")
    if isinstance(sizes, HttpResponse):
        return sizes
    try:
        return json_response(services.inclusion(*sizes))
    except rfc9162.ProofError as error:
        return problem_response(400, "no-such-proof", "No such proof", str(error))


@require_GET
def consistency(request: HttpRequest) -> HttpResponse:
    sizes = _sizes(request, "tree_size_1", "tree_size_2")
    if isinstance(sizes, HttpResponse):
        return sizes
    try:
        return json_response(services.consistency(*sizes))
    except rfc9162.ProofError as error:
        return problem_response(400, "no-such-proof", "No such proof", str(error))


@board_register_page
@require_GET
def bundle(request: HttpRequest, event_id: int) -> HttpResponse:
    """One event of the board with its proof, as a file for ``regie-verify bundle``."""
    visible = audit_log.board_events(register.editable_boards(user_of(request)))
    event = visible.filter(pk=event_id).first() or _not_found()
    try:
        body = services.bundle(event)
    except keys.LogKeyError as error:
        return _unavailable(error)
    response = HttpResponse(
        orjson.dumps(body, option=orjson.OPT_INDENT_2), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="regie-bewijs-{event.pk}.json"'
    return response


def _not_found() -> AuditEvent:
    raise Http404
