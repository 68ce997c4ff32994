"""xiezuo assess --year Y [--framework F] [--scope REGION] [--snapshot S] [--json | --out results.xlsx]"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from xiezuo.assessment import reports, services
from xiezuo.core.paths import user_path
from xiezuo.regions.models import full_code


class Command(BaseCommand):
    help = "Assess a year: every active pairing, both sides, under the year's frameworks."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--framework", action="append", default=[], help="framework code (repeatable)")
        parser.add_argument("--scope", help="region code: pairings with a side in that region")
        parser.add_argument("--snapshot", help="recompute from this snapshot (its sha256)")
        out = parser.add_mutually_exclusive_group()
        out.add_argument("--json", action="store_true", help="print the results as JSON")
        out.add_argument("--out", help="write the results to this .xlsx file")

    def handle(self, *args: Any, **opts: Any) -> None:
        scope = None
        if opts["scope"]:
            try:
                scope = full_code(opts["scope"])
            except ValueError:
                raise CommandError(_("Not a region code: {code}").format(code=opts["scope"])) from None
        try:
            outcome = services.assess_year(
                year=opts["year"],
                framework_codes=opts["framework"],
                scope_code=scope,
                snapshot=opts["snapshot"],
            )
        except services.AssessmentError as exc:
            raise CommandError(str(exc)) from None
        if opts["json"]:
            self.stdout.write(json.dumps(outcome.as_json(), ensure_ascii=False, indent=1))
            return
        if opts["out"]:
            reports.write_xlsx(outcome, user_path(opts["out"]))
        run = outcome.run
        self.stdout.write(
            _("Run {id}: {n} results, {f} findings, snapshot {s}").format(
                id=run.pk,
                n=len(outcome.assessment.results),
                f=len(outcome.assessment.findings),
                s=run.snapshot,
            )
        )
