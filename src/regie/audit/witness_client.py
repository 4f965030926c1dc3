"""The hub's side of C2SP tlog-witness (c2sp.org/tlog-witness): asking a witness to cosign.

:func:`add_checkpoint` sends a checkpoint with the old size and a consistency proof and returns
the witness's cosignature lines, or a :class:`Conflict` with the size the witness has (its 409:
the caller retries with a proof from that size). Every other answer is a :class:`WitnessRefused`
naming the status and the witness's one-line reason; a witness that cannot be reached is a
:class:`WitnessUnreachable`. The caller checks the cosignatures against the witness keys it
trusts (``signed_note.open_note``) before publishing them: a line from an unknown key is ignored
there, as the spec requires. No Django here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from regie.audit.witness import SIZE_CONTENT_TYPE, format_add_checkpoint

_SIGNATURE_LINE = re.compile(r"\u2014 [^ ]+ [A-Za-z0-9+/=]+")
_SIZE = re.compile(r"(0|[1-9][0-9]{0,18})\n")


class WitnessError(Exception):
    """A witness did not cosign."""


class WitnessRefused(WitnessError):
    """The witness answered with an error status (or with something that is not the protocol)."""

    def __init__(self, url: str, status: int, reason: str) -> None:
        super().__init__(f"the witness at {url} answered {status}: {reason}")
        self.status = status
        self.reason = reason


class WitnessUnreachable(WitnessError):
    """No answer from the witness (connection refused, timed out)."""


@dataclass(frozen=True)
class Conflict:
    """The witness's latest cosigned size is not the old size sent (409)."""

    size: int


def add_checkpoint(
    url: str,
    old_size: int,
    proof: Sequence[bytes],
    note_bytes: bytes,
    *,
    client: httpx.Client | None = None,
    timeout: float = 10.0,
) -> list[str] | Conflict:
    """``POST <url>/add-checkpoint``; ``url`` is the witness's submission prefix.

    Returns the cosignature lines (each ending in a newline, for ``signed_note.add_signatures``),
    or :class:`Conflict` with the witness's size."""
    endpoint = url.rstrip("/") + "/add-checkpoint"
    body = format_add_checkpoint(old_size, proof, note_bytes)
    try:
        if client is None:
            with httpx.Client() as own:
                response = own.post(endpoint, content=body, timeout=timeout)
        else:
            response = client.post(endpoint, content=body, timeout=timeout)
    except httpx.TransportError as error:
        raise WitnessUnreachable(f"the witness at {url} cannot be reached: {error}") from None
    return _read_answer(url, response)


def _read_answer(url: str, response: httpx.Response) -> list[str] | Conflict:
    text = response.content.decode("utf-8", errors="replace")
    if response.status_code == 409:
        content_type = response.headers.get("content-type", "").split(";")[0].strip()
        match = _SIZE.fullmatch(text)
        if content_type != SIZE_CONTENT_TYPE or match is None:
            raise WitnessRefused(url, 409, "a conflict without its size as text/x.tlog.size")
        return Conflict(int(match[1]))
    if response.status_code != 200:
        reason = text.strip().splitlines()[0][:200] if text.strip() else "no reason given"
        raise WitnessRefused(url, response.status_code, reason)
    if not text.endswith("\n"):
        raise WitnessRefused(url, 200, "the answer does not end in a newline")
    lines = [line + "\n" for line in text[:-1].split("\n")]
    if not all(_SIGNATURE_LINE.fullmatch(line[:-1]) for line in lines):
        raise WitnessRefused(url, 200, "the answer is not a list of signature lines")
    return lines
