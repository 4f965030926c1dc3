"""``regie demo``: set up the embedded demo and serve it on http://127.0.0.1:8000 (``--port``).

Creates what is missing (keys, database, demo logins, demo number-service clients), prints the
logins and a fresh API key for the demo LAS, and serves hub and number service in one process.
The demo suppliers (``regie.demosupplier``: Rekenwereld and Taalrijk, real OpenID Connect relying
parties) are served on the next ports and registered at the hub once the demo board is loaded.
The demo serves the sector dashboard (``/sector/``) too, and runs a second, separate hub for a
small fictional board as child processes (``regie.ops.demo_hubs``); once the demo board is
loaded, both hubs send the sector dashboard a signed report.
All demo data is fictional; the passwords are demo-only and the servers listen on loopback only.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, TextIO

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from regie.core.models import Board
from regie.demosupplier.suppliers import DEMO_SUPPLIERS
from regie.gateway import keys as oidc_keys
from regie.lib import locks
from regie.lib.logging import get_logger
from regie.lib.serving import free_ports_from, port_taken
from regie.nummervoorziening import services as nv_services
from regie.nummervoorziening.keys import generate_keyring
from regie.nummervoorziening.models import Client
from regie.ops.management.commands.serve import (
    check_ready,
    recover_at_start,
    request_threads,
    serve,
)

logger = get_logger(__name__)

DEMO_ADMIN = ("beheerder", "regie-demo-beheer", "beheerder@regie.example")
DEMO_LAS = ("00000001000000000001", "Demo-LAS De Regenboog (fictief)")
DEMO_HUB = ("00000001000000000002", "regie-hub demo (fictief)")
SECTOR_PATH = "/sector/"
HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def ensure_client(oin: str, name: str, quota: int, role: str) -> str:
    """The demo client with this OIN and role, with a fresh API key (returned)."""
    client = Client.objects.filter(oin=oin).first()
    if client is None:
        client, key = nv_services.register_client(
            oin=oin, name=name, role=role, daily_batch_quota=quota
        )
        return key
    nv_services.set_role(client, role)  # a demo database from before client roles
    return nv_services.issue_api_key(client)


def demo_mail_folder() -> str:
    """The demo writes its e-mail to files in a folder it prints (unless ``REGIE_EMAIL_BACKEND``
    names another way); returns what the banner says about it."""
    if os.environ.get("REGIE_EMAIL_BACKEND"):
        return f"verstuurd via {settings.EMAIL_BACKEND}"
    folder = Path(settings.VAR_DIR) / "demo-mail"
    folder.mkdir(parents=True, exist_ok=True)
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(folder)
    return f"{folder}/"


def demo_leaving_pupil(board: Board) -> tuple[str, Path] | None:
    """The demo's retention story: the last demo pupil login and the export without them (their
    username and the file), while they are still at school."""
    from regie.accounts.demo import DEMO_PUPILS
    from regie.accounts.models import PupilAccount
    from regie.roster import demo

    username = DEMO_PUPILS[-1]
    account = (
        PupilAccount.objects.filter(user__username=username, student__school__board=board)
        .select_related("student")
        .first()
    )
    if account is None or not account.student.is_active:
        return None
    path = demo.write_leaving_export(Path(settings.VAR_DIR) / "demo", account.student.las_key)
    return username, path


def hold_var_dir(port: int) -> TextIO:
    """One demo per data directory: a second one would issue new API keys under the first (the
    keys it printed would stop working) and load the same board twice. Refuse in one line."""
    var_dir = Path(settings.VAR_DIR)
    lock = locks.hold(var_dir / "demo.lock", f"port {port}, process {os.getpid()}")
    if lock is None:
        held_by = locks.holder_note(var_dir / "demo.lock") or "another process"
        raise CommandError(
            f"a demo already runs with the data in {var_dir} ({held_by}): stop it first, or give "
            f"this one its own data directory with REGIE_VAR_DIR=…"
        )
    return lock


def check_ports(port: int) -> list[str]:
    """Refuse, in one line, a hub port that is taken (naming free ones to use instead); return a
    notice for each demo supplier's port (the hub's + 1, + 2 …) that is taken: that supplier
    gets another free port (:func:`regie.ops.demo_suppliers.start_demo_suppliers`)."""
    count = 1 + len(DEMO_SUPPLIERS)
    if not 1 <= port <= 65535 - len(DEMO_SUPPLIERS):
        raise CommandError(f"port {port} is out of range: choose one from 1 to {65535 - count + 1}")
    if port_taken(HOST, port):
        other = free_ports_from(HOST, port + 10, count)
        suggestion = other or 8100
        suppliers = " and ".join(str(suggestion + offset) for offset in range(1, count))
        raise CommandError(
            f"port {port} is taken (is a demo already running?): choose another with "
            f"`make demo PORT={suggestion}` or `regie demo --port {suggestion}` "
            f"(the demo suppliers then use {suppliers})"
        )
    return [
        f"port {port + offset} is taken: demo supplier {spec.title} gets another free port"
        for offset, spec in enumerate(DEMO_SUPPLIERS, start=1)
        if port_taken(HOST, port + offset)
    ]


class Command(BaseCommand):
    help = (
        f"Set up the embedded demo (SQLite, demo data) and serve it on http://{HOST}:PORT "
        f"(default {DEFAULT_PORT}), the demo suppliers on PORT + 1 and PORT + 2, the log's "
        "demo witness on PORT + 3."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--port",
            type=int,
            default=DEFAULT_PORT,
            help=f"The hub's port (default {DEFAULT_PORT}); the demo suppliers use the next ones.",
        )
        parser.add_argument("--no-serve", action="store_true", help="Set up and print, then stop.")

    def handle(self, *args: Any, **options: Any) -> None:
        self.lock = hold_var_dir(options["port"])  # for as long as this demo runs
        for notice in check_ports(options["port"]):
            self.stdout.write(notice)
        for path in generate_keyring(Path(settings.NV_KEYS_DIR)):
            self.stdout.write(f"created key file {path}")
        for path in oidc_keys.ensure():
            self.stdout.write(f"created OIDC signing key file {path}")
        call_command("migrate", interactive=False, verbosity=0)
        username, password, email = DEMO_ADMIN
        user_model = get_user_model()
        if not user_model.objects.filter(username=username).exists():
            user_model.objects.create_superuser(username=username, email=email, password=password)
        las_key = ensure_client(*DEMO_LAS, quota=1000, role="las")
        settings.NV_CLIENT_API_KEY = ensure_client(*DEMO_HUB, quota=10_000, role="hub")
        settings.NV_CLIENT_URL = f"http://127.0.0.1:{options['port']}/nummervoorziening"
        settings.ROLE = "all"
        check_ready("all")
        recover_at_start()
        base = f"http://127.0.0.1:{options['port']}"
        settings.OIDC_ISSUER = f"{base}/oidc"
        from regie.accounts.demo import demo_pupil_logins, demo_second_factor
        from regie.agreements.demo import load_demo_register
        from regie.ops import demo_hubs, demo_suppliers
        from regie.portal.demo import DEMO_GUARDIAN, demo_guardian_login
        from regie.roster import demo
        from regie.transparency import demo as log_demo
        from regie.transparency import keys as log_keys
        from regie.transparency import services as log_services

        second_hub_key = ensure_client(*demo_hubs.HUB_B_CLIENT, quota=1000, role="hub")
        second_factor = demo_second_factor()  # off, unless REGIE_REQUIRE_2FA is set
        # Retention acts on a day the demo may move ahead (``regie clock``, the retention page).
        settings.SIMULATED_CLOCK = True
        mail = demo_mail_folder()
        suppliers = demo_suppliers.start_demo_suppliers(settings.OIDC_ISSUER, options["port"])
        # The log's witness, as another board or a sector body would run one, after the suppliers.
        witness = log_demo.start_demo_witness(options["port"] + 1 + len(DEMO_SUPPLIERS))
        # The sector dashboard (served here too): both hubs send it their signed reports.
        settings.OVERSIGHT_URL = f"{base}{SECTOR_PATH}api/reports"
        sector = demo_hubs.DemoSector(
            base=base,
            password=demo.DEMO_PASSWORD,
            first_hub_vkey=log_keys.verifier().vkey,
            first_hub_env=demo_hubs.first_hub_environment(
                REGIE_ROLE="hub",
                REGIE_LOG_ORIGIN=log_keys.origin(),
                REGIE_OIDC_ISSUER=settings.OIDC_ISSUER,
                REGIE_OVERSIGHT_URL=settings.OVERSIGHT_URL,
                REGIE_SIMULATED_CLOCK="true",
            ),
            nv_key=second_hub_key,
        )

        lines = [
            "",
            "regie demo — alle gegevens zijn fictief / all data is fictional",
            f"  Web:              {base}/",
            f"  Beheer (admin):   {base}/admin/   login: {username} / {password}",
            f"  School (hub):     {base}/school/   logins (wachtwoord / password "
            f"{demo.DEMO_PASSWORD}):",
            *(f"    {login:12} {who}" for login, _role, who in demo.PERSONAS),
            second_factor,
            f"  Mijn leermiddelen (leerlingen): {base}/leermiddelen/",
            f"  Portaal (ouders, leerlingen van 16+): {base}/portaal/   login: {DEMO_GUARDIAN} "
            f"/ {demo.DEMO_PASSWORD}",
            f"  E-mail van de demo (uitnodigingen, verzoeken): {mail}",
            f"  Bewaartermijnen: {base}/privacy/bewaren/   demo-klok vooruit: "
            "REGIE_SIMULATED_CLOCK=true .venv/bin/regie clock advance --days 400",
            *(
                f"  Demoleverancier {item.app.spec.title + ':':13} {item.url}/"
                for item in suppliers
            ),
            f"  Controleerbaar logboek: {base}/log/   getuige (demo): {witness.url}/",
            f"  Sectordashboard (toezichthouders): {base}{SECTOR_PATH}   login: "
            f"{demo_hubs.SUPERVISOR} / {demo.DEMO_PASSWORD} (AP)",
            f"  Nummervoorziening JSON API: {base}/nummervoorziening/api/v1/docs",
            f"  Nummervoorziening SOAP:     {base}/nummervoorziening/soap?wsdl",
            f"  Demo-LAS (OIN {DEMO_LAS[0]}) API key: {las_key}",
            "",
            "  Try:",
            f"    curl -s -H 'Authorization: Bearer {las_key}' \\",
            "      -H 'Content-Type: application/json' \\",
            f'      -d \'{{"hpgn": "{"0" * 64}"}}\' \\',
            f"      {base}/nummervoorziening/api/v1/stampseudonyms",
            "",
            "  Stop with Ctrl-C.",
            "",
        ]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()

        def load_board(stop: threading.Event) -> None:
            try:
                sector.start()  # the second hub, beside this board's import
                board = demo.demo_board_loaded()
                if board is None:
                    self.stdout.write("  Demo-schoolbestuur importeren (EDEXML en OneRoster)...")
                    self.stdout.flush()
                    board = demo.load_demo_board(Path(settings.VAR_DIR) / "demo")
                logins = demo.demo_logins(board)
                load_demo_register(board)
                demo_suppliers.register_demo_suppliers(suppliers, board)
                log_services.publish()  # the first checkpoint, cosigned by the demo witness
                pupils = demo_pupil_logins(board, demo.DEMO_PASSWORD)
                guardian = demo_guardian_login(board, demo.DEMO_PASSWORD)
                statements = ", ".join(
                    f"{base}/privacy/scholen/{school.pk}/privacyverklaring/"
                    for school in board.schools.order_by("pk")
                )
                self.stdout.write(
                    f"  Privacyregister (fg, bestuur): {base}/privacy/\n"
                    f"  Privacyverklaringen (openbaar): {statements}\n"
                )
                self.stdout.write(
                    f"  Leerlingen (wachtwoord / password {demo.DEMO_PASSWORD}), "
                    f"log in op {base}/leermiddelen/ en open een leermiddel:\n"
                    + "".join(f"    {username:12} {who}\n" for username, who in pupils)
                    + "".join(
                        f"  Demoleverancier {item.app.spec.title}: {item.url}/ "
                        "(aangemeld bij regie)\n"
                        for item in suppliers
                    )
                )
                if guardian is not None:
                    self.stdout.write(
                        f"  Ouder (wachtwoord / password {demo.DEMO_PASSWORD}), log in op "
                        f"{base}/portaal/:\n    {guardian[0]:12} {guardian[1]}\n"
                    )
                leaving = demo_leaving_pupil(board)
                if leaving is not None:
                    self.stdout.write(
                        f"  Bewaartermijnen: {leaving[0]} verlaat de school als u bij "
                        f"Importeren deze export uploadt:\n    {leaving[1]}\n"
                    )
                self.stdout.write(
                    f"  Demo-schoolbestuur klaar: {board.name}; "
                    f"logins {', '.join(login.username for login in logins)}"
                )
                self.stdout.flush()
                self.stdout.write("\n".join(sector.send_reports()))
                if sector.ok:
                    self.stdout.write(
                        f"  Sectordashboard klaar: {base}{SECTOR_PATH} (login "
                        f"{demo_hubs.SUPERVISOR}): de rapportages van beide demohubs"
                    )
                self.stdout.flush()
            except Exception:
                logger.exception("demo.board_failed")
                stop.set()
                raise
            finally:
                if options["no_serve"]:
                    stop.set()

        try:
            serve(
                host="127.0.0.1",
                port=options["port"],
                threads=request_threads("all"),
                worker=True,
                role="all",
                after_start=load_board,
            )
        finally:
            sector.stop()
            demo_suppliers.stop_demo_suppliers(suppliers)
            witness.stop()
