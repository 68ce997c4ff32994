"""The pairing's sides as code ranges, for the labour rules (the one place that reads them)."""

from __future__ import annotations

from xiezuo.ledgers.services import side_regions
from xiezuo.ledgers.types import HELPED, HELPER
from xiezuo.pairings.models import Pairing
from xiezuo.regions.models import subtree_range

Ranges = tuple[tuple[int, int], ...]


def side_ranges(pairing: Pairing, side: str) -> Ranges:
    return tuple(subtree_range(code, level) for code, level in side_regions(pairing, side))


def partner_ranges(pairing: Pairing) -> Ranges:
    """The helper side of the pairing and of every pairing above it.

    A job in 西青区 placed through 东丽区→承德县 is still a job with the eastern partner 天津
    (the provincial pair 天津→承德), which is how East–West reports count "转移到东部就业".
    """
    out: list[tuple[int, int]] = []
    seen: set[int] = set()
    current: Pairing | None = pairing
    while current is not None and current.pk not in seen:
        seen.add(current.pk)
        out.extend(side_ranges(current, HELPER))
        current = current.parent
    return tuple(sorted(set(out)))


def helped_ranges(pairing: Pairing) -> Ranges:
    return side_ranges(pairing, HELPED)
