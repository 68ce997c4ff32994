"""Crosswalk from the demo base map's features to region codes (DESIGN.md D14).

The bundled shapes are the echarts 4.9.0 map files: ``china.json`` has one feature per
province with a short name (贵州, 内蒙古, 广西) and a centre point ``cp``; ``province/<pinyin>.json``
has the prefectures of one province (the four municipalities and Hong Kong/Macao: their
districts) with full names as of about 2017 (那曲地区 is 那曲市 since 2017) and ``cp``.
Features are matched to the region table by name, never by the files' ids, because a deploying
office may replace the shapes with an approved map whose ids differ.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.contrib.staticfiles import finders

from xiezuo.regions.models import LEVEL_DIGITS, Region

Point = tuple[float, float]

CHINA_FILE = "vendor/maps/china.json"
# Province file (pinyin stem) -> 2-digit province code. 山西 is shanxi, 陕西 shanxi1.
PROVINCE_FILES: dict[str, str] = {
    "beijing": "11", "tianjin": "12", "hebei": "13", "shanxi": "14", "neimenggu": "15",
    "liaoning": "21", "jilin": "22", "heilongjiang": "23", "shanghai": "31", "jiangsu": "32",
    "zhejiang": "33", "anhui": "34", "fujian": "35", "jiangxi": "36", "shandong": "37",
    "henan": "41", "hubei": "42", "hunan": "43", "guangdong": "44", "guangxi": "45",
    "hainan": "46", "chongqing": "50", "sichuan": "51", "guizhou": "52", "yunnan": "53",
    "xizang": "54", "shanxi1": "61", "gansu": "62", "qinghai": "63", "ningxia": "64",
    "xinjiang": "65",
}  # fmt: skip
# Renamed since the map files were drawn: old feature name -> name in the region table.
RENAMED: dict[str, str] = {"那曲地区": "那曲市"}


@lru_cache(maxsize=1)
def _read_features() -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    china_path = finders.find(CHINA_FILE)
    if not china_path:
        raise FileNotFoundError(f"static file {CHINA_FILE} not found (run npm ci)")
    china = Path(str(china_path))
    provinces = json.loads(china.read_text(encoding="utf-8"))["features"]
    by_province: dict[str, list[dict[str, Any]]] = {}
    for stem, code in PROVINCE_FILES.items():
        path = china.parent / "province" / f"{stem}.json"
        if path.exists():
            by_province[code] = json.loads(path.read_text(encoding="utf-8"))["features"]
    return provinces, by_province


def decode_ring(encoded: str, offsets: list[int], scale: int = 1024) -> list[Point]:
    """Decode one ring of the echarts 4 compressed GeoJSON (``UTF8Encoding``): zigzag deltas.

    >>> decode_ring("@@BB", [1024, 2048])
    [(1.0, 2.0), (1.0009765625, 2.0009765625)]
    """
    out: list[Point] = []
    x_prev, y_prev = offsets[0], offsets[1]
    for i in range(0, len(encoded) - 1, 2):
        x, y = ord(encoded[i]) - 64, ord(encoded[i + 1]) - 64
        x = (x >> 1) ^ -(x & 1)
        y = (y >> 1) ^ -(y & 1)
        x_prev, y_prev = x_prev + x, y_prev + y
        out.append((x_prev / scale, y_prev / scale))
    return out


def _cp(feature: Mapping[str, Any]) -> Point | None:
    """The feature's centre point ``cp``; where a file lacks it (哈密市), the centre of its bounds."""
    cp = feature.get("properties", {}).get("cp")
    if cp:
        return (float(cp[0]), float(cp[1]))
    geometry = feature.get("geometry") or {}
    polygons = geometry.get("coordinates") or []
    offsets = geometry.get("encodeOffsets") or []
    if geometry.get("type") == "Polygon":
        polygons, offsets = [polygons], [offsets]
    points: list[Point] = []
    for rings, ring_offsets in zip(polygons, offsets, strict=False):
        for ring, off in zip(rings, ring_offsets, strict=False):
            if isinstance(ring, str):
                points.extend(decode_ring(ring, off))
    if not points:
        return None
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return (round((min(xs) + max(xs)) / 2, 6), round((min(ys) + max(ys)) / 2, 6))


def match_provinces(features: Iterable[Mapping[str, Any]], provinces: Mapping[int, str]) -> dict[int, Point]:
    """Province features (short names) to 12-digit codes: the region's full name starts with the
    feature's name.

    >>> features = [{"properties": {"name": "广西", "cp": [108.3, 22.8]}}]
    >>> match_provinces(features, {450000000000: "广西壮族自治区"})
    {450000000000: (108.3, 22.8)}
    """
    out: dict[int, Point] = {}
    for f in features:
        name, cp = f.get("properties", {}).get("name", ""), _cp(f)
        if not name or cp is None:
            continue
        hits = [code for code, full in provinces.items() if full.startswith(name)]
        if len(hits) == 1:
            out[hits[0]] = cp
    return out


def match_prefectures(
    features: Iterable[Mapping[str, Any]], prefectures: Mapping[int, str]
) -> dict[int, Point]:
    """Features of one province file to the prefectures of that province, by exact name (after
    ``RENAMED``).

    >>> features = [{"properties": {"name": "那曲地区", "cp": [92.0, 31.5]}}]
    >>> match_prefectures(features, {540600000000: "那曲市"})
    {540600000000: (92.0, 31.5)}
    """
    by_name = {name: code for code, name in prefectures.items()}
    out: dict[int, Point] = {}
    for f in features:
        name, cp = f.get("properties", {}).get("name", ""), _cp(f)
        code = by_name.get(RENAMED.get(name, name))
        # The first feature of a name wins (xizang.json has 山南市 twice, the second without cp).
        if code is not None and cp is not None and code not in out:
            out[code] = cp
    return out


def feature_coordinates() -> dict[int, Point]:
    """{12-digit code: (lng, lat)} for every province and prefecture with a map feature, and for
    the county-level features of the province files (districts of the four municipalities,
    county-level cities directly under a province such as 济源市) that name a county uniquely."""
    province_features, by_province = _read_features()
    provinces: dict[int, str] = {}
    prefectures: dict[str, dict[int, str]] = {}
    counties: dict[str, dict[str, list[int]]] = {}
    for code, level, name in Region.objects.filter(level__lte=3).values_list("code", "level", "name"):
        if level == 1:
            provinces[code] = name
        elif level == 2:
            prefectures.setdefault(str(code)[:2], {})[code] = name
        else:
            counties.setdefault(str(code)[:2], {}).setdefault(name, []).append(code)
    out = match_provinces(province_features, provinces)
    for prov, features in by_province.items():
        matched = match_prefectures(features, prefectures.get(prov, {}))
        names = set(prefectures.get(prov, {}).values())
        rest = [
            f for f in features if RENAMED.get(f["properties"]["name"], f["properties"]["name"]) not in names
        ]
        unique = {codes[0]: name for name, codes in counties.get(prov, {}).items() if len(codes) == 1}
        for code, point in match_prefectures(rest, unique).items():
            matched.setdefault(code, point)
        out.update(matched)
    return out


def point_for(code: int, level: int, coordinates: Mapping[int, Point]) -> Point | None:
    """Coordinate of a region: its own feature, else its prefecture's, else its province's.

    >>> coords = {520000000000: (106.7, 26.6), 522300000000: (104.9, 25.1)}
    >>> point_for(522323000000, 3, coords), point_for(520100000000, 2, coords)
    ((104.9, 25.1), (106.7, 26.6))
    >>> point_for(330200000000, 2, coords) is None
    True
    """
    for digits in (LEVEL_DIGITS[level], 4, 2):
        if digits > LEVEL_DIGITS[level]:
            continue
        unit = 10 ** (12 - digits)
        point = coordinates.get(code // unit * unit)
        if point is not None:
            return point
    return None


def flow_data(pairings: Iterable[Any], *, url_for: Any) -> dict[str, Any]:
    """Flow lines helper → helped for the map page, one per pair of side members with a point.

    ``pairings`` must be prefetched with ``sides__region`` and ``sides__organisation__region``;
    ``url_for(pairing)`` gives the link of each line. Returns ``{"flows": [...], "points": [...]}``
    ready for ``json_script``.
    """
    coordinates = feature_coordinates()
    flows: list[dict[str, Any]] = []
    points: dict[str, dict[str, Any]] = {}
    for pairing in pairings:
        ends: dict[str, list[tuple[str, Point]]] = {"helper": [], "helped": []}
        for side in pairing.sides.all():
            region = side.region if side.region is not None else side.organisation.region
            name = side.region.name if side.region is not None else side.organisation.name
            point = point_for(side.region_code, side.region_level, coordinates)
            if point is None:
                continue
            ends[side.side].append((name, point))
            entry = points.setdefault(
                f"{region.short_code}:{name}", {"name": name, "value": [*point], "helper": 0, "helped": 0}
            )
            entry[side.side] += 1
        for helper_name, helper_point in ends["helper"]:
            for helped_name, helped_point in ends["helped"]:
                flows.append(
                    {
                        "from": helper_name,
                        "to": helped_name,
                        "coords": [[*helper_point], [*helped_point]],
                        "pairing": pairing.name,
                        "url": url_for(pairing),
                    }
                )
    return {"flows": flows, "points": list(points.values())}
