"""``regie-order-check``: a supplier's kit for regie's order channel (``docs/supplier-orders.md``).

- ``regie-order-check verify --jwks <file|url> --request <raw HTTP request file> [--url URL]
  [--now UNIX]`` checks an order request as a supplier must (RFC 9421 signature with the hub's
  key, ``Content-Digest``, the time window, ``webhook-id``) and prints ``OK`` and the order, or
  ``FAILED: <reason>`` (exit status 1);
- ``regie-order-check receipt --jwk <private JWK file> --order <order body file> --status
  completed --client-id <client_id> [--statement TEXT] [--subjects a,b] [--data JSON]
  [--now UNIX] [--jti ID]`` prints a receipt (a compact JWS) for the order;
- ``regie-order-check read-receipt --jwks <file|url> --receipt <file> --audience <issuer>
  [--now UNIX]`` checks a receipt as the hub does (its signature and claims) and prints them.

No Django: it uses :mod:`regie.lib.supplier_orders`, the same code as the hub.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from . import supplier_orders


class KitError(Exception):
    """A file or argument the kit cannot use; the text says which."""


def load_json(source: str) -> Any:
    """JSON from a file, or from an ``http(s)://`` URL."""
    try:
        if source.startswith(("https://", "http://")):
            answer = httpx.get(source, timeout=10.0)
            answer.raise_for_status()
            return answer.json()
        return json.loads(Path(source).read_bytes())
    except (OSError, httpx.HTTPError, ValueError) as error:
        raise KitError(f"cannot read JSON from {source}: {type(error).__name__}") from None


def parse_request(raw: bytes) -> tuple[str, str, dict[str, str], bytes]:
    """A raw HTTP/1.1 request: method, request target, header fields (lower-case) and body."""
    head, separator, body = raw.partition(b"\r\n\r\n")
    if not separator:
        head, separator, body = raw.partition(b"\n\n")
    if not separator:
        raise KitError("the request has no empty line between the headers and the body")
    lines = head.decode("latin-1").splitlines()
    try:
        method, target, _version = lines[0].split(" ", 2)
    except (IndexError, ValueError):
        raise KitError("the request line is not 'METHOD target HTTP/1.1'") from None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise KitError("a header line has no name")
        key = name.strip().lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    if "content-length" in headers:
        try:
            body = body[: int(headers["content-length"])]
        except ValueError:
            raise KitError("content-length is not a number") from None
    return method, target, headers, body


def verify(options: argparse.Namespace) -> int:
    method, target, headers, body = parse_request(Path(options.request).read_bytes())
    url = options.url or f"https://{headers.get('host', '')}{target}"
    now = options.now if options.now is not None else int(time.time())
    try:
        order = supplier_orders.verify_order_request(
            method=method,
            url=url,
            headers=headers,
            body=body,
            jwks=load_json(options.jwks),
            now=now,
            tolerance=options.tolerance,
        )
    except supplier_orders.OrderSignatureError as error:
        print(f"FAILED: {error.reason}")
        return 1
    print("OK")
    print(json.dumps(order, indent=2, ensure_ascii=False))
    return 0


def receipt(options: argparse.Namespace) -> int:
    body = Path(options.order).read_bytes()
    try:
        order = json.loads(body)
        data = json.loads(options.data)
    except ValueError:
        raise KitError("the order file and --data must be JSON") from None
    if not isinstance(order, dict) or not isinstance(data, dict):
        raise KitError("the order and --data must be JSON objects")
    subjects = options.subjects.split(",") if options.subjects else list(order.get("subjects", []))
    private_jwk = load_json(options.jwk)
    if not isinstance(private_jwk, dict) or "kid" not in private_jwk:
        raise KitError("the JWK file holds no private JWK with a kid")
    try:
        token = supplier_orders.make_receipt(
            order=order,
            order_digest=supplier_orders.content_digest(body),
            status=options.status,
            subjects=subjects,
            statement=options.statement,
            data=data,
            client_id=options.client_id,
            private_jwk=private_jwk,
            now=options.now if options.now is not None else int(time.time()),
            jti=options.jti,
        )
    except (KeyError, ValueError) as error:
        raise KitError(f"cannot sign the receipt: {error}") from None
    print(token)
    return 0


def read_receipt(options: argparse.Namespace) -> int:
    token = Path(options.receipt).read_text().strip()
    try:
        claims = supplier_orders.read_receipt(
            token,
            jwks=load_json(options.jwks),
            audience=options.audience,
            now=options.now if options.now is not None else int(time.time()),
        )
    except supplier_orders.ReceiptError as error:
        print(f"FAILED: {error.reason}")
        return 1
    print("OK")
    print(json.dumps(claims, indent=2, ensure_ascii=False))
    return 0


def parser() -> argparse.ArgumentParser:
    main_parser = argparse.ArgumentParser(
        prog="regie-order-check", description="Check regie's orders and make receipts."
    )
    commands = main_parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("verify", help="verify an order request")
    check.add_argument("--jwks", required=True, help="the hub's JWKS: a file or <issuer>/jwks")
    check.add_argument("--request", required=True, help="a file with the raw HTTP request")
    check.add_argument("--url", help="the URL it was sent to (default https://<host><target>)")
    check.add_argument("--now", type=int, help="the time to check against (Unix seconds)")
    check.add_argument("--tolerance", type=int, default=supplier_orders.TOLERANCE)
    check.set_defaults(run=verify)
    make = commands.add_parser("receipt", help="make a signed receipt for an order")
    make.add_argument("--jwk", required=True, help="your private JWK (a key you registered)")
    make.add_argument("--order", required=True, help="the order's body, byte for byte")
    make.add_argument("--status", required=True, choices=supplier_orders.RECEIPT_STATUSES)
    make.add_argument("--client-id", required=True, help="the client whose JWKS holds the key")
    make.add_argument("--statement", default="", help="what was done (or why refused)")
    make.add_argument("--subjects", help="comma-separated pseudonyms (default: the order's)")
    make.add_argument("--data", default="{}", help="JSON object (access orders)")
    make.add_argument("--now", type=int, help="iat (Unix seconds; default now)")
    make.add_argument("--jti", help="the receipt's unique id (default random)")
    make.set_defaults(run=receipt)
    read = commands.add_parser("read-receipt", help="verify a receipt as the hub does")
    read.add_argument("--jwks", required=True, help="your registered JWKS: a file or URL")
    read.add_argument("--receipt", required=True, help="a file with the compact JWS")
    read.add_argument("--audience", required=True, help="the hub's issuer")
    read.add_argument("--now", type=int, help="the time to check against (Unix seconds)")
    read.set_defaults(run=read_receipt)
    return main_parser


def main(argv: list[str] | None = None) -> int:
    options = parser().parse_args(argv)
    try:
        status: int = options.run(options)
    except (KitError, OSError) as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 2
    return status


if __name__ == "__main__":
    sys.exit(main())
