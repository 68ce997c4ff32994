"""Synthetic cooperation ledgers, consistent with the registry (issue #4).

Each area app has ``xiezuo/<app>/synth.py`` with ``generate(ctx: SynthContext) -> dict[str, list[dict]]``:
per ledger key, rows of values keyed by column key, as the spec parses them (codes, fen, dates,
years, ints), with the common columns ``pairing`` (a Pairing), ``year`` and ``region_code`` (int),
and person columns holding clear synthetic ID numbers. :func:`build_ledgers` saves them through
the one service (``xiezuo.ledgers.services.save_record``), so demo records pass the same rules,
registry checks and audit as a clerk's; :func:`write_files` writes them as import-ready sheets.

People placed in jobs, trained or benefiting are drawn from the registry members of the helped
counties (``ctx.people``); a recorded small share are planted bad claims (``ctx.bad_ids``): valid
ID numbers of people who are not in the registry, for the checks to find. Same seed, same rows.
"""

from __future__ import annotations

import datetime as dt
import importlib
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db.models import Q

from xiezuo.core.crypto import get_cipher
from xiezuo.ledgers import types
from xiezuo.pairings.models import Pairing, PairingSide
from xiezuo.regions.models import Region, subtree_range

AREA_APPS = ("engagement", "talent", "funds", "projects", "industry", "labour", "consumption")
BAD_CLAIM_SHARE = 0.03
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"


def id_number(address: str, birth: dt.date, serial: int) -> str:
    """A valid 18-digit ID number (checksum and all) for an address code, birth date and serial.

    >>> id_number("130821", dt.date(1980, 5, 17), 123)
    '130821198005171230'
    """
    body = f"{address}{birth:%Y%m%d}{serial % 1000:03d}"
    return body + CHECK[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11]


@dataclass
class SynthContext:
    """What an area generator may use: the seeded random generator, the year, the pairings, people."""

    rng: random.Random
    year: int
    pairings: list[Pairing]
    scale: float = 1.0
    planted: Counter[str] = field(default_factory=Counter)
    """Ledger key → number of planted bad claims (recorded for the checks to find)."""
    _people: dict[int, list[str]] = field(default_factory=dict)
    _sides: dict[tuple[int, str], list[PairingSide]] = field(default_factory=dict)

    def sides(self, pairing: Pairing, side: str) -> list[PairingSide]:
        key = (pairing.pk, side)
        if key not in self._sides:
            self._sides[key] = list(
                pairing.sides.filter(side=side)
                .select_related("region", "organisation")
                .order_by("region_code")
            )
        return self._sides[key]

    def region_code(self, pairing: Pairing, side: str) -> int:
        """The 12-digit code of the side's (first) region (an organisation's region for organisations)."""
        return self.sides(pairing, side)[0].region_code

    def villages(self, pairing: Pairing, side: str, n: int) -> list[int]:
        """Up to ``n`` village codes under the side's region, chosen with the seeded generator."""
        s = self.sides(pairing, side)[0]
        low, high = subtree_range(s.region_code, s.region_level)
        codes = list(
            Region.objects.filter(level=5, code__gte=low, code__lt=high)
            .order_by("code")
            .values_list("code", flat=True)[:2000]
        )
        if not codes:
            return [s.region_code] * n
        return [self.rng.choice(codes) for _ in range(n)]

    def people(self, pairing: Pairing, n: int) -> list[str]:
        """``n`` clear ID numbers of registry members living in the pairing's helped side (with repeats
        only when the registry holds fewer). Synthetic people only: the demo's registry is synthetic."""
        if pairing.pk not in self._people:
            from xiezuo.registry.models import Member

            cond = Q()
            for s in self.sides(pairing, types.HELPED):
                low, high = subtree_range(s.region_code, s.region_level)
                cond |= Q(region_code__gte=low, region_code__lt=high)
            ciphers = list(
                Member.objects.filter(cond, left_on__isnull=True)
                .order_by("id")
                .values_list("id_cipher", flat=True)[:5000]
            )
            cipher = get_cipher()
            self._people[pairing.pk] = [cipher.decrypt(c) for c in ciphers]
        pool = self._people[pairing.pk]
        if not pool:
            return []
        if len(pool) >= n:
            return self.rng.sample(pool, n)
        return [self.rng.choice(pool) for _ in range(n)]

    def bad_ids(self, ledger: str, n: int, *, county: str = "130821") -> list[str]:
        """``n`` valid ID numbers of people not in the registry (planted bad claims), recorded."""
        self.planted[ledger] += n
        return [
            id_number(
                county,
                dt.date(
                    1960 + self.rng.randrange(40), 1 + self.rng.randrange(12), 1 + self.rng.randrange(28)
                ),
                900 + self.rng.randrange(99),
            )
            for _ in range(n)
        ]

    def claims(self, ledger: str, pairing: Pairing, n: int) -> list[str]:
        """``n`` ID numbers for a person column: registry people, with a planted share of bad ones."""
        bad = sum(1 for _ in range(n) if self.rng.random() < BAD_CLAIM_SHARE)
        good = self.people(pairing, n - bad)
        out = good + self.bad_ids(ledger, n - len(good))
        self.rng.shuffle(out)
        return out

    def date_in_year(self, *, start_month: int = 1, end_month: int = 12) -> dt.date:
        month = self.rng.randint(start_month, end_month)
        return dt.date(self.year, month, self.rng.randint(1, 28))

    def count(self, base: float) -> int:
        """A count around ``base`` × scale (at least 1)."""
        return max(1, round(base * self.scale * self.rng.uniform(0.7, 1.3)))


def area_generators() -> Iterator[tuple[str, Any]]:
    for app in AREA_APPS:
        try:
            module = importlib.import_module(f"xiezuo.{app}.synth")
        except ModuleNotFoundError as exc:
            if exc.name != f"xiezuo.{app}.synth":
                raise
            continue
        yield app, module.generate


def generate_all(ctx: SynthContext) -> dict[str, list[dict[str, Any]]]:
    """Rows of every ledger, area by area, in a fixed order (same seed, same rows)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for _app, generate in area_generators():
        for key, rows in generate(ctx).items():
            out.setdefault(key, []).extend(rows)
    return out


def build_ledgers(
    *, pairings: list[Pairing], year: int, seed: int = 2019, scale: float = 1.0
) -> dict[str, int]:
    """Generate and save every ledger's rows for ``pairings`` and ``year``; idempotent (natural keys)."""
    from xiezuo.core.scope import SYSTEM
    from xiezuo.ledgers.services import RecordInvalid, import_rows

    ctx = SynthContext(rng=random.Random(seed), year=year, pairings=pairings, scale=scale)
    counts: dict[str, int] = {}
    for key, rows in generate_all(ctx).items():
        ltype = types.get(key)
        seen: dict[str, int] = {}
        for start in range(0, len(rows), 500):
            batch = list(enumerate(rows[start : start + 500], start=start + 1))
            done = import_rows(ltype, batch, actor=SYSTEM, via="demo", seen=seen, parsed=False)
            failed = [(n, r.errors) for (n, _v), r in zip(batch, done, strict=True) if not r.ok]
            if failed:
                raise RecordInvalid(
                    [e for _n, errors in failed[:1] for e in errors] or [("", "越权", "out of scope")]
                )
        counts[key] = len(rows)
    return counts


def write_files(rows: dict[str, list[dict[str, Any]]], out: Path) -> list[Path]:
    """Each ledger's rows as an import-ready xlsx (Chinese headers, labels for codes, 元 for money)."""
    from xiezuo.core.tabular.spec import format_value
    from xiezuo.ledgers.exporting import write_rows

    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for key, values in rows.items():
        ltype = types.get(key)
        cells = []
        for v in values:
            row = {}
            for c in ltype.columns:
                value = v.get(c.key)
                if c.key == "pairing" and isinstance(value, Pairing):
                    value = value.pk
                row[c.key] = value if c.kind == "raw" else format_value(c, value)
            cells.append(row)
        paths.append(write_rows(ltype, cells, out / f"{key}.xlsx"))
    return paths
