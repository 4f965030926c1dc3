"""The scopes a supplier's client may be given, each with what it allows."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scope:
    name: str
    description: str

    def __str__(self) -> str:
        return self.name


OPENID = Scope(
    "openid",
    "Single sign-on: an ID token with the supplier pseudonym as `sub`, and the claims the "
    "release policy allows.",
)
PROFILE = Scope("profile", "Accepted for compatibility; claims still follow the release policy.")
ROSTER_CORE_READ = Scope(
    "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly",
    "OneRoster 1.2: read licensed groups and pupils without demographics.",
)
ROSTER_DEMOGRAPHICS_READ = Scope(
    "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-demographics.readonly",
    "OneRoster 1.2: read the demographics the release policy allows.",
)

SCOPES = {
    scope.name: scope for scope in (OPENID, PROFILE, ROSTER_CORE_READ, ROSTER_DEMOGRAPHICS_READ)
}
