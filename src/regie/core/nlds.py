"""The NL Design System's style sheets, vendored: the pins, and the refresh from npm.

regie's look is the NL Design System's community components (Utrecht's component library, EUPL-1.2)
with the NL Design System's example theme for the design tokens (EUPL-1.2), and a small token
layer of regie's own on top (``static/regie/regie.css``). The built CSS is committed under
``static/regie/nlds/``, so that ``make demo`` needs no Node and no page loads anything from
another origin. ``nlds.json`` beside it names each package's version and tarball integrity, and
each vendored file's SHA-256; a test checks the files against it and against the pins here.

``make nlds`` (``python -m regie.core.nlds``) refreshes the files: ``npm pack`` fetches each
pinned tarball, its SHA-512 must equal the pinned integrity, and the listed files are copied and
the manifest rewritten. To move to a new version, change the pin here (version and the
``integrity`` that ``npm view <name>@<version> dist.integrity`` prints) and run ``make nlds``.

Not vendored, on purpose: the design tokens of Utrecht and of the Rijkshuisstijl are not open
source (their LICENSE.md excludes them from the EUPL; see docs/nl-design-system.md).
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static" / "regie" / "nlds"
MANIFEST = STATIC_DIR / "nlds.json"


@dataclass(frozen=True)
class Package:
    """One npm package: its pin and the files of its tarball that regie serves."""

    name: str
    version: str
    integrity: str  # npm's Subresource-Integrity string of the tarball (sha512-…)
    files: tuple[str, ...]  # paths inside the tarball's package/ folder
    licence: str

    @property
    def folder(self) -> str:
        """The folder under static/regie/nlds/: the name, scope included, as one word."""
        return self.name.removeprefix("@").replace("/", "-")


PACKAGES = (
    Package(
        name="@utrecht/component-library-css",
        version="9.0.4",
        integrity=(
            "sha512-gVA7D6GfP9/+fzehkYLSBR+0UPUTA97PZmgvTYQE88lPQhHGMlUk8FjmCpLKRsRC9hAYd32JuF/KzG6fmBfjJA=="
        ),
        files=("dist/index.css", "dist/html.css", "LICENSE.md"),
        licence="EUPL-1.2",
    ),
    Package(
        name="@nl-design-system-unstable/voorbeeld-design-tokens",
        version="7.4.1",
        integrity=(
            "sha512-GNnapAn2mTIzXRcCvs0JMr4Bf9+ivUJ3zFBJLRT1SYpAYm2xPwptVxIM3k4WLJ0c59E9FfxsEBPJluGuAHUVvg=="
        ),
        files=("dist/theme.css", "LICENSE.md"),
        licence="EUPL-1.2",
    ),
)


def target(package: Package, path: str) -> Path:
    """Where a file of the tarball lives in the static files (``dist/`` dropped)."""
    return STATIC_DIR / package.folder / Path(path).name


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def integrity_of(data: bytes) -> str:
    """npm's integrity string (SRI, SHA-512) of a tarball's bytes."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def manifest() -> dict[str, object]:
    """The manifest as the committed files are now."""
    return {
        "about": "Vendored by `make nlds` (regie/core/nlds.py); do not edit by hand.",
        "packages": [
            {
                "name": package.name,
                "version": package.version,
                "licence": package.licence,
                "integrity": package.integrity,
                "files": {
                    target(package, path).relative_to(STATIC_DIR).as_posix(): sha256(
                        target(package, path)
                    )
                    for path in package.files
                },
            }
            for package in PACKAGES
        ],
    }


def refresh(package: Package, workdir: Path) -> None:
    """Fetch one pinned tarball with npm, check its integrity, copy its files."""
    spec = f"{package.name}@{package.version}"
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("make nlds needs npm (Node.js); the demo and the tests do not")
    output = subprocess.run(  # noqa: S603 (npm with the pinned package names)
        [npm, "pack", "--json", "--pack-destination", str(workdir), spec],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    tarball = workdir / json.loads(output)[0]["filename"]
    actual = integrity_of(tarball.read_bytes())
    if actual != package.integrity:
        raise SystemExit(f"{spec}: the tarball's integrity is {actual}, the pin says otherwise")
    with tarfile.open(tarball) as archive:
        for path in package.files:
            member = archive.extractfile(f"package/{path}")
            if member is None:
                raise SystemExit(f"{spec}: {path} is not a file in the tarball")
            destination = target(package, path)
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(member.read())
    print(f"{spec}: {', '.join(package.files)}")


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        for package in PACKAGES:
            refresh(package, Path(workdir))
    MANIFEST.write_text(json.dumps(manifest(), indent=2) + "\n", encoding="utf-8")
    print(f"wrote {MANIFEST}", file=sys.stderr)


if __name__ == "__main__":
    main()
