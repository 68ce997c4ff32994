"""What people read about a job: its kind as a label and why it failed (ADR 0012).

A failed job stores a message code and its parameters (``Job.error_code``, ``Job.error_params``);
pages render them here in the reader's language. The traceback is for administrators: it goes to
the log and to ``Job.error``, never to a page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

if TYPE_CHECKING:
    from xiezuo.core.models import Job

INTERNAL = "internal"
REFUSED = "refused"
GAVE_UP = "gave_up"
QUARANTINED = "quarantined"
UNKNOWN_KIND = "unknown_kind"

MESSAGES: dict[str, Promise] = {
    INTERNAL: _(
        "The job stopped on an unexpected error. Try again later; if it fails again, ask the "
        "system administrator to look up job {job} in the server log."
    ),
    REFUSED: _("The job was refused: {reason}"),
    GAVE_UP: _(
        "The worker running this job stopped {attempts} times before the job finished, so the job "
        "was given up. Start it again; if it stops again, ask the system administrator."
    ),
    QUARANTINED: _(
        "This job stopped the worker running it {times} times and was set aside so that other jobs "
        "can run. Check the file (its size, rows and columns), or ask the system administrator to "
        "look up job {job} in the server log."
    ),
    UNKNOWN_KIND: _("This installation does not know this kind of job. Ask the system administrator."),
}

# Labels of the job kinds; ``@job(kind, label=...)`` adds to them.
KIND_LABELS: dict[str, Promise] = {
    "regions.load": _("Region tree load"),
    "registry.import": _("Registry import"),
    "monitoring.import": _("Monitoring import"),
    "ledger.import": _("Ledger import"),
}


class _Blank(dict[str, Any]):
    """Parameters of a message, a missing one shown as a dash rather than failing the page."""

    def __missing__(self, key: str) -> str:
        return "—"


def render(code: str, params: dict[str, Any]) -> str:
    """The message of a code in the active language (an unknown code reads as an internal error)."""
    template = MESSAGES.get(code, MESSAGES[INTERNAL])
    return str(template).format_map(_Blank(params))


def render_zh(code: str, params: dict[str, Any]) -> str:
    """The message in Chinese, the language of the stored ``Job.message`` (the API's, the logs')."""
    with override("zh-hans"):
        return render(code, params)


def failure_text(job: Job) -> str:
    if job.error_code:
        return render(job.error_code, {"job": job.pk, **(job.error_params or {})})
    # Failed before error codes existed: its message was written for people, the error was not.
    return job.message or render(INTERNAL, {"job": job.pk})


def kind_label(kind: str) -> str:
    label = KIND_LABELS.get(kind)
    return str(label) if label is not None else str(_("Background job"))
