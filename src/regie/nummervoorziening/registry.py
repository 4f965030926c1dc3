"""The chains and sectors the number service knows, from configuration (a TOML file).

A chain (keten) is a group of parties that share ECK iDs; a sector is a part of education with its
own ECK iD (DESIGN §2). Sector codes may have aliases: SO and VSO use PO's identifier.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

BUILT_IN = Path(__file__).with_name("registry.toml")


@dataclass(frozen=True)
class Chain:
    id: str
    name: str
    description: str
    last_edited: datetime


@dataclass(frozen=True)
class Sector:
    code: str
    id: str
    name: str
    description: str
    last_edited: datetime
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Registry:
    chains: dict[str, Chain]
    sectors: dict[str, Sector]

    def chain(self, chain_id: str) -> Chain | None:
        return self.chains.get(chain_id)

    def sector(self, sector_id: str) -> Sector | None:
        return self.sectors.get(sector_id)

    def sector_by_code(self, code: str) -> Sector | None:
        wanted = code.upper()
        for sector in self.sectors.values():
            if sector.code == wanted or wanted in sector.aliases:
                return sector
        return None


def _moment(value: object, where: str) -> datetime:
    if not isinstance(value, datetime):
        raise ImproperlyConfigured(f"{where}: last_edited must be a TOML date-time")
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _text(entry: dict[str, object], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value:
        raise ImproperlyConfigured(f"{where}: {key} must be a non-empty string")
    return value


def load_registry(path: Path) -> Registry:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ImproperlyConfigured(
            f"chain/sector registry {path} cannot be read: {error}"
        ) from None
    chains: dict[str, Chain] = {}
    for number, entry in enumerate(data.get("chains", []), start=1):
        where = f"{path} chains[{number}]"
        chain = Chain(
            id=_text(entry, "id", where),
            name=_text(entry, "name", where),
            description=_text(entry, "description", where),
            last_edited=_moment(entry.get("last_edited"), where),
        )
        chains[chain.id] = chain
    sectors: dict[str, Sector] = {}
    for number, entry in enumerate(data.get("sectors", []), start=1):
        where = f"{path} sectors[{number}]"
        sector = Sector(
            code=_text(entry, "code", where).upper(),
            id=_text(entry, "id", where),
            name=_text(entry, "name", where),
            description=_text(entry, "description", where),
            last_edited=_moment(entry.get("last_edited"), where),
            aliases=tuple(str(alias).upper() for alias in entry.get("aliases", [])),
        )
        sectors[sector.id] = sector
    if not chains or not sectors:
        raise ImproperlyConfigured(f"{path} must define at least one chain and one sector")
    return Registry(chains=chains, sectors=sectors)


@cache
def get_registry() -> Registry:
    configured = settings.NV_REGISTRY_FILE
    return load_registry(Path(configured) if configured else BUILT_IN)
