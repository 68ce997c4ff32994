"""Projects ledgers (帮扶项目, issue #4; DESIGN.md §2).

- :class:`Project` — an assistance project identified by its project number (项目编号) within its
  pairing, with type, place (the record's ``region_code``: where it is built), budget and fund
  sources, the stages with a date each, public notices and benefit mechanism (利益联结).
- :class:`Beneficiary` — a household member benefiting from a project (受益户), named by ID
  number and checked against the registry on the project's start date. The ID number itself is
  never stored here (D3): it lives in ``ledgers.PersonCheck``.
"""

from __future__ import annotations

import itertools

from django.db import models
from django.db.models import F, Q

from xiezuo.ledgers.models import LedgerRecord
from xiezuo.projects.rules import STAGE_DATES


def _stage_order() -> list[models.CheckConstraint]:
    """Each stage date on or after the previous stage's (when both are given; the form and import
    checks compare every given pair, skipping blanks)."""
    return [
        models.CheckConstraint(
            condition=Q(**{f"{later}__gte": F(earlier)}), name=f"%(app_label)s_%(class)s_{later}_order"
        )
        for earlier, later in itertools.pairwise(STAGE_DATES)
    ]


class Project(LedgerRecord):
    """An assistance project (帮扶项目), entered by the helped side.

    ``project_type``, ``stage`` and ``benefit_mechanism`` hold codes of the lists project_type,
    project_stage and benefit_mechanism. Money: ``budget_fen`` (项目总投资), of which
    ``east_west_fen`` (东西部协作资金) and ``other_fen`` (other sources). Stage dates from
    ``banked_on`` (入库) to ``handed_over_on`` (资产确权移交); ``plan_notice_on`` (计划公示) and
    ``completion_notice_on`` (完成公示). ``benefit_households`` is the number of registered poor
    households the project says it benefits; the verified ones are its beneficiaries ledger.
    """

    project_number = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    project_type = models.CharField(max_length=24)
    stage = models.CharField(max_length=16)
    budget_fen = models.BigIntegerField()
    east_west_fen = models.BigIntegerField()
    other_fen = models.BigIntegerField(null=True, blank=True)
    banked_on = models.DateField(null=True, blank=True)
    approved_on = models.DateField(null=True, blank=True)
    started_on = models.DateField(null=True, blank=True)
    completed_on = models.DateField(null=True, blank=True)
    accepted_on = models.DateField(null=True, blank=True)
    reimbursed_on = models.DateField(null=True, blank=True)
    handed_over_on = models.DateField(null=True, blank=True)
    plan_notice_on = models.DateField(null=True, blank=True)
    completion_notice_on = models.DateField(null=True, blank=True)
    benefit_mechanism = models.CharField(max_length=24, blank=True)
    benefit_households = models.PositiveIntegerField(null=True, blank=True)

    class Meta(LedgerRecord.Meta):
        verbose_name = "帮扶项目"
        constraints = [
            *LedgerRecord.Meta.constraints,
            models.CheckConstraint(
                condition=Q(budget_fen__gte=0), name="%(app_label)s_%(class)s_budget_nonneg"
            ),
            models.CheckConstraint(
                condition=Q(east_west_fen__gte=0) & Q(east_west_fen__lte=F("budget_fen")),
                name="%(app_label)s_%(class)s_east_west_in_budget",
            ),
            models.CheckConstraint(
                condition=Q(other_fen__isnull=True)
                | (Q(other_fen__gte=0) & Q(other_fen__lte=F("budget_fen") - F("east_west_fen"))),
                name="%(app_label)s_%(class)s_other_in_budget",
            ),
            *_stage_order(),
            models.CheckConstraint(
                condition=Q(completion_notice_on__gte=F("completed_on")),
                name="%(app_label)s_%(class)s_notice_after_completion",
            ),
        ]
        indexes = [
            *LedgerRecord.Meta.indexes,
            models.Index(fields=["project_number"], name="%(app_label)s_%(class)s_number"),
        ]

    def __str__(self) -> str:
        return f"{self.project_number} {self.name}"


class Beneficiary(LedgerRecord):
    """A beneficiary of a project (项目受益对象), entered by the helped side.

    ``project_number`` names a :class:`Project` of the same pairing; ``started_on`` is that
    project's start date (开工日期), the date on which the person must have been registered poor.
    ``benefit_fen`` is what the household received from it in the year (dividends, wages, rent …),
    where known.
    """

    project_number = models.CharField(max_length=100)
    started_on = models.DateField(null=True, blank=True)
    benefit_fen = models.BigIntegerField(null=True, blank=True)

    class Meta(LedgerRecord.Meta):
        verbose_name = "项目受益对象"
        constraints = [
            *LedgerRecord.Meta.constraints,
            models.CheckConstraint(
                condition=Q(benefit_fen__isnull=True) | Q(benefit_fen__gte=0),
                name="%(app_label)s_%(class)s_benefit_nonneg",
            ),
        ]
        indexes = [
            *LedgerRecord.Meta.indexes,
            models.Index(fields=["project_number"], name="%(app_label)s_%(class)s_number"),
        ]

    def __str__(self) -> str:
        return self.project_number
