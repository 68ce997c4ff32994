"""xiezuo codes load: create or update the code lists from their versioned files."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from xiezuo.core import audit
from xiezuo.core.codelists import load_code_lists


class Command(BaseCommand):
    help = "Load the code lists (D6) from xiezuo/core/codes/*.yaml."

    def handle(self, *args: Any, **opts: Any) -> None:
        written = load_code_lists()
        audit.record(actor="cli", action="load", object_type="code_list", batch=written, via="cli")
        self.stdout.write("code lists: " + ", ".join(f"{k} {v}" for k, v in written.items()))
