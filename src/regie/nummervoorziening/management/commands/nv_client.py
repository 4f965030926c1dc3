"""``regie nv-client``: register number-service clients by OIN and manage their API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from regie.nummervoorziening import services
from regie.nummervoorziening.errors import NummervoorzieningError
from regie.nummervoorziening.models import Client


class Command(BaseCommand):
    help = "Register number-service clients (by OIN) and manage their API keys and quotas."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        register = actions.add_parser(
            "register", help="Register a client; prints its API key once."
        )
        register.add_argument("--oin", required=True)
        register.add_argument("--name", required=True)
        register.add_argument("--quota", type=int, default=None, help="Batches per day.")
        actions.add_parser("list", help="List clients.")
        new_key = actions.add_parser(
            "new-key", help="Issue a new API key (the old one stops working)."
        )
        new_key.add_argument("--oin", required=True)
        quota = actions.add_parser("set-quota", help="Change a client's daily batch quota.")
        quota.add_argument("--oin", required=True)
        quota.add_argument("quota", type=int)
        block = actions.add_parser("block", help="Refuse a client's calls until a moment.")
        block.add_argument("--oin", required=True)
        block.add_argument("--until", required=True, help="ISO date-time, e.g. 2026-12-01T08:00")
        unblock = actions.add_parser("unblock", help="Lift a block.")
        unblock.add_argument("--oin", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "register":
            try:
                registered, key = services.register_client(
                    oin=options["oin"], name=options["name"], daily_batch_quota=options["quota"]
                )
            except NummervoorzieningError as error:
                raise CommandError(error.detail) from None
            self.stdout.write(f"registered {registered}\nAPI key (shown once): {key}")
            return
        if action == "list":
            for client in Client.objects.all():
                state = (
                    "blocked"
                    if client.is_blocked()
                    else ("active" if client.is_active else "inactive")
                )
                self.stdout.write(
                    f"{client.oin}  {client.name}  quota={client.daily_batch_quota}/day  {state}"
                )
            return
        found = Client.objects.filter(oin=options["oin"]).first()
        if found is None:
            raise CommandError("no client is registered with this OIN")
        client = found
        if action == "new-key":
            self.stdout.write(f"API key (shown once): {services.issue_api_key(client)}")
        elif action == "set-quota":
            try:
                services.set_daily_batch_quota(client, options["quota"])
            except NummervoorzieningError as error:
                raise CommandError(error.detail) from None
            self.stdout.write(f"{client.oin}: {client.daily_batch_quota} batches per day")
        elif action == "block":
            try:
                until = datetime.fromisoformat(options["until"])
            except ValueError:
                raise CommandError(
                    "--until must be an ISO date-time, e.g. 2026-12-01T08:00"
                ) from None
            services.set_blocked_until(
                client, until if until.tzinfo else timezone.make_aware(until)
            )
            self.stdout.write(
                f"{client.oin}: blocked until {client.blocked_until:%Y-%m-%d %H:%M %Z}"
            )
        elif action == "unblock":
            services.set_blocked_until(client, None)
            self.stdout.write(f"{client.oin}: not blocked")
