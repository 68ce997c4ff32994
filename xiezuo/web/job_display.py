"""A job's result as people read it: counts and facts under translated labels, never raw JSON.

The stored result keeps its shape (a dict a job function returns). The keys imports share —
``counts`` (or the same keys at the top) with read / accepted / rejected / created / updated /
unchanged, ``households``, ``notes``, ``errors_file``/``errors_path``, ``dry_run``, ``file_name``,
``ledger``, ``data_year``, ``as_of`` — get labels; any other key lands in a "details" list as
label-less text, and internal references (``dataset``) are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from xiezuo.core.models import Job

COUNTS: tuple[tuple[str, Promise], ...] = (
    ("read", _("Rows read")),
    ("accepted", _("Rows accepted")),
    ("rejected", _("Rows rejected")),
    ("created", _("Records created")),
    ("updated", _("Records updated")),
    ("unchanged", _("Records unchanged")),
)
HOUSEHOLDS: tuple[tuple[str, Promise], ...] = (
    ("created", _("Households created")),
    ("updated", _("Households updated")),
    ("without_head", _("Households without a head")),
    ("several_heads", _("Households with several heads")),
)
# Shown only when there are any: a warning, not a figure every import has.
WARNINGS = frozenset({"without_head", "several_heads"})
REGIONS: tuple[tuple[str, Promise], ...] = (
    ("renamed", _("Regions renamed")),
    ("flags", _("Regions flagged")),
    ("history", _("Code changes recorded")),
)
LEVELS: dict[str, Promise] = {
    "1": _("provinces"),
    "2": _("cities"),
    "3": _("counties"),
    "4": _("townships"),
    "5": _("villages"),
}
HIDDEN = {"dataset", "errors_file", "errors_path", "counts", "households", "notes", "dry_run"}
FACTS = {"file_name": _("File"), "data_year": _("Data year"), "as_of": _("As-of date"), "ledger": _("Ledger")}
# Pages that download a kind's error report, given the job (only its creator may download it).
ERROR_REPORTS = {
    "registry.import": lambda job: reverse("web:registry_import_errors", args=[job.pk]),
    "ledger.import": lambda job: reverse(
        "web:ledger_import_errors", kwargs={"key": job.params.get("ledger", ""), "job_id": job.pk}
    ),
}


@dataclass
class ResultView:
    counts: list[tuple[str, int]] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    dry_run: bool = False
    error_report: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.counts or self.facts or self.notes or self.details or self.error_report)

    @property
    def summary(self) -> str:
        """One line for the jobs list: the first three counts."""
        return " · ".join(f"{label} {value}" for label, value in self.counts[:3])


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    return "—" if value is None else str(value)


def _ledger_label(key: str) -> str:
    from xiezuo.ledgers import types

    try:
        ltype = types.get(key)
    except KeyError:
        return key
    return ltype.zh if (get_language() or "zh-hans").lower().startswith("zh") else ltype.en


def result_view(job: Job, user: Any = None) -> ResultView:
    view = ResultView()
    result = job.result if isinstance(job.result, dict) else {}
    nested = result.get("counts")
    counts: dict[str, Any] = nested if isinstance(nested, dict) else result
    view.counts = [(str(label), counts[key]) for key, label in COUNTS if isinstance(counts.get(key), int)]
    homes = result.get("households")
    if isinstance(homes, dict):
        view.counts += [
            (str(lb), homes[k])
            for k, lb in HOUSEHOLDS
            if isinstance(homes.get(k), int) and (homes[k] or k not in WARNINGS)
        ]
    if isinstance(result.get("inserted"), dict):  # regions.load: regions added by level
        for level, n in result["inserted"].items():
            name = LEVELS.get(str(level), level)
            view.counts.append((str(_("Regions added: {level}").format(level=name)), n))
    view.counts += [(str(label), result[k]) for k, label in REGIONS if isinstance(result.get(k), int)]
    for key, label in FACTS.items():
        if result.get(key) not in (None, ""):
            value = _ledger_label(result[key]) if key == "ledger" else _text(result[key])
            view.facts.append((str(label), value))
    view.notes = [str(n) for n in result.get("notes") or [] if n]
    view.dry_run = bool(result.get("dry_run"))
    known = HIDDEN | set(FACTS) | {k for k, _l in COUNTS} | {k for k, _l in REGIONS} | {"inserted"}
    view.details = [_text(v) for k, v in result.items() if k not in known and v not in (None, "", [], {})]
    has_report = result.get("errors_file") or result.get("errors_path")
    if has_report and user is not None and job.created_by_id == getattr(user, "pk", None):
        builder = ERROR_REPORTS.get(job.kind)
        try:
            view.error_report = builder(job) if builder else None
        except NoReverseMatch:
            view.error_report = None
    return view
