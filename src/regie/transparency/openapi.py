"""The OpenAPI 3.1 document of the published log (``docs/openapi/log.json``), written as code
after what :mod:`.views` answers; ``regie openapi --check`` fails when the file differs."""

from __future__ import annotations

from typing import Any

from regie.lib.problems import PROBLEM_CONTENT_TYPE

Schema = dict[str, Any]

HASHES: Schema = {
    "type": "array",
    "items": {"type": "string", "contentEncoding": "base64", "description": "A SHA-256 hash."},
}

PROBLEM: Schema = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {
            "type": "string",
            "description": "urn:regie:problem:bad-parameter, :no-such-proof, :no-checkpoint or "
            ":log-unavailable.",
        },
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
    },
}


def _size(name: str, description: str) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": True,
        "description": description,
        "schema": {"type": "integer", "minimum": 0},
    }


def _problem(description: str) -> Schema:
    return {
        "description": description,
        "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _json(description: str, schema: Schema) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _text(description: str) -> Schema:
    return {
        "description": description,
        "content": {"text/plain; charset=utf-8": {"schema": {"type": "string"}}},
    }


def _paths() -> Schema:
    return {
        "/log/checkpoint": {
            "get": {
                "operationId": "getCheckpoint",
                "summary": "The newest checkpoint, with the witnesses' cosignatures",
                "description": "A C2SP signed note holding a tlog-checkpoint (origin, tree size, "
                "base64 root hash), signed by the log's Ed25519 key and cosigned (cosignature/v1) "
                "by the witnesses that checked it extends what they saw before.",
                "responses": {
                    "200": _text("The signed note."),
                    "404": _problem("No checkpoint was published yet."),
                },
            }
        },
        "/log/keys": {
            "get": {
                "operationId": "getKeys",
                "summary": "The keys to trust: the log's first, then the active witnesses'",
                "description": "One C2SP verifier key (name+key ID+base64 key) per line.",
                "responses": {
                    "200": _text("The verifier keys."),
                    "503": _problem("The log's signing key is not available."),
                },
            }
        },
        "/log/proof/inclusion": {
            "get": {
                "operationId": "getInclusionProof",
                "summary": "The inclusion proof of a leaf (RFC 9162 2.1.3)",
                "parameters": [
                    _size("leaf_index", "The leaf's index, from 0."),
                    _size("tree_size", "The size of the tree to prove it in (a checkpoint's)."),
                ],
                "responses": {
                    "200": _json(
                        "The audit path, from the leaf upwards.",
                        {
                            "type": "object",
                            "required": ["leaf_index", "tree_size", "leaf_hash", "inclusion_path"],
                            "properties": {
                                "leaf_index": {"type": "integer"},
                                "tree_size": {"type": "integer"},
                                "leaf_hash": {"type": "string", "contentEncoding": "base64"},
                                "inclusion_path": HASHES,
                            },
                        },
                    ),
                    "400": _problem("A parameter is not a number, or no such leaf or tree."),
                },
            }
        },
        "/log/proof/consistency": {
            "get": {
                "operationId": "getConsistencyProof",
                "summary": "The consistency proof between two tree sizes (RFC 9162 2.1.4)",
                "parameters": [
                    _size("tree_size_1", "The older size."),
                    _size("tree_size_2", "The newer size, at most the log's."),
                ],
                "responses": {
                    "200": _json(
                        "The consistency path.",
                        {
                            "type": "object",
                            "required": ["tree_size_1", "tree_size_2", "consistency_path"],
                            "properties": {
                                "tree_size_1": {"type": "integer"},
                                "tree_size_2": {"type": "integer"},
                                "consistency_path": HASHES,
                            },
                        },
                    ),
                    "400": _problem("A parameter is not a number, or the sizes are not ordered."),
                },
            }
        },
    }


def document() -> Schema:
    """The whole OpenAPI 3.1 document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "regie's provable audit log",
            "version": "1.0",
            "description": "What anyone may fetch to check the hub's audit log: the newest "
            "checkpoint, the keys, inclusion and consistency proofs. Leaves hold no personal "
            "data. Check them with `regie-verify` (docs/verify.md); the log: docs/audit-log.md.",
        },
        "paths": _paths(),
        "components": {"schemas": {"Problem": PROBLEM}},
    }
