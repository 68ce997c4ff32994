"""The results of a run as a workbook: one sheet of pairing sides, one of findings."""

from __future__ import annotations

from pathlib import Path

from django.utils.translation import gettext as _
from openpyxl import Workbook

from xiezuo.assessment.services import Outcome


def write_xlsx(outcome: Outcome, path: Path) -> None:
    a = outcome.assessment
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("Results")
    codes = sorted(
        {v.code for r in a.results for v in r.indicators},
        key=lambda c: (c[0], int(c[1:]) if c[1:].isdigit() else 0),
    )
    sheet.append(
        [_("Framework"), _("Pairing"), _("Side"), _("Level"), _("Total"), _("Grade"), _("Rank"), *codes]
    )
    for r in a.results:
        points = {v.code: float(v.points) for v in r.indicators}
        sheet.append(
            [
                r.framework,
                r.pairing,
                r.side,
                r.level,
                float(r.total),
                r.grade,
                r.rank,
                *(points.get(c) for c in codes),
            ]
        )
    findings = book.create_sheet(_("Findings"))
    findings.append([_("Indicator"), _("Pairing"), _("Side"), _("Reason"), _("Severity"), _("Records")])
    for f in a.findings:
        findings.append([f.indicator, f.pairing, f.side, f.reason, f.severity, " ".join(map(str, f.records))])
    book.save(path)
