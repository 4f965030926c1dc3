"""``regie-order-check``, the suppliers' kit, run as they would run it: the console script in a
subprocess, on the guide's test vectors and on changed copies of them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from regie.lib import order_vectors, supplier_orders

FILES = Path(__file__).resolve().parents[4] / "docs" / "supplier-orders"
SCRIPT = Path(sys.executable).parent / "regie-order-check"
NOW = str(order_vectors.NOW + 30)


def kit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_verify_says_ok_for_the_vectors_request_and_prints_the_order() -> None:
    done = kit(
        "verify",
        "--jwks",
        str(FILES / "hub-jwks.json"),
        "--request",
        str(FILES / "order-request.http"),
        "--now",
        NOW,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    first, _, rest = done.stdout.partition("\n")
    assert first == "OK"
    assert json.loads(rest) == order_vectors.ORDER


def test_verify_gives_the_reason_for_a_changed_request_or_an_old_one(tmp_path: Path) -> None:
    raw = (FILES / "order-request.http").read_bytes()
    changes = {
        "content-digest does not match the body": raw.replace(b'"erasure"', b'"access!"'),
        "signature does not verify": raw.replace(b"POST /regie/orders", b"POST /regie/orderz"),
        "unknown key id": raw.replace(b'keyid="ed25519-', b'keyid="ed448-'),
    }
    for reason, changed in changes.items():
        path = tmp_path / "request.http"
        path.write_bytes(changed)
        done = kit(
            "verify", "--jwks", str(FILES / "hub-jwks.json"), "--request", str(path), "--now", NOW
        )
        assert (done.returncode, done.stdout.strip()) == (1, f"FAILED: {reason}")
    old = kit(
        "verify",
        "--jwks",
        str(FILES / "hub-jwks.json"),
        "--request",
        str(FILES / "order-request.http"),
    )
    assert (old.returncode, old.stdout.strip()) == (1, "FAILED: signature too old")
    elsewhere = kit(
        "verify",
        "--jwks",
        str(FILES / "hub-jwks.json"),
        "--request",
        str(FILES / "order-request.http"),
        "--now",
        NOW,
        "--url",
        "https://api.rekenwereld.example/other/orders",
    )
    assert elsewhere.stdout.strip() == "FAILED: signature does not verify"
    missing = kit(
        "verify",
        "--jwks",
        str(tmp_path / "none.json"),
        "--request",
        str(FILES / "order-request.http"),
    )
    assert missing.returncode == 2
    assert "cannot read JSON" in missing.stderr


def test_receipt_prints_a_receipt_the_hub_accepts_and_read_receipt_checks_it(
    tmp_path: Path,
) -> None:
    done = kit(
        "receipt",
        "--jwk",
        str(FILES / "supplier-key.json"),
        "--order",
        str(FILES / "order.json"),
        "--status",
        "completed",
        "--client-id",
        order_vectors.CLIENT_ID,
        "--statement",
        "All data deleted.",
        "--now",
        NOW,
        "--jti",
        "kit-test-1",
    )
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    jwks = json.loads((FILES / "supplier-jwks.json").read_text())
    claims = supplier_orders.read_receipt(
        token, jwks=jwks, audience=order_vectors.ISSUER, now=int(NOW)
    )
    assert claims["status"] == "completed"
    assert claims["order"] == order_vectors.ORDER["id"]
    assert claims["order_digest"] == supplier_orders.content_digest(
        (FILES / "order.json").read_bytes()
    )
    assert claims["subjects"] == order_vectors.ORDER["subjects"]
    assert (claims["iss"], claims["jti"], claims["statement"]) == (
        order_vectors.CLIENT_ID,
        "kit-test-1",
        "All data deleted.",
    )

    path = tmp_path / "receipt.jws"
    path.write_text(token)
    read = kit(
        "read-receipt",
        "--jwks",
        str(FILES / "supplier-jwks.json"),
        "--receipt",
        str(path),
        "--audience",
        order_vectors.ISSUER,
        "--now",
        NOW,
    )
    assert read.returncode == 0
    assert read.stdout.startswith("OK\n")
    other_hub = kit(
        "read-receipt",
        "--jwks",
        str(FILES / "supplier-jwks.json"),
        "--receipt",
        str(path),
        "--audience",
        "https://other.example/oidc",
        "--now",
        NOW,
    )
    assert (other_hub.returncode, other_hub.stdout.strip()) == (1, "FAILED: aud is not this hub")
    hub_key = kit(
        "read-receipt",
        "--jwks",
        str(FILES / "hub-jwks.json"),
        "--receipt",
        str(path),
        "--audience",
        order_vectors.ISSUER,
        "--now",
        NOW,
    )
    assert hub_key.stdout.strip() == "FAILED: unknown key id"
