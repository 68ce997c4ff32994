"""Scoring rules, grades and ranks (FRAMEWORK.md "Scoring rules"): pure and exact.

Points are :class:`~decimal.Decimal` rounded half up to hundredths, so that a total is the sum
of the points shown and the same run gives the same figures on every machine.

>>> score("ratio", {}, points=8, value=1500, target=2000)
(Decimal('6.00'), None)
>>> score("ratio", {}, points=8, value=10, target=None)
(Decimal('0.00'), 'missing_target')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def _d(x: float | int) -> Decimal:
    return Decimal(repr(float(x))) if isinstance(x, float) else Decimal(x)


def _round(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def score(
    rule: str, params: Mapping[str, Any], *, points: float, value: float | None, target: float | None
) -> tuple[Decimal, str | None]:
    """The points of one indicator and, when it cannot be scored normally, the finding's reason.

    ``ratio``     points × min(value ÷ target, cap) (cap 1.0 unless given);
    ``at_least``  full points when value ≥ target, else points × value ÷ target;
    ``growth``    ``at_least`` with last year's value as the target;
    ``penalty``   points − per × value (per 1.0 unless given), not below 0; no target.

    No value: 0 points, ``no_value``. A rule that needs a target and has none: 0 points,
    ``missing_target``. A target of 0 or below: ``at_least``/``growth`` give full points (nothing
    was asked; last year nothing was done), ``ratio`` gives 0 with ``bad_target``.
    """
    full = _d(points)
    if value is None:
        return ZERO, "no_value"
    v = _d(value)
    if rule == "penalty":
        return _round(max(ZERO, full - _d(params.get("per", 1.0)) * v)), None
    if target is None:
        return ZERO, "missing_target"
    t = _d(target)
    if rule == "ratio":
        if t <= 0:
            return ZERO, "bad_target"
        cap = _d(params.get("cap", 1.0))
        return _round(full * min(v / t, cap)), None
    if rule in ("at_least", "growth"):
        if t <= 0 or v >= t:
            return _round(full), None
        return _round(full * max(v, ZERO) / t), None
    raise ValueError(f"unknown scoring rule {rule!r}")


def grade(total: Decimal, bands: Sequence[tuple[str, float]]) -> str:
    """The first band whose minimum the total reaches (bands from the highest down, the last 0).

    >>> bands = (("好", 90), ("较好", 80), ("一般", 60), ("较差", 0))
    >>> [grade(Decimal(x), bands) for x in ("90", "89.99", "80", "60", "59.99")]
    ['好', '较好', '较好', '一般', '较差']
    """
    for name, minimum in bands:
        if total >= _d(minimum):
            return name
    return bands[-1][0]


def ranks(totals: Sequence[Decimal]) -> list[int]:
    """Competition ranks, highest total first; ties share a rank and the next rank skips.

    >>> ranks([Decimal(80), Decimal(95), Decimal(80), Decimal(70)])
    [2, 1, 2, 4]
    """
    return [1 + sum(1 for other in totals if other > t) for t in totals]
