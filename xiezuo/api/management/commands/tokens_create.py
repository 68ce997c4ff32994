"""``xiezuo tokens create --user NAME --name LABEL [--days N]``: make an API token, shown once."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from xiezuo.accounts.tokens import create_token
from xiezuo.core.scope import SYSTEM


class Command(BaseCommand):
    help = "Make an API token for a user and print it once (only its hash is stored)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--user", required=True, help="username")
        parser.add_argument("--name", required=True, help="label, e.g. the script that uses it")
        parser.add_argument(
            "--days", type=int, help="lifetime in days (default and maximum: XIEZUO_TOKEN_DAYS)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"no user {options['user']!r}")
        try:
            token, raw = create_token(
                actor=SYSTEM, user=user, name=options["name"], days=options["days"], via="cli"
            )
        except ValidationError as e:
            raise CommandError("; ".join(e.messages)) from None
        self.stderr.write(
            f"token {token.prefix}… for {user.get_username()}, expires {token.expires_at:%Y-%m-%d}"
        )
        self.stdout.write(raw)
