"""Pure rules about region codes and names (no Django imports)."""

from __future__ import annotations

import re

PSEUDO_NAMES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}

# The four statistical belts (国家统计局 东中西部和东北地区划分方法, 2011), by province code.
BELTS: dict[str, str] = {
    **dict.fromkeys(["11", "12", "13", "31", "32", "33", "35", "37", "44", "46"], "east"),
    **dict.fromkeys(["14", "34", "36", "41", "42", "43"], "central"),
    **dict.fromkeys(["15", "45", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"], "west"),
    **dict.fromkeys(["21", "22", "23"], "northeast"),
}
BELT_SOURCE = "国家统计局《东西中部和东北地区划分方法》（2011）；比照西部地区由用户维护"


def level_of_short(code: str) -> int:
    """Level of a 2/4/6/9/12-digit code by its length.

    >>> [level_of_short(c) for c in ["52", "5227", "522732", "522732100", "522732100201"]]
    [1, 2, 3, 4, 5]
    """
    return {2: 1, 4: 2, 6: 3, 9: 4, 12: 5}[len(code)]


def is_pseudo_name(name: str) -> bool:
    """A grouping node of the statistical tree, not a real prefecture.

    >>> is_pseudo_name("市辖区"), is_pseudo_name("遵义市")
    (True, False)
    """
    return name in PSEUDO_NAMES


def is_statistical_zone(code: str, admin_codes_in_use: set[str]) -> bool:
    """A county-level code used only in statistics (开发区, 新区 …): 71–79 and not an admin code.

    >>> is_statistical_zone("130171", set()), is_statistical_zone("130102", set())
    (True, False)
    """
    return "71" <= code[4:6] <= "79" and code not in admin_codes_in_use


_AUTONOMOUS = re.compile(r"(自治区|自治州|自治县|自治旗|旗)$")


def is_ethnic_autonomous(name: str) -> bool:
    """Ethnic autonomous area, derived from the name (自治区/自治州/自治县/旗).

    >>> names = ["凉山彝族自治州", "鄂伦春自治旗", "达尔罕茂明安联合旗", "旗山区", "贵州省"]
    >>> [is_ethnic_autonomous(n) for n in names]
    [True, True, True, False, False]
    """
    return bool(_AUTONOMOUS.search(name))


def parse_successors(text: str) -> list[list[int | None]]:
    """Parse the history file's successor column: ``code`` or ``code[YYYY]``, ``;``-separated.

    >>> parse_successors("130282"), parse_successors("510113;510115[2016]"), parse_successors("")
    ([[130282, None]], [[510113, None], [510115, 2016]], [])
    """
    out: list[list[int | None]] = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        m = re.fullmatch(r"(\d{6})(?:\[(\d{4})\])?", part)
        if not m:
            raise ValueError(f"bad successor entry {part!r}")
        out.append([int(m.group(1)), int(m.group(2)) if m.group(2) else None])
    return out


def current_codes(code: int, history: dict[int, tuple[bool, list[list[int | None]]]]) -> list[int]:
    """Follow successors from an old 6-digit code to the codes in use today.

    ``history`` maps code -> (in_use, successors). A code in use maps to itself; an abolished
    code with no successor maps to nothing.

    >>> h = {1: (False, [[2, None]]), 2: (False, [[3, None], [4, None]]), 3: (True, []), 4: (True, [])}
    >>> current_codes(1, h), current_codes(3, h), current_codes(9, h)
    ([3, 4], [3], [])
    """
    out: list[int] = []
    seen: set[int] = set()
    stack = [code]
    while stack:
        c = stack.pop()
        if c in seen or c not in history:
            continue
        seen.add(c)
        in_use, succ = history[c]
        if in_use:
            out.append(c)
        else:
            stack.extend(int(s[0]) for s in succ if s[0] is not None)
    return sorted(out)
