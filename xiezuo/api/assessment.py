"""Assessment runs (考核): a run's results as ``xiezuo assess --json`` prints them, limited to the
pairings the user may see (DESIGN.md D2: each side its own; a run with none of them is not found)."""

from __future__ import annotations

from django.http import Http404, HttpRequest
from ninja import Field, Path, Router, Schema

from xiezuo.api.auth import user_of
from xiezuo.api.schemas import MAX_ID, ErrorOut
from xiezuo.assessment.models import Run, Score
from xiezuo.assessment.services import stored_json
from xiezuo.pairings.selectors import pairings_for

router = Router(tags=["assessment"])


class FrameworkRef(Schema):
    code: str
    version: str


class RunMeta(Schema):
    id: int
    year: int
    frameworks: list[FrameworkRef]
    snapshot: str = Field(description="sha256 of the frozen facts the run read")


class IndicatorValue(Schema):
    code: str
    value: int | float | None = Field(description="money in fen, shares as fractions; null: no value")
    target: int | float | None
    points: float


class SideResult(Schema):
    pairing: int
    side: str = Field(description="helper or helped")
    level: str = Field(description="code list pairing_level")
    framework: str
    indicators: list[IndicatorValue]
    areas: dict[str, float] = Field(description="area code → subtotal")
    total: float
    grade: str
    rank: int = Field(description="within the side and pairing level; ties share a rank")


class RunOut(Schema):
    run: RunMeta
    results: list[SideResult]


@router.get("/assessment/runs/{id}", response={200: RunOut, 404: ErrorOut})
def get_run(request: HttpRequest, id: int = Path(..., ge=1, le=MAX_ID)) -> dict[str, object]:
    """A run's results for the pairings you may see."""
    run = Run.objects.filter(pk=id).first()
    if run is None:
        raise Http404
    mine = pairings_for(user_of(request))
    if not Score.objects.filter(run=run, pairing_id__in=mine.values("pk")).exists():
        raise Http404
    return stored_json(run, set(mine.values_list("pk", flat=True)))
