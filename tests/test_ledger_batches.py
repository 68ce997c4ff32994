"""Ledger writes in batches (issue 16 item 2, docs/adr/0015-ledger-writes-in-batches.md): the pure
row rules without a database, and an import batch whose number of queries does not grow with it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.ledgers_world import People
from tests.world import World
from xiezuo.core.models import AuditEntry
from xiezuo.labour.models import Placement
from xiezuo.ledgers import rules, services, types
from xiezuo.ledgers.models import PersonCheck
from xiezuo.ledgers.types import BOTH, HELPED, HELPER
from xiezuo.pairings.models import Pairing
from xiezuo.synth.ledgers import id_number

# --- pure rules (no database) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "token"),
    [
        ("130821", ("code", 130821000000)),
        (130821, ("code", 130821000000)),
        ("130821.0", ("code", 130821000000)),
        (" 13 ", ("code", 130000000000)),
        ("130821100200", ("code", 130821100200)),
        ("13082", ("bad", "13082")),
        ("承德县", ("name", "承德县")),
        ("", None),
        (None, None),
    ],
)
def test_how_a_region_cell_is_read(cell: Any, token: Any) -> None:
    assert rules.region_token(cell) == token


@pytest.mark.parametrize(
    ("cell", "token"),
    [
        ("12", ("id", 12)),
        (" 7 ", ("id", 7)),
        ("东丽区 → 承德县", ("name", "东丽区→承德县")),
        ("东丽区->承德县", ("name", "东丽区→承德县")),
        ("", None),
        (None, None),
    ],
)
def test_how_a_pairing_cell_is_read(cell: Any, token: Any) -> None:
    assert rules.pairing_token(cell) == token


class _Type:
    """Just what the side rules read of a ledger type."""

    def __init__(self, side: str) -> None:
        self.side = side
        self.key = "x"


SIDES = {HELPER: [(120110000000, 3)], HELPED: [(130821000000, 3)]}


@pytest.mark.parametrize(
    ("side", "may_change", "expected"),
    [
        (HELPER, lambda c: False, HELPER),
        (HELPED, lambda c: True, HELPED),
        (BOTH, lambda c: c == 130821000000, HELPED),
        (BOTH, lambda c: c == 120110000000, HELPER),
        (BOTH, lambda c: True, HELPER),
        (BOTH, lambda c: False, HELPER),
    ],
)
def test_the_side_a_record_without_a_place_goes_to(side: str, may_change: Any, expected: str) -> None:
    assert rules.default_side(_Type(side), SIDES, may_change) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("side", "code", "expected"),
    [
        (BOTH, 120110000000, HELPER),
        (BOTH, 120110001000, HELPER),
        (BOTH, 130821000000, HELPED),
        (HELPED, 120110000000, HELPED),
    ],
)
def test_the_side_of_a_placed_record(side: str, code: int, expected: str) -> None:
    helper = [(120110000000, 120111000000)]
    assert rules.side_of(_Type(side), code, helper) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("values", "date_column", "today", "expected"),
    [
        ({"start": dt.date(2019, 3, 1)}, "start", dt.date(2026, 1, 1), dt.date(2019, 3, 1)),
        ({"start": None}, "start", dt.date(2026, 1, 1), dt.date(2019, 12, 31)),
        ({}, None, dt.date(2019, 6, 1), dt.date(2019, 6, 1)),
    ],
)
def test_the_date_a_person_is_checked_on(
    values: dict[str, Any], date_column: str | None, today: dt.date, expected: dt.date
) -> None:
    assert rules.person_date(values, date_column, 2019, today) == expected


def test_the_natural_key_reads_people_by_hash_and_organisations_by_cleaned_name() -> None:
    ltype = types.get("placements")
    values = {"pairing": 5, "start": dt.date(2019, 3, 1), "employer": " 某  公司 "}
    keyed = rules.key_values(ltype, values, {}, {"id_number": "ab" * 32})
    assert keyed["employer"] == "某 公司" and keyed["id_number"] == "ab" * 32
    same = rules.natural_key(ltype, {**keyed, "employer": "other"})  # employer is not in the key
    assert rules.natural_key(ltype, keyed) == same
    assert rules.natural_key(ltype, {**keyed, "start": dt.date(2019, 3, 2)}) != same


@pytest.mark.parametrize(
    ("via", "source"),
    [
        ("web", "form"),
        ("form", "form"),
        ("api", "api"),
        ("cli", "import"),
        ("job", "import"),
        ("demo", "demo"),
    ],
)
def test_the_source_a_new_record_keeps(via: str, source: str) -> None:
    assert rules.source_for(via) == source


# --- batches against the database --------------------------------------------------------------


def rows(pair: Pairing, people: People, n: int, offset: int = 0) -> list[tuple[int, dict[str, Any]]]:
    """``n`` parsed placement rows: the registry's poor people first, then people it does not know
    (``offset`` moves the start, so rows of another offset are other placements)."""
    out = []
    for i in range(n):
        number = (
            people.poor[i]
            if i < len(people.poor)
            else id_number("130821", dt.date(1970, 1, 1) + dt.timedelta(days=offset + i), i)
        )
        out.append(
            (
                i + 2,
                {
                    "pairing": pair.pk,
                    "year": 2019,
                    "id_number": number,
                    "employer": "天津某制造有限公司",
                    "workplace_region": "120110",
                    "start": dt.date(2019, 3, 1) + dt.timedelta(days=offset // 100),
                    "arrangement": "organised",
                },
            )
        )
    return out


@pytest.mark.django_db
def test_an_import_batch_takes_the_same_number_of_queries_for_n_and_2n_rows(
    world: World, registry_people: People
) -> None:
    pair = world.pairing("120110", "130821")
    ltype = types.get("placements")
    clerk = world.user("chengdexian")
    # warm the caches that live for the process (code lists, address codes, flows) or the user
    # (their grants)
    services.import_rows(ltype, rows(pair, registry_people, 1, offset=9000), actor=clerk)

    counts = []
    for n, offset in ((20, 0), (40, 1000)):
        batch = rows(pair, registry_people, n, offset)
        with CaptureQueriesContext(connection) as queries:
            done = services.import_rows(ltype, batch, actor=clerk)
        assert [r.outcome for r in done] == ["created"] * n, [r.errors for r in done]
        counts.append([q["sql"][:60] for q in queries.captured_queries])
        assert (
            PersonCheck.objects.filter(ledger="placements", record_id__in=[r.obj.pk for r in done]).count()
            == n
        )
    assert len(counts[0]) == len(counts[1]), counts

    # the same rows again change nothing, with the same number of queries for either size
    again = []
    for n, offset in ((20, 0), (40, 1000)):
        with CaptureQueriesContext(connection) as queries:
            done = services.import_rows(ltype, rows(pair, registry_people, n, offset), actor=clerk)
        assert {r.outcome for r in done} == {"unchanged"}
        again.append(len(queries))
    assert again[0] == again[1]


@pytest.mark.django_db
def test_an_import_batch_counts_and_refuses_row_by_row(world: World, registry_people: People) -> None:
    pair = world.pairing("120110", "130821")
    ltype = types.get("placements")
    clerk = world.user("chengdexian")
    batch = rows(pair, registry_people, 6)
    batch.append((20, {**batch[0][1]}))  # repeats row 2
    batch.append((21, {**batch[1][1], "id_number": "130821198001011234"}))  # bad check character
    other = registry_people.unknown
    batch.append((22, {**batch[2][1], "id_number": other[0], "workplace_region": "99"}))
    # the helper side's place: placements are the helped side's
    batch.append((23, {**batch[3][1], "id_number": other[1], "region_code": "120110"}))
    seen: dict[str, int] = {}
    done = services.import_rows(ltype, batch, actor=clerk, seen=seen)
    assert [r.outcome for r in done] == ["created"] * 6 + [""] * 4
    assert done[6].errors == [("", "与第 2 行重复", "duplicates row 2")]
    assert [(k, en) for k, _zh, en in done[7].errors] == [("id_number", "invalid ID number (bad_checksum)")]
    assert done[8].errors == [("workplace_region", "「99」不是有效的行政区划代码或名称", "unknown region")]
    assert done[9].errors == [
        (
            "region_code",
            "行政区划不在该结对关系的受帮扶方范围内",
            "the region is not on the pairing's helped side",
        )
    ]
    assert len(seen) == 6
    # one audit entry for the batch, none per record; one registry-check entry with the count
    entry = AuditEntry.objects.get(action="import", object_type="placements")
    assert sorted(entry.batch["created"]) == sorted(r.obj.pk for r in done[:6])
    assert not AuditEntry.objects.filter(action="create", object_type="placements").exists()
    assert AuditEntry.objects.get(action="registry.check", object_type="ledger").batch == {"people": 6}
    assert Placement.objects.filter(flagged=True).count() == 1  # the one person the registry lacks


@pytest.mark.django_db
def test_a_refused_batch_row_out_of_scope_writes_nothing_for_it(
    world: World, registry_people: People
) -> None:
    pair = world.pairing("120110", "130821")
    ltype = types.get("placements")
    batch = rows(pair, registry_people, 2)
    done = services.import_rows(ltype, batch, actor=world.user("dongli"))  # the helper side
    assert [(r.refused, r.errors, r.outcome) for r in done] == [(True, [], "")] * 2
    assert Placement.objects.count() == 0
