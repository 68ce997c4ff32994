"""Pairing rules (pure, table-driven) and the pairing service (validation, scope, audit)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tests.world import World
from xiezuo.core.models import AuditEntry
from xiezuo.core.scope import ScopeError
from xiezuo.pairings.models import Pairing, PairingSide
from xiezuo.pairings.rules import Candidate, Member, validate
from xiezuo.pairings.services import save_pairing
from xiezuo.synth.foundation import region

TJ, HB, CD, CDX, DL, GZ = (
    Member(120000000000, 1),
    Member(130000000000, 1),
    Member(130800000000, 2),
    Member(130821000000, 3),
    Member(120110000000, 3),
    Member(520000000000, 1),
)
PARENT = Candidate("east_west_2016", "province-prefecture", 2016, 2020, frozenset({TJ}), frozenset({CD}))


def cand(helper: set[Member], helped: set[Member], start: int = 2017, end: int | None = 2020) -> Candidate:
    return Candidate("hand_in_hand", "county-county", start, end, frozenset(helper), frozenset(helped))


@pytest.mark.parametrize(
    ("candidate", "parent", "others", "errors"),
    [
        (cand({DL}, {CDX}), PARENT, [], []),
        (cand({DL}, {DL}), None, [], ["A side cannot help itself: the helper and helped sides overlap."]),
        (cand({HB}, {CDX}), None, [], ["A side cannot help itself: the helper and helped sides overlap."]),
        (cand(set(), {CDX}), None, [], ["The helper side needs at least one region or organisation."]),
        (cand({DL}, {CDX}, 2019, 2018), None, [], ["The end year is before the start year."]),
        (cand({DL}, {GZ}), PARENT, [], ["The helped side must lie inside the parent pairing's helped side."]),
        (
            cand({DL}, {CDX}, 2015, 2020),
            PARENT,
            [],
            ["The years must lie inside the parent pairing's years."],
        ),
        (
            cand({DL}, {CDX}, 2017, None),
            PARENT,
            [],
            ["The years must lie inside the parent pairing's years."],
        ),
        (
            cand({DL}, {CDX}),
            None,
            [cand({DL}, {CDX}, 2020, 2022)],
            ["The same pairing already exists for overlapping years."],
        ),
        (cand({DL}, {CDX}, 2021, None), None, [cand({DL}, {CDX}, 2017, 2020)], []),
    ],
)
def test_rules(
    candidate: Candidate, parent: Candidate | None, others: list[Candidate], errors: list[str]
) -> None:
    assert validate(candidate, parent=parent, others=others) == errors


def test_coordinator_creates_a_county_pair_in_scope_and_it_is_audited(world: World) -> None:
    user = world.user("chengde")
    p = save_pairing(
        actor=user,
        programme="携手奔小康",
        level="县对县",
        start_year=2018,
        end_year=2020,
        helper=[region("120112")],
        helped=[region("130825")],
        parent=world.provincial,
    )
    assert (p.programme, p.level, p.name) == ("hand_in_hand", "county-county", "津南区 → 隆化县")
    entry = AuditEntry.objects.get(object_type="pairing", object_id=str(p.pk))
    assert (entry.action, entry.actor_name, entry.changes["start_year"]) == (
        "create",
        "chengde",
        [None, 2018],
    )


def test_write_that_leaves_the_writers_scope_is_refused_and_changes_nothing(world: World) -> None:
    user = world.user("chengde")  # helped coordinator of 承德市
    pair = world.pairing("120110", "130821")
    before = sorted(pair.sides.values_list("side", "region_code"))
    audits = AuditEntry.objects.count()
    with pytest.raises(ScopeError):
        # Moving both sides out of 承德 (and out of this user's scope) must be refused.
        save_pairing(
            actor=user,
            programme="hand_in_hand",
            level="county-county",
            start_year=2017,
            end_year=2020,
            helper=[region("120110")],
            helped=[region("130728")],
            parent=None,
            pairing=pair,
        )
    pair.refresh_from_db()
    assert sorted(pair.sides.values_list("side", "region_code")) == before
    assert AuditEntry.objects.count() == audits


def test_invalid_pairing_is_rejected_with_the_rule(world: World) -> None:
    count = Pairing.objects.count()
    with pytest.raises(ValidationError) as err:
        save_pairing(
            actor=world.user("national"),
            programme="hand_in_hand",
            level="county-county",
            start_year=2017,
            end_year=2020,
            helper=[region("120110")],
            helped=[region("130821")],
            parent=world.provincial,
        )
    assert err.value.messages == ["相同的结对关系在重叠的年度内已经存在。"]  # shown in zh-Hans
    assert Pairing.objects.count() == count


def test_the_2016_list_merges_two_helpers_of_one_helped_region(world: World) -> None:
    zhaotong = Pairing.objects.get(sides__region_code=region("5306").code)
    helpers = sorted(zhaotong.sides.filter(side=PairingSide.HELPER).values_list("region__name", flat=True))
    assert helpers == ["东莞市", "中山市"]
    minning = Pairing.objects.get(sides__region_code=region("64").code)
    assert (minning.start_year, minning.end_year) == (1996, 2020)
