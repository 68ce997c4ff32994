"""Registry people for ledger tests: a few synthetic members with known histories (issue #4).

``registry_people`` writes them straight into the registry tables of the test world (inside the
test's transaction, so they vanish after it) and returns their clear ID numbers by kind:

- ``poor``: five members of 承德县 (130821) households poor from 2014-01-01 (no end);
- ``exited``: two members of a 承德县 household poor 2014–2017, exited from 2018-01-01;
- ``dead``: a member of a poor 承德县 household who died on 2018-06-30;
- ``outside``: a member of a poor household of 平泉市 (130881), outside the 东丽区 → 承德县 pair;
- ``monitored``: a member of an exited 承德县 household monitored from 2021-03-01;
- ``unknown``: two valid ID numbers of nobody in the registry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest

from xiezuo.core.crypto import get_cipher, mask_id, mask_name
from xiezuo.regions.models import Region
from xiezuo.registry.models import Dataset, Household, HouseholdStatus, Member, Monitoring
from xiezuo.synth.ledgers import id_number


@dataclass
class People:
    poor: list[str] = field(default_factory=list)
    exited: list[str] = field(default_factory=list)
    dead: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    monitored: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    dataset: Dataset | None = None


def _village(county: str) -> int:
    low = int(county) * 10**6
    code = (
        Region.objects.filter(level=5, code__gte=low, code__lt=low + 10**6)
        .order_by("code")
        .values_list("code", flat=True)
        .first()
    )
    assert code is not None, f"no village under {county} in the test world"
    return int(code)


def make_people() -> People:
    cipher = get_cipher()
    ds = Dataset.objects.create(
        data_year=2021,
        as_of=dt.date(2021, 12, 31),
        region_code=130821000000,
        file_name="test",
        file_sha256="0" * 64,
    )
    out = People(dataset=ds)
    serial = iter(range(100, 999))

    def household(number: str, county: str, statuses: list[tuple[str, dt.date, dt.date | None]]) -> Household:
        h = Household.objects.create(
            number=number,
            region_code=_village(county),
            attribute="general",
            main_cause="illness",
            registered_year=2014,
            status=statuses[-1][0],
            size=0,
            first_dataset=ds,
            last_dataset=ds,
            exit_year=statuses[-1][1].year if statuses[-1][0] == "exited" else None,
        )
        for status, start, end in statuses:
            HouseholdStatus.objects.create(household=h, status=status, start=start, end=end, dataset=ds)
        return h

    def member(h: Household, county: str, born: dt.date, **extra: Any) -> str:
        number = id_number(county, born, next(serial))
        Member.objects.create(
            household=h,
            id_hmac=cipher.hmac(number),
            id_cipher=cipher.encrypt(number),
            id_masked=mask_id(number),
            name_cipher=cipher.encrypt("测试人"),
            name_hmac=cipher.hmac("测试人"),
            name_masked=mask_name("测试人"),
            birth_date=born,
            sex="1" if int(number[16]) % 2 else "2",
            relation="self",
            region_code=h.region_code,
            last_dataset=ds,
            **extra,
        )
        h.size += 1
        h.save(update_fields=["size"])
        return number

    poor = [("poor", dt.date(2014, 1, 1), None)]
    for i in range(5):
        h = household(f"T-POOR-{i}", "130821", poor)
        out.poor.append(member(h, "130821", dt.date(1975 + i, 3, 1 + i)))
    h = household(
        "T-EXIT",
        "130821",
        [("poor", dt.date(2014, 1, 1), dt.date(2018, 1, 1)), ("exited", dt.date(2018, 1, 1), None)],
    )
    out.exited += [member(h, "130821", dt.date(1980, 5, 5)), member(h, "130821", dt.date(1982, 6, 6))]
    h = household("T-DEAD", "130821", poor)
    out.dead.append(
        member(h, "130821", dt.date(1940, 1, 1), left_on=dt.date(2018, 6, 30), leave_reason="death")
    )
    h = household("T-OUT", "130881", poor)
    out.outside.append(member(h, "130881", dt.date(1978, 8, 8)))
    h = household(
        "T-MON",
        "130821",
        [("poor", dt.date(2014, 1, 1), dt.date(2019, 1, 1)), ("exited", dt.date(2019, 1, 1), None)],
    )
    Monitoring.objects.create(household=h, kind="unstable", identified_on=dt.date(2021, 3, 1))
    out.monitored.append(member(h, "130821", dt.date(1985, 9, 9)))
    out.unknown = [
        id_number("130821", dt.date(1990, 1, 2), 991),
        id_number("130821", dt.date(1991, 2, 3), 992),
    ]
    return out


@pytest.fixture
def registry_people(db: Any) -> People:
    return make_people()
