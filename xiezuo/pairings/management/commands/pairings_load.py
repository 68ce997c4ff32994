"""xiezuo pairings load: the 2016 East–West pairing list."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from xiezuo.core.scope import SYSTEM
from xiezuo.pairings.loading import load_pairings_2016


class Command(BaseCommand):
    help = "Load the 2016 East–West pairing list (needs the regions loaded)."

    def handle(self, *args: Any, **opts: Any) -> None:
        result = load_pairings_2016(actor=SYSTEM)
        self.stdout.write("pairings: {created} created, {existing} already there".format(**result))
