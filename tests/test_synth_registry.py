"""The synthetic registry generator: same seed, same files; consistent people; planted errors recorded."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter
from pathlib import Path

from xiezuo.synth.registry import check_chars, generate, load_counties


def test_same_seed_same_files(tmp_path: Path) -> None:
    first = generate(people=2000, seed=7, out=tmp_path / "a")
    second = generate(people=2000, seed=7, out=tmp_path / "b")
    assert (
        first["sha256"]
        == second["sha256"]
        == {"registry.csv": "b43c4f6909bdd0fb1201c3a04a0df323ad595762bdbf3398c0b6da1c2ff05cb5"}
    )
    other = generate(people=2000, seed=8, out=tmp_path / "c")
    assert other["sha256"] != first["sha256"]


def test_people_are_consistent_with_their_county_and_ids_are_valid(tmp_path: Path) -> None:
    manifest = generate(people=5000, seed=11, out=tmp_path)
    rows = list(csv.DictReader(open(tmp_path / "registry.csv", encoding="utf-8")))
    assert len(rows) == manifest["people"] == 5000
    planted = {e["row"]: e["kind"] for e in manifest["planted_errors"]}  # type: ignore[union-attr,index]
    exit_years = {c.code: c.exit_year for c in load_counties()}
    clean = [r for i, r in enumerate(rows) if i not in planted]
    for r in clean:
        ident = r["证件号码"]
        assert ident[:6] == r["行政区划代码"][:6]  # ID address code = the household's county
        assert check_chars([ident[:17]])[0] == ident[17]  # type: ignore[arg-type]
        assert dt.date(int(ident[6:10]), int(ident[10:12]), int(ident[12:14])) <= dt.date(2019, 12, 31)
        assert int(r["识别年度"]) < min(exit_years[ident[:6]], 2020) or r["识别年度"] == "2019"
        if r["脱贫年度"]:
            assert int(r["脱贫年度"]) <= 2020
    assert len({r["证件号码"] for r in clean}) == len(clean)
    heads = Counter(r["户编号"] for r in rows if r["与户主关系"] == "户主")
    assert set(heads.values()) == {1}
    assert Counter(
        e["kind"] for e in json.loads((tmp_path / "manifest.json").read_text())["planted_errors"]
    ) == Counter(planted.values())
