"""Load the 2016 East–West pairing list (after the December 2016 adjustment). Idempotent."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path
from typing import Any

from django.db import transaction

from xiezuo.pairings.models import Pairing
from xiezuo.pairings.services import save_pairing
from xiezuo.regions.models import Region, full_code
from xiezuo.regions.rules import level_of_short

DATA = Path(__file__).resolve().parent / "data"
SOURCE_2016 = (
    "2016年12月调整后的东西部扶贫协作结对名单（中办国办《关于进一步加强东西部扶贫协作工作的指导意见》），"
    "据新华社报道整理"
)


def _region(code: str) -> Region:
    return Region.objects.get(code=full_code(code), level=level_of_short(code))


def load_pairings_2016(*, actor: Any) -> dict[str, int]:
    """Create the 2016 pairings that do not exist yet. Rows with the same helped region and
    level (东莞+中山 → 昭通) become one pairing with several helpers, so its people count once."""
    with open(DATA / "pairings_2016_east_west.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    with open(DATA / "start_years.csv", encoding="utf-8") as fh:
        starts = {(r["helper_code"], r["helped_code"]): r for r in csv.DictReader(fh)}
    groups: dict[tuple[str, str, str], list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        groups[(r["helped_code"], r["level"], r["programme"])].append(r)
    created = existing = 0
    with transaction.atomic():
        for (helped_code, level, programme), members in groups.items():
            helper = [_region(m["helper_code"]) for m in members]
            helped = [_region(helped_code)]
            start = min(int(m["since"]) for m in members)
            notes = [SOURCE_2016]
            for m in members:
                known = starts.get((m["helper_code"], helped_code))
                if known:
                    start = min(start, int(known["start_year"]))
                    notes.append("起始年度：" + known["source"])
            same = Pairing.objects.filter(programme="east_west_2016", level=level.replace("->", "-"))
            if any(
                sorted(p.sides.filter(side="helped").values_list("region_code", flat=True))
                == [helped[0].code]
                for p in same
            ):
                existing += 1
                continue
            save_pairing(
                actor=actor,
                programme=programme,
                level=level,
                start_year=start,
                end_year=2020,
                helper=helper,
                helped=helped,
                source="；".join(notes),
                via="cli",
            )
            created += 1
    return {"created": created, "existing": existing}
