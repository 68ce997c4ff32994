"""一户一档: the help a household's members received, from every ledger that names people.

A ledger record names a person by ID number; the registry check of that person is a
``PersonCheck`` row linked to the member and household it matched. The household page reads those
links once (one query), then each ledger kind's records once (one query per kind present, through
``records_for``, the ledgers' scope choke point).

Records the user may not see are left out entirely, neither shown nor counted (DESIGN.md D2: no
count reveals a fact about a record out of scope).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from xiezuo.ledgers import types
from xiezuo.ledgers.models import PersonCheck
from xiezuo.ledgers.services import records_for
from xiezuo.registry.models import Household, Member


@dataclass(frozen=True)
class HelpRow:
    """One record that names a member: its ledger, id, year, the date that counts and the check."""

    ledger: str
    ledger_zh: str
    ledger_en: str
    record_id: int
    year: int
    member_id: int | None
    on_date: dt.date | None
    ok: bool | None
    reason: str


def help_received(user: Any, household: Household) -> list[HelpRow]:
    """Every visible ledger record that names a member of ``household``, by ledger order, year
    (newest first) and record; a person named twice on one record gives one row."""
    # Two indexed conditions (no join), so PostgreSQL can OR two index scans.
    members = Member.objects.filter(household_id=household.pk).values("pk")
    checks = (
        PersonCheck.objects.filter(Q(household_id=household.pk) | Q(member_id__in=members))
        .order_by("ledger", "record_id", "member_id")
        .values_list("ledger", "record_id", "member_id", "on_date", "ok", "reason")
    )
    by_ledger: dict[str, dict[int, tuple[Any, ...]]] = defaultdict(dict)
    for ledger, record_id, member_id, on_date, ok, reason in checks:
        by_ledger[ledger].setdefault(record_id, (member_id, on_date, ok, reason))
    rows: list[HelpRow] = []
    for ltype in types.all_types():
        named = by_ledger.get(ltype.key)
        if not named:
            continue
        visible = records_for(user, ltype).filter(pk__in=list(named)).values_list("pk", "year")
        for pk, year in visible:
            member_id, on_date, ok, reason = named[pk]
            rows.append(
                HelpRow(
                    ledger=ltype.key,
                    ledger_zh=ltype.zh,
                    ledger_en=ltype.en,
                    record_id=pk,
                    year=year,
                    member_id=member_id,
                    on_date=on_date,
                    ok=ok,
                    reason=reason,
                )
            )
    order = {t.key: i for i, t in enumerate(types.all_types())}
    rows.sort(key=lambda r: (order[r.ledger], -r.year, r.record_id))
    return rows
