"""Job kinds of the foundation. Later parts register theirs (imports, snapshots, runs, exports)."""

from __future__ import annotations

from typing import Any

from xiezuo.core import audit
from xiezuo.core.jobs import Progress, job
from xiezuo.core.models import Job
from xiezuo.regions.loading import load_regions

LEVELS = {"county": 3, "township": 4, "village": 5}


@job("regions.load")
def regions_load(obj: Job, progress: Progress) -> dict[str, Any]:
    """Load the region tree to a level, optionally only under some counties. All-or-nothing."""
    level = LEVELS[obj.params.get("level", "county")]
    counties = obj.params.get("counties") or None
    result = load_regions(level=level, counties=counties, progress=progress)
    audit.record(
        actor=obj.created_by or "system",
        action="load",
        object_type="region",
        batch={**result.as_dict(), "job": obj.pk},
        via="job",
    )
    return result.as_dict()
