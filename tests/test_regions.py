"""Regions: the loaded tree, flags, code history and subtree range queries (on the test world)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from xiezuo.regions.loading import load_regions
from xiezuo.regions.models import CodeHistory, Region, RegionFlag, full_code, subtree_range
from xiezuo.regions.rules import current_codes

pytestmark = pytest.mark.django_db


def test_levels_one_to_three_are_complete() -> None:
    counts = {lv: Region.objects.filter(level=lv).count() for lv in (1, 2, 3)}
    assert counts == {1: 31, 2: 342, 3: 2978}


def test_villages_only_for_the_world_counties() -> None:
    counties = {str(c)[:6] for c in Region.objects.filter(level=5).values_list("code", flat=True)}
    assert counties == {"120110", "120111", "130821", "130881"}
    low, high = subtree_range(full_code("130821"), 3)
    # Exact counts from villages.csv.gz for 承德县.
    assert Region.objects.filter(level=4, code__gte=low, code__lt=high).count() == 23
    assert Region.objects.filter(level=5, code__gte=low, code__lt=high).count() == 390


def test_everything_under_a_region_is_one_range_query() -> None:
    guizhou = Region.objects.get(code=full_code("52"), level=1)
    low, high = guizhou.subtree
    with CaptureQueriesContext(connection) as ctx:
        n = Region.objects.filter(level=3, code__gte=low, code__lt=high).count()
    assert n == 88
    assert len(ctx.captured_queries) == 1
    sql = ctx.captured_queries[0]["sql"]
    assert "LIKE" not in sql.upper() and ">=" in sql and "<" in sql


def test_duplicate_codes_of_prefectures_without_counties_are_two_nodes() -> None:
    dongguan = Region.objects.filter(code=full_code("4419")).order_by("level")
    assert [(r.level, r.name) for r in dongguan] == [(2, "东莞市"), (3, "东莞市")]
    assert dongguan[1].parent == dongguan[0]


def test_kinds() -> None:
    assert Region.objects.get(code=full_code("1101"), level=2).kind == "pseudo"
    assert Region.objects.get(code=full_code("130171"), level=3).kind == "zone"
    assert Region.objects.get(code=full_code("130821"), level=3).kind == "admin"


def test_flags_loaded_and_derived() -> None:
    assert RegionFlag.objects.filter(flag="poverty_county").count() == 831  # 832 less the known source error
    puan = RegionFlag.objects.get(flag="poverty_county", region__code=full_code("522323"), region__level=3)
    assert (puan.value, puan.origin) == ("2019", "loaded")
    assert RegionFlag.objects.filter(flag="deep_3q3z").count() == 20
    weichang = Region.objects.get(code=full_code("130828"), level=3)
    assert weichang.flags.filter(flag="ethnic_autonomous", origin="derived").exists()
    belts = dict(RegionFlag.objects.filter(flag="belt").values_list("region__name", "value"))
    assert belts["河北省"] == "east" and belts["贵州省"] == "west" and belts["吉林省"] == "northeast"
    assert len(belts) == 31


def test_code_history_maps_old_codes_to_current() -> None:
    history: dict[int, tuple[bool, list[list[int | None]]]] = {}
    for code, in_use, succ in CodeHistory.objects.values_list("code", "in_use", "successors"):
        was = history.get(code, (False, []))
        history[code] = (was[0] or in_use, was[1] + succ)
    assert CodeHistory.objects.count() == 6823
    assert current_codes(110103, history) == [110101]  # 崇文区 → 东城区
    assert current_codes(130223, history) == [130284]  # 滦县 → 滦州市


def test_reloading_changes_nothing() -> None:
    before = Region.objects.count(), RegionFlag.objects.count(), CodeHistory.objects.count()
    result = load_regions(level=5, counties=["130821"])
    assert result.inserted == {1: 0, 2: 0, 3: 0, 4: 0, 5: 0}
    assert (result.renamed, result.flags, result.history) == (0, 0, 0)
    assert (Region.objects.count(), RegionFlag.objects.count(), CodeHistory.objects.count()) == before
