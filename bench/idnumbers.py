"""Vectorised ID number validation against python-stdnum, row by row, on the same synthetic IDs.

    .venv/bin/python bench/idnumbers.py [--rows 1000000] [--seed 20261122]

Generates valid 18-character ID numbers (real address codes from stdnum's list that carry no
years of use, birth dates 1930-2015, random sequence, correct check character) and corrupts about
2 % of them (one digit changed, two digits swapped, or the check character replaced), then times
``xiezuo.registry.idnumbers.validate_ids`` on the whole column and ``stdnum.cn.ric.is_valid`` per
row, and counts where the two agree.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from xiezuo.registry.idnumbers import CHECK_CHARS, WEIGHTS, stdnum_address_codes, validate_ids

CORRUPT_SHARE = 0.02


def unrestricted_codes() -> np.ndarray:
    """County-level codes stdnum accepts for any birth year (no ``[start-end]`` on the name)."""
    from stdnum import numdb

    codes = []
    for _l, low, _h, _p, children in numdb.get("cn/loc").prefixes:
        for _cl, clow, _ch, props, _s in children:
            if not props.get("county", "[").startswith("[") and not clow.endswith("00"):
                codes.append(int(low) * 10_000 + int(clow))
    assert set(codes) <= stdnum_address_codes()
    return np.array(sorted(codes), dtype=np.int64)


def synthetic_ids(rows: int, seed: int) -> tuple[list[str], np.ndarray]:
    """``rows`` ID numbers and a mask of the ones deliberately corrupted."""
    rng = np.random.default_rng(seed)
    codes = unrestricted_codes()
    address = rng.choice(codes, rows)
    start = np.datetime64("1930-01-01")
    birth = start + rng.integers(0, (np.datetime64("2015-12-31") - start).astype(int), rows)
    ymd = np.char.replace(np.datetime_as_string(birth, unit="D"), "-", "")
    seq = rng.integers(0, 1000, rows)
    body = np.char.add(np.char.add(address.astype("U6"), ymd), np.char.zfill(seq.astype("U3"), 3))
    m = np.frombuffer(body.astype("S17").tobytes(), dtype=np.uint8).reshape(rows, 17).copy()
    check = np.frombuffer(CHECK_CHARS.encode(), dtype=np.uint8)[((m - 48) @ np.array(WEIGHTS)) % 11]
    full = np.concatenate([m, check[:, None]], axis=1)

    bad = rng.random(rows) < CORRUPT_SHARE
    idx = np.flatnonzero(bad)
    kind = rng.integers(0, 3, idx.size)
    pos = rng.integers(0, 17, idx.size)
    # one digit changed
    one = idx[kind == 0]
    p1 = pos[kind == 0]
    full[one, p1] = 48 + (full[one, p1] - 48 + rng.integers(1, 10, one.size)) % 10
    # two neighbouring digits swapped (may leave the number unchanged when they are equal)
    two = idx[kind == 1]
    p2 = np.minimum(pos[kind == 1], 15)
    a, b = full[two, p2].copy(), full[two, p2 + 1].copy()
    full[two, p2], full[two, p2 + 1] = b, a
    # check character replaced
    three = idx[kind == 2]
    options = np.frombuffer(b"0123456789X", dtype=np.uint8)
    new = options[rng.integers(0, 11, three.size)]
    full[three, 17] = new
    ids = full.tobytes().decode("ascii")
    return [ids[i * 18 : (i + 1) * 18] for i in range(rows)], bad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args()
    from stdnum.cn import ric

    t0 = time.perf_counter()
    ids, corrupted = synthetic_ids(args.rows, args.seed)
    t_gen = time.perf_counter() - t0
    print(
        f"python {platform.python_version()}, nproc {os.cpu_count()}, {dt.date.today()}, rows {args.rows:,}"
    )
    print(f"generated in {t_gen:.2f} s; corrupted {int(corrupted.sum()):,}")

    validate_ids(ids[:1000], as_of=dt.date(2026, 1, 1))  # load stdnum's code list outside the timing
    t0 = time.perf_counter()
    ours = validate_ids(ids, as_of=dt.date(2026, 1, 1))
    t_ours = time.perf_counter() - t0
    ours_ok = ours["ok"].to_numpy()
    print(
        f"xiezuo validate_ids: {t_ours:.2f} s, {args.rows / t_ours:,.0f} rows/s, valid {int(ours_ok.sum()):,}"
    )

    t0 = time.perf_counter()
    theirs_ok = np.fromiter((ric.is_valid(x) for x in ids), dtype=bool, count=args.rows)
    t_theirs = time.perf_counter() - t0
    rate = args.rows / t_theirs
    print(f"stdnum is_valid per row: {t_theirs:.2f} s, {rate:,.0f} rows/s, valid {int(theirs_ok.sum()):,}")

    agree = ours_ok == theirs_ok
    print(f"agree {int(agree.sum()):,} of {args.rows:,}; disagree {int((~agree).sum()):,}")
    both_valid, both_invalid = int((ours_ok & theirs_ok).sum()), int((~ours_ok & ~theirs_ok).sum())
    print(f"  both valid {both_valid:,}, both invalid {both_invalid:,}")
    lucky = int((corrupted & ours_ok).sum())
    print(f"  corrupted but still valid (swap of equal digits, check character unchanged): {lucky:,}")
    print(f"  speed-up {t_theirs / t_ours:.0f}x")
    errors = ours["error"].value_counts(sort=True)
    for code, count in errors.rows():
        print(f"  {code or 'ok'}: {count:,}")


if __name__ == "__main__":
    main()
