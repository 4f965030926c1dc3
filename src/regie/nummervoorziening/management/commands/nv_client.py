"""``regie nv-client``: register number-service clients by OIN and role, and manage their API
keys, quotas, blocks and (for a hub) the suppliers it may obtain supplier pseudonyms for.

A hub keeps its own list in step by declaring its suppliers over the API; ``suppliers`` here is
for the operator (to look, or to set a list by hand for a hub that cannot declare yet)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from regie.nummervoorziening import services
from regie.nummervoorziening.errors import NummervoorzieningError
from regie.nummervoorziening.models import Client, ClientRole

ROLE_HELP = (
    "las: stampseudonyms, ECK iDs and substitutions; hub: also supplier pseudonyms, for its "
    "declared suppliers."
)


class Command(BaseCommand):
    help = (
        "Register number-service clients (by OIN and role) and manage their API keys, quotas "
        "and suppliers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        register = actions.add_parser(
            "register", help="Register a client; prints its API key once."
        )
        register.add_argument("--oin", required=True)
        register.add_argument("--name", required=True)
        register.add_argument("--role", required=True, choices=ClientRole.values, help=ROLE_HELP)
        register.add_argument("--quota", type=int, default=None, help="Batches per day.")
        register.add_argument(
            "--supplier",
            action="append",
            default=[],
            metavar="KVK_OR_OIN",
            help="A hub's supplier (repeat the option for more).",
        )
        actions.add_parser("list", help="List clients.")
        role = actions.add_parser("set-role", help="Make a client a LAS or a hub.")
        role.add_argument("--oin", required=True)
        role.add_argument("role", choices=ClientRole.values, help=ROLE_HELP)
        suppliers = actions.add_parser(
            "suppliers", help="List, add or remove the suppliers of a hub client."
        )
        supplier_actions = suppliers.add_subparsers(dest="supplier_action", required=True)
        listing = supplier_actions.add_parser("list", help="The hub client's suppliers.")
        listing.add_argument("--oin", required=True)
        for name, verb in (("add", "Add"), ("remove", "Remove")):
            change = supplier_actions.add_parser(name, help=f"{verb} suppliers.")
            change.add_argument("--oin", required=True)
            change.add_argument("supplier_ids", nargs="+", metavar="KVK_OR_OIN")
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
                    oin=options["oin"],
                    name=options["name"],
                    role=options["role"],
                    daily_batch_quota=options["quota"],
                    suppliers=options["supplier"],
                )
            except NummervoorzieningError as error:
                raise CommandError(error.detail) from None
            self.stdout.write(
                f"registered {registered} as {registered.role}\nAPI key (shown once): {key}"
            )
            return
        if action == "list":
            for client in Client.objects.all():
                state = (
                    "blocked"
                    if client.is_blocked()
                    else ("active" if client.is_active else "inactive")
                )
                suppliers = (
                    f"  suppliers={client.suppliers.count()}"
                    if client.role == ClientRole.HUB
                    else ""
                )
                self.stdout.write(
                    f"{client.oin}  {client.name}  role={client.role}"
                    f"  quota={client.daily_batch_quota}/day  {state}{suppliers}"
                )
            return
        found = Client.objects.filter(oin=options["oin"]).first()
        if found is None:
            raise CommandError("no client is registered with this OIN")
        client = found
        try:
            self._change(action, client, options)
        except NummervoorzieningError as error:
            raise CommandError(error.detail) from None

    def _change(self, action: str, client: Client, options: dict[str, Any]) -> None:
        if action == "set-role":
            services.set_role(client, options["role"])
            self.stdout.write(f"{client.oin}: role {client.role}")
        elif action == "suppliers":
            self._suppliers(client, options)
        elif action == "new-key":
            self.stdout.write(f"API key (shown once): {services.issue_api_key(client)}")
        elif action == "set-quota":
            services.set_daily_batch_quota(client, options["quota"])
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

    def _suppliers(self, client: Client, options: dict[str, Any]) -> None:
        supplier_action = options["supplier_action"]
        if supplier_action == "add":
            change = services.add_suppliers(client, options["supplier_ids"])
        elif supplier_action == "remove":
            change = services.remove_suppliers(client, options["supplier_ids"])
        else:
            if client.role != ClientRole.HUB:
                raise CommandError(f"{client.oin} is a {client.role} client: it has no suppliers")
            for supplier_id in client.supplier_ids():
                self.stdout.write(supplier_id)
            return
        added, removed = ", ".join(change.added) or "-", ", ".join(change.removed) or "-"
        self.stdout.write(
            f"{client.oin}: {len(change.suppliers)} suppliers (added: {added}; removed: {removed})"
        )
