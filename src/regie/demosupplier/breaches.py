"""The demo supplier reports a data breach to the hub over the order channel: a compact JWS of
type ``regie-breach+jwt`` signed with the key it registered (as its receipts are), sent as
``POST <hub>/oversight/breaches`` (``application/jose``). The hub opens an incident at every
board whose pupils the report concerns and answers how many (see ``docs/oversight.md``).

The demo's breach: a back-up of *Rekenwereld*'s classroom lists stood open on the internet for
the last 30 days.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from regie.lib.supplier_orders import make_breach_report

from .orders import Signer
from .rostering import hub_base

TIMEOUT_SECONDS = 10
WINDOW_DAYS = 30
DEMO_DESCRIPTION = (
    "Een back-up van de klassenlijsten van Rekenwereld stond 30 dagen open op internet. Daarin "
    "stonden de pseudoniemen, groepen en voornamen van leerlingen die Rekenwereld gebruikten."
)


@dataclass(frozen=True)
class Sent:
    status: int
    incidents: int | None  # the hub's count of incidents opened (202), else None
    detail: str  # the hub's reason when refused


def report_breach(
    signer: Signer,
    issuer: str,
    *,
    description: str = DEMO_DESCRIPTION,
    window_days: int = WINDOW_DAYS,
    subjects: list[str] | None = None,
    now: int | None = None,
) -> Sent:
    """Sign and send a breach report for the last ``window_days`` days."""
    now = int(time.time()) if now is None else now
    token = make_breach_report(
        client_id=signer.client_id,
        private_jwk=signer.private_jwk,
        audience=issuer,
        now=now,
        detected_at=now,
        description=description,
        window=(now - window_days * 86400, now),
        subjects=subjects,
    )
    try:
        answer = httpx.post(
            f"{hub_base(issuer)}/oversight/breaches",
            content=token,
            headers={"content-type": "application/jose"},
            timeout=TIMEOUT_SECONDS,
        )
    except httpx.HTTPError:
        return Sent(0, None, "regie is niet bereikbaar")
    try:
        body = answer.json()
    except ValueError:
        body = {}
    if answer.status_code == 202:
        return Sent(202, int(body.get("incidents", 0)), "")
    return Sent(answer.status_code, None, str(body.get("detail", "")))
