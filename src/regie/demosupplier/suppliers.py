"""The two fictional demo suppliers and the products they launch.

``register_key`` is the supplier's key in :data:`regie.agreements.demo.SUPPLIERS`; ``product``
the name of its product in the demo register. A product with an empty ``prefix`` answers at the
supplier's ``/login`` and ``/callback``; another at ``{prefix}/login`` and ``{prefix}/callback``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoProduct:
    product: str
    prefix: str = ""
    description: str = ""


@dataclass(frozen=True)
class DemoSupplierSpec:
    key: str
    title: str
    register_key: str
    port: int
    colour: str
    products: tuple[DemoProduct, ...]
    roster: bool = False  # a back office that syncs its roster and sends results back

    def base(self, host: str = "127.0.0.1", port: int | None = None) -> str:
        return f"http://{host}:{port or self.port}"


REKENWERELD = DemoSupplierSpec(
    key="rekenwereld",
    title="Rekenwereld",
    register_key="rekenwereld",
    port=8001,
    colour="#0b5cad",
    products=(
        DemoProduct("Rekenwereld", "", "Adaptief oefenen met rekenen voor groep 3 tot en met 8."),
    ),
    roster=True,
)

# "Taalrijk Lezen" has a draft agreement in the demo register: launching it is refused, as it
# should be. "Taalrijk Spelling" gets an active agreement from :mod:`.registration`, so that the
# demo shows a second supplier with its own pseudonym for the same pupil.
TAALRIJK = DemoSupplierSpec(
    key="taalrijk",
    title="Taalrijk",
    register_key="taalrijk",
    port=8002,
    colour="#8a2b6e",
    products=(
        DemoProduct("Taalrijk Lezen", "", "Begrijpend lezen met teksten op niveau."),
        DemoProduct("Taalrijk Spelling", "/spelling", "Spelling oefenen, woord voor woord."),
    ),
)

DEMO_SUPPLIERS = (REKENWERELD, TAALRIJK)
