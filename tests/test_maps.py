"""The crosswalk from the demo base map (echarts 4.9.0 map files) to region codes (DESIGN.md D14).

Exact counts on purpose: replacing the shapes or the region table shows here first.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.test import Client, override_settings

from xiezuo.accounts.models import Grant
from xiezuo.core import codelists
from xiezuo.regions.loading import load_regions
from xiezuo.regions.models import Region, full_code
from xiezuo.web import maps

# Prefecture-level nodes of the region table without a map feature: all grouping nodes.
UNMATCHED_PREFECTURES = [
    ("1101", "市辖区"),
    ("1201", "市辖区"),
    ("3101", "市辖区"),
    ("4190", "省直辖县级行政区划"),
    ("4290", "省直辖县级行政区划"),
    ("4690", "省直辖县级行政区划"),
    ("5001", "市辖区"),
    ("5002", "县"),
    ("6590", "自治区直辖县级行政区划"),
]


@pytest.fixture(scope="module", autouse=True)
def regions_to_county(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    with django_db_blocker.unblock(), transaction.atomic():
        codelists.load_code_lists()
        load_regions(level=3)
        yield
        transaction.set_rollback(True)
    codelists.clear_cache()


@pytest.mark.parametrize(
    ("encoded", "offsets", "expected"),
    [
        ("@@", [1024, 2048], [(1.0, 2.0)]),
        ("@@BB", [1024, 2048], [(1.0, 2.0), (1.0009765625, 2.0009765625)]),
        ("@@AA", [1024, 2048], [(1.0, 2.0), (0.9990234375, 1.9990234375)]),
        ("", [0, 0], []),
    ],
)
def test_decode_ring(encoded: str, offsets: list[int], expected: list[tuple[float, float]]) -> None:
    assert maps.decode_ring(encoded, offsets) == expected


@pytest.mark.parametrize(
    ("code", "level", "expected"),
    [
        (520000000000, 1, (106.7, 26.6)),
        (522300000000, 2, (104.9, 25.1)),
        (522323000000, 3, (104.9, 25.1)),  # county → its prefecture
        (522323100201, 5, (104.9, 25.1)),  # village → its prefecture
        (520100000000, 2, (106.7, 26.6)),  # prefecture without a point → its province
        (330200000000, 2, None),
    ],
)
def test_point_for_falls_back_up_the_tree(
    code: int, level: int, expected: tuple[float, float] | None
) -> None:
    coords = {520000000000: (106.7, 26.6), 522300000000: (104.9, 25.1)}
    assert maps.point_for(code, level, coords) == expected


@pytest.mark.django_db
def test_all_31_provinces_match_by_short_name() -> None:
    coords = maps.feature_coordinates()
    provinces = list(Region.objects.filter(level=1))
    assert len(provinces) == 31
    assert [p.name for p in provinces if p.code not in coords] == []
    assert coords[full_code("52")] == (106.713478, 26.578343)
    assert coords[full_code("15")] == (111.670801, 41.818311)  # 内蒙古 → 内蒙古自治区


@pytest.mark.django_db
def test_prefectures_match_except_the_grouping_nodes() -> None:
    coords = maps.feature_coordinates()
    prefectures = list(Region.objects.filter(level=2))
    matched = [r for r in prefectures if r.code in coords]
    assert (len(matched), len(prefectures)) == (333, 342)
    assert [(r.short_code, r.name) for r in prefectures if r.code not in coords] == UNMATCHED_PREFECTURES
    assert coords[full_code("5223")] == (
        104.897971,
        25.08812,
    )  # 黔西南布依族苗族自治州, full name in the file
    assert coords[full_code("5406")] == (92.060214, 31.476004)  # 那曲地区 in the file, 那曲市 since 2017
    assert coords[full_code("6505")] == (93.770508, 42.986328)  # 哈密市 has no cp: centre of its bounds
    assert coords[full_code("5405")] == (91.766529, 29.236023)  # 山南市 twice in xizang.json: the first wins


@pytest.mark.django_db
def test_county_level_features_of_province_files() -> None:
    coords = maps.feature_coordinates()
    counties = Region.objects.filter(level=3)
    with_point = [r for r in counties if r.code in coords]
    # Districts of 北京/天津/上海/重庆, county-level units directly under 河南/湖北/海南/新疆, and
    # the county nodes sharing the code of 东莞, 中山 and 儋州.
    assert (len(with_point), counties.count()) == (116, 2978)
    assert sorted({r.short_code[:2] for r in with_point}) == [
        "11",
        "12",
        "31",
        "41",
        "42",
        "44",
        "46",
        "50",
        "65",
    ]
    assert coords[full_code("120110")] == (117.313967, 39.087764)  # 东丽区
    # Every other county falls back to its prefecture.
    assert maps.point_for(full_code("522323"), 3, coords) == (104.897971, 25.08812)


@pytest.mark.django_db
@override_settings(XIEZUO_MAP_APPROVAL="GS(2099)0000号")
def test_map_page_shows_the_approval_number_and_the_demo_note() -> None:
    from django.contrib.auth.models import User

    user = User.objects.create_user("mapper", password="a-long-password-1")
    Grant.objects.create(user=user, role="national_coordinator", region=None)
    client = Client()
    client.force_login(user)
    html = client.get("/pairings/map/").content.decode()
    assert "审图号：GS(2099)0000号" in html
    assert "演示底图" in html
    assert 'data-geojson="/static/vendor/maps/china.json"' in html
    assert "<script>" not in html
