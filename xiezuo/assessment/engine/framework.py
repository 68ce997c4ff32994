"""Frameworks as data (DESIGN.md §3, FRAMEWORK.md): one versioned YAML file each, checked on load.

A framework lists areas, each with indicators; an indicator names its side, unit, computation (a
function of the indicator library with its parameters, :mod:`.signatures`), target rule,
scoring rule and points. Every error names where it is, e.g.
``ew-2017-east: areas[2].indicators[0].computation: unknown function 'cnt'``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from xiezuo.assessment.engine.facts import LEDGERS
from xiezuo.assessment.engine.signatures import SIGNATURES, Param

SIDES = ("helper", "helped")
SCORING_RULES: Mapping[str, Mapping[str, type]] = {
    "ratio": {"cap": float},
    "at_least": {},
    "growth": {},
    "penalty": {"per": float},
}
TARGET_RULES: Mapping[str, Mapping[str, type]] = {
    "agreement": {"item": str, "default": float},
    "fixed": {"value": float},
    "last_year": {},
    "none": {},
}
DATE_TYPES = ("date32[day]",)


class FrameworkError(ValueError):
    """A framework file that cannot be used, with the place of the error."""


@dataclass(frozen=True)
class Computation:
    function: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class Rule:
    rule: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    side: str
    unit: str
    computation: Computation
    target: Rule
    scoring: Rule
    points: float
    area: str


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    points: float
    indicators: tuple[Indicator, ...]


@dataclass(frozen=True)
class Framework:
    code: str
    version: str
    title: str
    year_from: int
    year_to: int | None
    programmes: tuple[str, ...]
    points: float
    grades: tuple[tuple[str, float], ...]
    areas: tuple[Area, ...]

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        return tuple(i for a in self.areas for i in a.indicators)

    def sides(self) -> tuple[str, ...]:
        return tuple(s for s in SIDES if any(i.side == s for i in self.indicators))

    def applies_to(self, year: int) -> bool:
        return self.year_from <= year and (self.year_to is None or year <= self.year_to)


def _fail(where: str, message: str) -> FrameworkError:
    return FrameworkError(f"{where}: {message}")


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(where, "expected a mapping")
    return value


def _keys(value: Mapping[str, Any], where: str, required: set[str], optional: set[str]) -> None:
    missing = sorted(required - set(value))
    if missing:
        raise _fail(where, f"missing {', '.join(missing)}")
    unknown = sorted(set(value) - required - optional)
    if unknown:
        raise _fail(where, f"unknown key {', '.join(unknown)}")


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(where, f"expected a number, got {value!r}")
    return float(value)


def _computation(raw: Any, where: str) -> Computation:
    raw = _mapping(raw, where)
    name = raw.get("function")
    if name not in SIGNATURES:
        raise _fail(where, f"unknown function {name!r} (known: {', '.join(sorted(SIGNATURES))})")
    sig = SIGNATURES[name]
    _keys(raw, where, {"function"} | {k for k, p in sig.items() if p.required}, set(sig))
    params: dict[str, Any] = {k: p.default for k, p in sig.items() if not p.required}
    ledger = raw.get("ledger")
    for key, value in raw.items():
        if key != "function":
            params[key] = _param(sig[key], value, f"{where}.{key}", ledger)
    return Computation(name, params)


def _param(p: Param, value: Any, where: str, ledger: Any) -> Any:
    columns = LEDGERS[ledger] if ledger in LEDGERS else None
    if p.kind == "ledger":
        if value not in LEDGERS:
            raise _fail(where, f"unknown ledger {value!r} (known: {', '.join(sorted(LEDGERS))})")
        return value
    if p.kind in ("column", "date"):
        assert columns is not None
        if value not in columns.names:
            raise _fail(where, f"ledger {ledger} has no column {value!r}")
        if p.kind == "date" and str(columns.field(value).type) not in DATE_TYPES:
            raise _fail(where, f"column {value!r} of ledger {ledger} is not a date")
        return value
    if p.kind == "where":
        assert columns is not None
        conditions = _mapping(value, where)
        for column, cond in conditions.items():
            if column not in columns.names:
                raise _fail(where, f"ledger {ledger} has no column {column!r}")
            ok = isinstance(cond, str | int | bool) or (
                isinstance(cond, list) and cond and all(isinstance(c, str | int) for c in cond)
            )
            ok = ok or (
                isinstance(cond, Mapping) and set(cond) == {"empty"} and isinstance(cond["empty"], bool)
            )
            if not ok:
                raise _fail(f"{where}.{column}", "expected a value, a list of values or {empty: true|false}")
        return dict(conditions)
    if p.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise _fail(where, f"expected a whole number ≥ 0, got {value!r}")
        return value
    if p.kind == "bool":
        if not isinstance(value, bool):
            raise _fail(where, f"expected true or false, got {value!r}")
        return value
    if p.kind == "choice":
        if value not in p.choices:
            raise _fail(where, f"expected one of {', '.join(p.choices)}, got {value!r}")
        return value
    if p.kind == "text":
        return str(value)
    if p.kind == "computation":
        return _computation(value, where)
    if p.kind == "computations":
        if not isinstance(value, list) or not value:
            raise _fail(where, "expected a non-empty list of computations")
        return tuple(_computation(v, f"{where}[{i}]") for i, v in enumerate(value))
    raise AssertionError(p.kind)  # pragma: no cover


def _rule(raw: Any, where: str, rules: Mapping[str, Mapping[str, type]]) -> Rule:
    raw = _mapping(raw, where)
    name = raw.get("rule")
    if name not in rules:
        raise _fail(where, f"unknown rule {name!r} (known: {', '.join(rules)})")
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "rule":
            continue
        if key not in rules[name]:
            raise _fail(where, f"rule {name} takes no {key!r}")
        kind = rules[name][key]
        if kind is str:
            if not isinstance(value, str) or not value:
                raise _fail(f"{where}.{key}", f"expected a word, got {value!r}")
            params[key] = value
        else:
            params[key] = _number(value, f"{where}.{key}")
            if params[key] <= 0 and key in ("cap", "per"):
                raise _fail(f"{where}.{key}", "must be above 0")
    if name == "agreement" and "item" not in params:
        raise _fail(where, "rule agreement needs item (an agreement target item)")
    if name == "fixed" and "value" not in params:
        raise _fail(where, "rule fixed needs value")
    return Rule(name, params)


def parse(raw: Any, *, source: str = "framework") -> Framework:
    """A framework from the parsed YAML of a file; :class:`FrameworkError` on the first problem."""
    raw = _mapping(raw, source)
    code = str(raw.get("code", source))
    top = {"code", "version", "title", "years", "programmes", "side", "points", "grades", "areas"}
    _keys(raw, code, top, set())
    side = raw["side"]
    if side not in SIDES:
        raise _fail(f"{code}: side", f"expected helper or helped, got {side!r}")
    years = _mapping(raw["years"], f"{code}: years")
    _keys(years, f"{code}: years", {"from"}, {"to"})
    year_from, year_to = years["from"], years.get("to")
    if not isinstance(year_from, int) or (
        year_to is not None and (not isinstance(year_to, int) or year_to < year_from)
    ):
        raise _fail(f"{code}: years", "from and to are years, to not before from")
    grades = []
    for i, band in enumerate(raw["grades"] or []):
        band = _mapping(band, f"{code}: grades[{i}]")
        _keys(band, f"{code}: grades[{i}]", {"grade", "min"}, set())
        grades.append((str(band["grade"]), _number(band["min"], f"{code}: grades[{i}].min")))
    mins = [m for _, m in grades]
    if not grades or mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins) or mins[-1] != 0:
        raise _fail(f"{code}: grades", "bands from the highest minimum down, each lower, the last from 0")
    areas, seen = [], set()
    for a, area in enumerate(raw["areas"] or []):
        at = f"{code}: areas[{a}]"
        area = _mapping(area, at)
        _keys(area, at, {"code", "name", "points", "indicators"}, set())
        indicators = []
        for n, ind in enumerate(area["indicators"] or []):
            it = f"{at}.indicators[{n}]"
            ind = _mapping(ind, it)
            _keys(ind, it, {"code", "name", "unit", "computation", "target", "scoring", "points"}, {"side"})
            if ind["code"] in seen:
                raise _fail(it, f"indicator code {ind['code']} used twice")
            seen.add(ind["code"])
            ind_side = ind.get("side", side)
            if ind_side not in SIDES:
                raise _fail(f"{it}.side", f"expected helper or helped, got {ind_side!r}")
            indicators.append(
                Indicator(
                    code=str(ind["code"]),
                    name=str(ind["name"]),
                    side=ind_side,
                    unit=str(ind["unit"]),
                    computation=_computation(ind["computation"], f"{it}.computation"),
                    target=_rule(ind["target"], f"{it}.target", TARGET_RULES),
                    scoring=_rule(ind["scoring"], f"{it}.scoring", SCORING_RULES),
                    points=_number(ind["points"], f"{it}.points"),
                    area=str(area["code"]),
                )
            )
        points = _number(area["points"], f"{at}.points")
        for s in SIDES:  # a two-sided framework gives each side the area's points
            total = sum(i.points for i in indicators if i.side == s)
            if total and abs(total - points) > 1e-9:
                raise _fail(
                    at,
                    f"area {area['code']} has {points:g} points but its {s} indicators add up to {total:g}",
                )
        areas.append(Area(str(area["code"]), str(area["name"]), points, tuple(indicators)))
    points = _number(raw["points"], f"{code}: points")
    for s in SIDES:
        total = sum(i.points for a in areas for i in a.indicators if i.side == s)
        if total and abs(total - points) > 1e-9:
            raise _fail(code, f"the {s} side's indicators add up to {total:g} points, not {points:g}")
    return Framework(
        code=code,
        version=str(raw["version"]),
        title=str(raw["title"]),
        year_from=year_from,
        year_to=year_to,
        programmes=tuple(raw["programmes"]),
        points=points,
        grades=tuple(grades),
        areas=tuple(areas),
    )


def load(path: Path) -> Framework:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise FrameworkError(f"{path.name}: not valid YAML ({exc})") from exc
    return parse(raw, source=path.stem)


SHIPPED = Path(__file__).resolve().parent.parent / "frameworks"


def shipped() -> dict[str, Framework]:
    """The frameworks shipped with xiezuo, by code."""
    return {f.code: f for f in (load(p) for p in sorted(SHIPPED.glob("*.yaml")))}


def for_year(year: int, frameworks: Mapping[str, Framework] | None = None) -> list[Framework]:
    """The frameworks that apply to a year (2017–2020: east and west; 2021 on: ew-2021)."""
    return [f for f in (frameworks or shipped()).values() if f.applies_to(year)]
