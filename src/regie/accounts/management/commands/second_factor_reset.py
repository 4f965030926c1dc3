"""``regie second-factor-reset USERNAME``: remove a login's authenticator app and recovery codes
(:mod:`regie.accounts.second_factor`), so that it sets up a new app at its next login — for
someone who lost both, an administrator included. Audited as ``accounts.second_factor.reset``."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from regie.audit.services import SYSTEM

from ... import second_factor


class Command(BaseCommand):
    help = "Remove a login's authenticator app and recovery codes; it sets them up again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="the login's username")

    def handle(self, *args: Any, **options: Any) -> None:
        model = get_user_model()
        user = model._default_manager.filter(**{model.USERNAME_FIELD: options["username"]}).first()
        if user is None:
            raise CommandError("No login has that username.")
        removed = second_factor.reset(user, actor=SYSTEM, via="command")
        self.stdout.write(
            f"Removed {removed} device(s); the login sets up a new app at its next login."
        )
