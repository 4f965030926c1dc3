"""The OpenAPI 3.1 document of the hub's receipt endpoint (``docs/openapi/orders.json``).

``POST /orders/receipts`` (:mod:`.receipts`) is a plain Django view, so the document is written
here as code, after what the view answers. The order itself (hub → supplier) is described from
the supplier's side in ``docs/supplier-orders/openapi.yaml``, as a webhook; this is the hub's
side. ``regie openapi`` writes it; ``regie openapi --check`` fails when the committed file
differs.
"""

from __future__ import annotations

from typing import Any

from regie.lib.problems import PROBLEM_CONTENT_TYPE

from .receipts import CONTENT_TYPE, MAX_BYTES

Schema = dict[str, Any]

PATH = "/orders/receipts"

PROBLEM: Schema = {
    "type": "object",
    "description": "RFC 9457 problem details. `detail` is a short reason that names no value "
    "from the receipt.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {
            "type": "string",
            "description": "urn:regie:problem:receipt-refused, :receipt-replayed, "
            ":unsupported-media-type or :too-large.",
        },
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
    },
}


def _problem(description: str) -> Schema:
    return {
        "description": description,
        "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _receipts() -> Schema:
    return {
        "post": {
            "operationId": "postReceipt",
            "summary": "Hand in a signed receipt for an order",
            "description": "A supplier's receipt for an order the hub sent (accepted, completed "
            "or refused), when it was not handed back in the answer to the order. The body is "
            "the compact JWS (RFC 7515) of docs/supplier-orders.md §2, signed with a key in the "
            "JWKS of one of the supplier's active clients (`iss` is that client's id). No other "
            "authentication: the signature is the supplier's. A refused receipt changes nothing "
            "and is audited.",
            "requestBody": {
                "required": True,
                "content": {
                    CONTENT_TYPE: {
                        "schema": {
                            "type": "string",
                            "maxLength": MAX_BYTES,
                            "description": "The compact JWS: header.payload.signature, "
                            "typ regie-receipt+jwt.",
                            "pattern": r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$",
                        }
                    }
                },
            },
            "responses": {
                "202": {"description": "Verified and recorded; the order moved on."},
                "400": _problem(
                    "Refused: the signature does not verify, the key or `iss` is not the "
                    "order's supplier's, `aud` is not the hub, the order is unknown, "
                    "`order_digest` differs, `iat` is more than 300 s off, a subject is not in "
                    "the order, or the status does not follow the order's state."
                ),
                "409": _problem("Refused: a receipt with this `jti` was recorded already."),
                "413": _problem(f"Refused: the body is larger than {MAX_BYTES} bytes."),
                "415": _problem(f"Refused: the body is not {CONTENT_TYPE}."),
            },
        }
    }


def document() -> Schema:
    """The whole OpenAPI 3.1 document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "regie receipt endpoint (for suppliers)",
            "version": "1.0",
            "description": "Where suppliers hand in the signed receipts for the hub's orders "
            "(erasure, access, …). The orders, their signatures and the receipts' format: "
            "docs/supplier-orders.md.",
        },
        "paths": {PATH: _receipts()},
        "components": {"schemas": {"Problem": PROBLEM}},
    }
