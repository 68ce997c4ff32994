"""xiezuo users create USERNAME --role ROLE [--region CODE] [--expires YYYY-MM-DD] [--password-stdin]"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from xiezuo.accounts.roles import ROLES
from xiezuo.accounts.services import create_user, grant_role
from xiezuo.core.scope import SYSTEM
from xiezuo.regions.models import Region, full_code
from xiezuo.regions.rules import level_of_short


class Command(BaseCommand):
    help = "Create a user (or reuse an existing one) and grant a role over a region."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=sorted(ROLES))
        parser.add_argument("--region", help="2/4/6/9/12-digit region code; omit for the whole country")
        parser.add_argument("--expires", type=dt.date.fromisoformat, help="last day of the grant")
        parser.add_argument(
            "--password-stdin", action="store_true", help="read the password from standard input"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        region = None
        if opts["region"]:
            code = opts["region"]
            try:
                region = Region.objects.get(code=full_code(code), level=level_of_short(code))
            except (ValueError, KeyError, Region.DoesNotExist):
                raise CommandError(f"unknown region code {code}") from None
        password = sys.stdin.readline().rstrip("\n") if opts["password_stdin"] else None
        # One transaction: a refused grant (三员分立) leaves no new account behind.
        with transaction.atomic():
            user = User.objects.filter(username=opts["username"]).first()
            if user is None:
                user = create_user(actor=SYSTEM, username=opts["username"], password=password, via="cli")
            elif password:
                user.set_password(password)
                user.save(update_fields=["password"])
            try:
                grant_role(
                    actor=SYSTEM,
                    user=user,
                    role=opts["role"],
                    region=region,
                    expires_on=opts["expires"],
                    via="cli",
                )
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
        where = region.name if region else "全国"
        self.stdout.write(f"{user.username}: {opts['role']} @ {where}")
