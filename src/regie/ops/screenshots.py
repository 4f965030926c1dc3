"""Screenshots of every role's main pages at 1280 and 390 CSS px (``make screenshots``).

Starts ``regie demo`` in a temporary data directory on a free port, waits until the demo board is
loaded, and then, in Debian's Chromium, logs in as each demo login (the staff personas of
``regie.roster.demo``, a pupil, the administrator): its landing page and the first entries of its
menu, at both widths, cropped to the first screen (the files stay small). Writes PNG files and a
README.md listing them to ``docs/screenshots/`` (or the directory given)::

    python -m regie.ops.screenshots [DIRECTORY]

A tool for developers: it needs the test dependency Playwright, and nothing of it runs in the hub.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

# Debian's Chromium, as the browser tests drive it (regie.browser, test support, says why).
CHROMIUM = os.environ.get("REGIE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-component-update"]
WIDTHS = {1280: 800, 390: 844}  # width: the height of the first screen that is kept
MENU_PAGES = 3  # per role: the landing page and up to this many menu entries besides it
DEFAULT_DIRECTORY = Path("docs/screenshots")


@dataclass(frozen=True)
class Login:
    name: str  # the file name's first part
    who: str
    username: str
    password: str
    extra: tuple[str, ...] = ()  # pages shot besides the landing page and the menu


@dataclass(frozen=True)
class Shot:
    file: str
    who: str
    title: str
    path: str
    width: int


def logins() -> list[Login]:
    """The demo's logins: every staff persona, the first pupil and the administrator."""
    from regie.accounts.demo import DEMO_PUPILS
    from regie.ops.management.commands.demo import DEMO_ADMIN
    from regie.roster.demo import DEMO_PASSWORD, PERSONAS

    username, password, _ = DEMO_ADMIN
    return [
        *(Login(login, who, login, DEMO_PASSWORD) for login, _role, who in PERSONAS),
        Login("leerling", "leerling (leerling1)", DEMO_PUPILS[0], DEMO_PASSWORD),
        Login("beheerder", "beheerder van de hub (admin)", username, password, ("/admin/",)),
    ]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(demo: subprocess.Popen[bytes], log: Path, pattern: str) -> None:
    """Until the demo's output (in ``log``, so a full pipe never stops it) says ``pattern``."""
    while not re.search(pattern, log.read_text()):
        if demo.poll() is not None:
            raise RuntimeError("the demo stopped before it was ready:\n" + log.read_text())
        time.sleep(0.5)


def slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "start"


def shoot(page: Page, directory: Path, name: str, who: str, path: str) -> list[Shot]:
    """The page at ``path`` (open already at the first width) at every width."""
    shots = []
    title = page.title()
    for width, height in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        file = f"{name}-{slug(path)}-{width}.png"
        page.screenshot(path=directory / file, full_page=False)
        shots.append(Shot(file, who, title, path, width))
    page.set_viewport_size({"width": 1280, "height": WIDTHS[1280]})
    return shots


def log_in(page: Page, base: str, login: Login) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/inloggen/")
    page.locator("input[name=username]").fill(login.username)
    page.locator("input[name=password]").fill(login.password)
    page.locator("form:has(input[name=password]) [type=submit]").click()
    page.wait_for_load_state()


def take(base: str, directory: Path) -> list[Shot]:
    shots: list[Shot] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            locale="nl-NL", viewport={"width": 1280, "height": WIDTHS[1280]}
        )
        page = context.new_page()
        for path in ("/", "/inloggen/"):
            page.goto(base + path)
            shots += shoot(page, directory, "bezoeker", "bezoeker (niet ingelogd)", path)
        for login in logins():
            log_in(page, base, login)
            landing = page.url.removeprefix(base)
            shots += shoot(page, directory, login.name, login.who, landing)
            menu = page.eval_on_selector_all(
                "nav a[href^='/']", "links => links.map(link => link.getAttribute('href'))"
            )
            pages = [path for path in dict.fromkeys(menu) if path != landing][:MENU_PAGES]
            for path in dict.fromkeys(path for path in [*pages, *login.extra] if path != landing):
                page.goto(base + path)
                shots += shoot(page, directory, login.name, login.who, path)
        browser.close()
    return shots


def readme(shots: list[Shot]) -> str:
    lines = [
        "# Screenshots",
        "",
        "Every role's main pages in the demo (fictional data) at 1280 and 390 CSS px, the first",
        "screen of each. Made by `make screenshots` (`src/regie/ops/screenshots.py`); do not edit",
        "by hand.",
        "",
        "| who | page | path | 1280 px | 390 px |",
        "| --- | --- | --- | --- | --- |",
    ]
    wide = [shot for shot in shots if shot.width == 1280]
    narrow = {(shot.who, shot.path): shot.file for shot in shots if shot.width == 390}
    for shot in wide:
        phone = narrow[(shot.who, shot.path)]
        title = shot.title.replace("|", "\\|")  # a pipe would end the table cell
        lines.append(
            f"| {shot.who} | {title} | `{shot.path}` | [{shot.file}]({shot.file}) "
            f"| [{phone}]({phone}) |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "regie.settings")
    django.setup()  # the demo's logins are constants of modules with models beside them
    directory = Path(argv[0]) if argv else DEFAULT_DIRECTORY
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.png"):
        old.unlink()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="regie-screenshots-") as var_dir:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("REGIE_") and key not in {"DATABASE_URL"}
        }
        env.update(REGIE_VAR_DIR=var_dir, PYTHONUNBUFFERED="1")
        log = Path(var_dir) / "demo.log"
        with log.open("wb") as output:
            demo = subprocess.Popen(  # noqa: S603 (this Python, the project's own command)
                [sys.executable, "-m", "regie", "demo", "--port", str(port)],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_for(demo, log, r"Demo-schoolbestuur klaar")
            shots = take(f"http://127.0.0.1:{port}", directory)
        finally:
            demo.send_signal(signal.SIGINT)
            try:
                demo.wait(timeout=60)
            except subprocess.TimeoutExpired:
                demo.kill()
    (directory / "README.md").write_text(readme(shots))
    size = sum(path.stat().st_size for path in directory.glob("*.png"))
    print(f"{len(shots)} screenshots in {directory}/, {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main(sys.argv[1:])
