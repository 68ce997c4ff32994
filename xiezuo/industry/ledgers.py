"""The industrial cooperation (产业合作) ledger types (issue #4; FRAMEWORK.md E13–E16, W13–W16).

- ``investments``: enterprises the helper side guided to invest (引导企业到受帮扶地区投资), one
  record per enterprise, pairing and year, with the amount actually invested in the year. Entered
  by the helper side; the helped side confirms that the enterprise landed and the money arrived
  (D2: arrivals are confirmed by the receiving side). The figures count while confirmation is
  pending; a dispute shows on the record and the approval pages.
- ``parks``: co-built industrial parks (共建产业园区), entered by the helped side; a park may lie
  on either side (飞地园区 in the east exist).
- ``workshops``: assistance workshops (帮扶车间) operating in the year, entered by the helped side.
- ``industry_beneficiaries``: registered poor people employed by, or paid dividends from, the
  enterprises, parks and workshops, by ID number, checked against the registry on the start of
  employment or the dividend's payment date; entered by the helped side.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xiezuo.industry import rules
from xiezuo.industry.columns import BENEFICIARIES, INVESTMENTS, PARKS, WORKSHOPS
from xiezuo.industry.models import Beneficiary, Investment, Park, Workshop
from xiezuo.ledgers.types import HELPED, HELPER, LedgerType, Metric, PersonField, register
from xiezuo.pairings.models import Pairing

Error = tuple[str, str, str]


def _in_side(pairing: Pairing, side: str, code: int) -> bool:
    from xiezuo.ledgers.services import in_side

    return in_side(pairing, side, code)


def place_errors(
    values: Mapping[str, Any], key: str, *, sides: tuple[str, ...] = (HELPED,), what: str = "地点"
) -> list[Error]:
    """The place in column ``key`` must lie on one of the pairing's ``sides``."""
    pairing, code = values.get("pairing"), values.get(key)
    if not isinstance(pairing, Pairing) or not isinstance(code, int):
        return []
    if any(_in_side(pairing, side, code) for side in sides):
        return []
    where = "帮扶方或受帮扶地区" if len(sides) > 1 else "受帮扶地区"
    return [(key, f"{what}不在该结对关系的{where}范围内", f"{key} is outside the pairing's area")]


def check_investment(values: Mapping[str, Any]) -> list[Error]:
    return rules.investment_errors(values) + place_errors(values, "location_code", what="落地地点")


def check_park(values: Mapping[str, Any]) -> list[Error]:
    return rules.park_errors(values) + place_errors(
        values, "location_code", sides=(HELPED, HELPER), what="园区所在地"
    )


def check_workshop(values: Mapping[str, Any]) -> list[Error]:
    return rules.workshop_errors(values) + place_errors(values, "village_code", what="所在村")


INVESTMENTS_TYPE = register(
    LedgerType(
        key="investments",
        model=Investment,
        spec=INVESTMENTS,
        area="industry",
        zh="引导企业投资",
        en="enterprise investments",
        side=HELPER,
        natural_key=("pairing", "year", "enterprise"),
        orgs={"enterprise": "enterprise"},
        regions=("location_code",),
        check=check_investment,
        confirm_side=HELPED,
        date_column="landed_on",
        metrics=(
            Metric(
                "enterprises",
                "引导落地企业",
                "enterprises introduced",
                kind="count",
                unit="个",
                where={"invested_fen__gt": 0},
                target="enterprises",
            ),
            Metric(
                "investment",
                "企业实际投资",
                "actual investment",
                kind="sum",
                field="invested_fen",
                unit="money",
                target="investment",
            ),
            Metric("agreed", "协议投资额", "agreed investment", kind="sum", field="agreed_fen", unit="money"),
        ),
        list_columns=("enterprise", "sector", "invested_fen", "landed_on", "location_code"),
        filters=("sector",),
        order=10,
    )
)

PARKS_TYPE = register(
    LedgerType(
        key="parks",
        model=Park,
        spec=PARKS,
        area="industry",
        zh="共建产业园区",
        en="co-built parks",
        side=HELPED,
        natural_key=("pairing", "year", "name"),
        regions=("location_code",),
        check=check_park,
        date_column="established_on",
        metrics=(
            Metric("parks", "共建产业园区", "co-built parks", kind="count", unit="个"),
            Metric(
                "park_enterprises",
                "园区入驻企业",
                "enterprises settled in parks",
                kind="sum",
                field="enterprises_settled",
                unit="家",
            ),
            Metric(
                "park_investment",
                "园区当年完成投资",
                "investment in parks",
                kind="sum",
                field="invested_fen",
                unit="money",
            ),
        ),
        list_columns=("name", "location_code", "enterprises_settled", "invested_fen"),
        order=20,
    )
)

WORKSHOPS_TYPE = register(
    LedgerType(
        key="workshops",
        model=Workshop,
        spec=WORKSHOPS,
        area="industry",
        zh="帮扶车间",
        en="assistance workshops",
        side=HELPED,
        natural_key=("pairing", "year", "village_code", "name"),
        orgs={"operator": "enterprise"},
        regions=("village_code",),
        check=check_workshop,
        date_column="opened_on",
        metrics=(
            Metric(
                "workshops", "帮扶车间", "assistance workshops", kind="count", unit="个", target="workshops"
            ),
            Metric(
                "workshop_jobs", "帮扶车间就业岗位", "jobs in workshops", kind="sum", field="jobs", unit="个"
            ),
        ),
        list_columns=("name", "village_code", "operator", "jobs", "opened_on"),
        order=30,
    )
)

BENEFICIARIES_TYPE = register(
    LedgerType(
        key="industry_beneficiaries",
        model=Beneficiary,
        spec=BENEFICIARIES,
        area="industry",
        zh="产业带贫对象",
        en="people employed or paid dividends",
        side=HELPED,
        natural_key=("pairing", "year", "id_number", "benefit", "entity_name"),
        people=(PersonField("id_number", verify=True, date_column="started_on"),),
        check=rules.beneficiary_errors,
        date_column="started_on",
        metrics=(
            Metric(
                "people",
                "带动贫困人口就业或分红（核验通过）",
                "verified poor people employed or paid dividends",
                kind="people",
                unit="人",
                split="benefit",
            ),
            Metric(
                "workshop_people",
                "帮扶车间吸纳贫困人口就业（核验通过）",
                "verified poor people employed in workshops",
                kind="people",
                unit="人",
                where={"benefit": "employed", "entity_kind": "workshop"},
            ),
        ),
        list_columns=("benefit", "entity_kind", "entity_name", "started_on", "amount_fen"),
        filters=("benefit", "entity_kind"),
        order=40,
    )
)
