"""The labour ledgers (劳务协作): placements of registered poor labourers, and job postings.

``placements`` are entered by the helped county's labour office (人社部门). The labourer is checked
against the registry on the placement's start (脱贫不脱政策: an exited household still counts). Where
the job is (``destination``) is derived on save from the workplace and the pairing's sides. The
helper side confirms the placements in its own region: the framework marks every record of a ledger
with ``confirm_side`` pending, and :meth:`xiezuo.labour.models.Placement.save` clears that for
placements whose workplace is not with the helper (they need no confirmation).

``postings`` are entered by the helper side's labour bureau for the employers it recruits for; a
helped county's labour staff match them with registered labourers on
``/labour/postings/<id>/match/``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xiezuo.labour import places, rules
from xiezuo.labour.columns import PLACEMENTS, POSTINGS
from xiezuo.labour.models import JobPosting, Placement
from xiezuo.ledgers.types import HELPED, HELPER, LedgerType, Metric, PersonField, register
from xiezuo.pairings.models import Pairing


def check_placement(values: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    pairing = values.get("pairing")
    if isinstance(pairing, Pairing):
        partner, helped = places.partner_ranges(pairing), places.helped_ranges(pairing)
    else:
        partner, helped = (), ()
    return rules.placement_errors(values, partner=partner, helped=helped)


def check_posting(values: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    return rules.posting_errors(values)


PLACEMENT_TYPE = register(
    LedgerType(
        key="placements",
        model=Placement,
        spec=PLACEMENTS,
        area="labour",
        zh="转移就业",
        en="job placements",
        side=HELPED,
        natural_key=("pairing", "id_number", "start"),
        people=(PersonField("id_number", verify=True, date_column="start"),),
        orgs={"employer": "enterprise"},
        org_regions={"employer": "workplace_region"},
        regions=("workplace_region",),
        check=check_placement,
        confirm_side=HELPER,
        date_column="start",
        metrics=(
            Metric(
                "placed",
                "帮助建档立卡贫困人口就业",
                "registered poor people placed in jobs",
                kind="people",
                unit="人",
                target="placements",
            ),
            Metric(
                "placed_with_partner",
                "其中转移到帮扶方就业",
                "of whom placed with the helper side",
                kind="people",
                unit="人",
                where={"destination": rules.TO_PARTNER},
            ),
        ),
        list_columns=(
            "id_number",
            "employer",
            "workplace_region",
            "start",
            "end",
            "monthly_wage_fen",
            "arrangement",
        ),
        filters=("arrangement",),
        order=10,
    )
)

POSTING_TYPE = register(
    LedgerType(
        key="postings",
        model=JobPosting,
        spec=POSTINGS,
        area="labour",
        zh="岗位信息",
        en="job postings",
        side=HELPER,
        natural_key=("pairing", "year", "employer", "title", "valid_from"),
        orgs={"employer": "enterprise"},
        org_regions={"employer": "workplace_region"},
        regions=("workplace_region",),
        check=check_posting,
        date_column="valid_from",
        metrics=(
            Metric(
                "positions",
                "提供就业岗位",
                "positions offered",
                kind="sum",
                field="positions",
                unit="个",
            ),
        ),
        list_columns=(
            "employer",
            "title",
            "workplace_region",
            "positions",
            "wage_min_fen",
            "wage_max_fen",
            "valid_from",
        ),
        order=20,
    )
)
