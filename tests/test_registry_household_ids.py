"""Household ids given while reading a direct first load (xiezuo.registry.importing.HouseholdIds)."""

from __future__ import annotations

import numpy as np
import polars as pl

from xiezuo.registry.importing import HouseholdIds

BATCHES = [
    ["H1", "H1", "H2", "H3", "H3", "H3"],
    ["H3", "H4", "H2", "H5", "H5"],  # H3 and H2 again, H4 and H5 new
    ["H6", "H1", "H6", "H7"],
]
EXPECTED = [[10, 10, 11, 12, 12, 12], [12, 13, 11, 14, 14], [15, 10, 15, 16]]


class OneHash(HouseholdIds):
    """Every number has the same hash: every lookup has to compare the numbers themselves."""

    @staticmethod
    def hash(numbers: pl.Series) -> np.ndarray:
        return np.zeros(len(numbers), dtype=np.uint64)


class TwoHashes(HouseholdIds):
    @staticmethod
    def hash(numbers: pl.Series) -> np.ndarray:
        return (numbers.str.len_bytes().to_numpy() % 2).astype(np.uint64)


def test_ids_follow_first_sight_across_batches() -> None:
    ids = HouseholdIds(10)
    assert [ids.ids(pl.Series(b)).to_list() for b in BATCHES] == EXPECTED
    assert len(ids) == 7


def test_numbers_sharing_a_hash_still_get_their_own_ids() -> None:
    for kind in (OneHash, TwoHashes):
        ids = kind(10)
        assert [ids.ids(pl.Series(b)).to_list() for b in BATCHES] == EXPECTED, kind.__name__
    two = TwoHashes(1)
    got = two.ids(pl.Series(["A", "BB", "C", "DD", "C", "A", "EEE"])).to_list()
    assert got == [1, 2, 3, 4, 3, 1, 5]
    assert two.ids(pl.Series(["DD", "EEE", "F", "BB"])).to_list() == [4, 5, 6, 2]


def test_many_batches_match_a_plain_dictionary() -> None:
    rng = np.random.default_rng(7)
    ids = HouseholdIds(1)
    plain: dict[str, int] = {}
    for _ in range(20):
        numbers = [f"1308211000{n:06d}" for n in rng.integers(0, 5000, 700)]
        for n in numbers:
            plain.setdefault(n, len(plain) + 1)
        assert ids.ids(pl.Series(numbers)).to_list() == [plain[n] for n in numbers]
    assert len(ids) == len(plain)


def test_a_direct_loads_other_rows_are_staged_without_the_household_values() -> None:
    """narrow_stage_rows: the rows of a household that agree with its candidate point to it and
    carry no household values; the candidate, a row that differs, a rejected row and a household's
    only row keep theirs."""
    from xiezuo.registry.importing import DIRECT_STAGE_NAMES, HOUSEHOLD_VALUES, narrow_stage_rows

    names = [c for c in DIRECT_STAGE_NAMES if c != "id_hmac"]
    rows = pl.DataFrame(
        {
            "seq": [10, 11, 12, 13, 14, 15, 16],
            "household_id": [6, 7, 7, 7, None, 8, 7],
            "head": [True, None, True, None, None, True, None],
            "ok": [True, True, True, True, False, True, True],
            "income": [100, 100, 100, 100, 100, 50, 101],  # the last row differs from its candidate
        }
    )
    frame = rows.with_columns(
        *[pl.lit("x").alias(c) for c in names if c not in rows.columns and c in HOUSEHOLD_VALUES],
        *[pl.lit(None).alias(c) for c in names if c not in rows.columns and c not in HOUSEHOLD_VALUES],
    )
    staged = narrow_stage_rows(frame, names)
    assert staged.columns == names
    assert staged["cand"].to_list() == [None, 12, None, 12, None, None, None]
    assert staged["income"].to_list() == [100, None, 100, None, 100, 50, 101]
    assert staged["household_number"].to_list() == ["x", None, "x", None, "x", "x", "x"]
    assert staged["household_id"].to_list() == [6, 7, 7, 7, None, 8, 7]
