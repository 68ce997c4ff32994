"""xiezuo testworld: load the small deterministic test world (used by the browser tests' server)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from xiezuo.synth.foundation import WORLD_ACCOUNTS, WORLD_PASSWORD, build_world


class Command(BaseCommand):
    help = "Load the test world: regions, pairings and one account per role (password testpass-123)."

    def handle(self, *args: Any, **opts: Any) -> None:
        build_world()
        self.stdout.write(f"test world loaded; {len(WORLD_ACCOUNTS)} accounts, password {WORLD_PASSWORD}")
