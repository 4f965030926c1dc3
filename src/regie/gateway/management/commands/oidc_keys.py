"""``regie oidc-keys ensure|rotate|retire|list``: the OpenID provider's signing keys."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from regie.gateway import keys


class Command(BaseCommand):
    help = "Manage the OpenID provider's signing keys (files in REGIE_OIDC_KEYS_DIR)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=("ensure", "rotate", "retire", "list"))

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            for item in keys.load():
                self.stdout.write(f"{item.alg}  {item.kid}  created {item.created}")
            return
        changed = {"ensure": keys.ensure, "rotate": keys.rotate, "retire": keys.retire}[action]()
        verb = "removed" if action == "retire" else "created"
        for path in changed:
            self.stdout.write(f"{verb} key file {path}")
