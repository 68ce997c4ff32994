"""``xiezuo openapi --out FILE``: write the OpenAPI document, sorted and indented, for diffing in CI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import translation


def openapi_text() -> str:
    """The OpenAPI document as stable text: sorted keys, two-space indent, UTF-8, final newline."""
    from xiezuo.api.api import api

    # English, whatever the locale: the committed document must not depend on who generates it.
    with translation.override("en"):
        schema = api.get_openapi_schema(path_prefix="/api/")
    return json.dumps(schema, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


class Command(BaseCommand):
    help = "Write the OpenAPI document of the REST API (to stdout without --out)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--out", help="file to write, e.g. openapi.json")

    def handle(self, *args: Any, **options: Any) -> None:
        text = openapi_text()
        if options["out"]:
            Path(options["out"]).write_text(text, encoding="utf-8")
            self.stdout.write(f"wrote {options['out']}")
        else:
            self.stdout.write(text, ending="")
