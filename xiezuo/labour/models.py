"""Labour cooperation (劳务协作) ledgers: placements of registered poor labourers and job postings.

A placement (转移就业) is entered by the helped county's labour office; the labourer is named by ID
number on the form or sheet and kept only as a :class:`xiezuo.ledgers.models.PersonCheck` (D3),
checked against the registry on the placement's start. Where the job is (``destination``) is
derived from the workplace region, never typed (see :mod:`xiezuo.labour.rules`). A job posting
(岗位信息) is entered by the helper side's labour bureau from the employers it recruits for.
"""

from __future__ import annotations

from django.db import models

from xiezuo.labour import places, rules
from xiezuo.ledgers.models import LedgerRecord


class Placement(LedgerRecord):
    """A registered poor labourer placed in a job (转移就业): employer, workplace, dates and wage.

    ``destination`` (code list ``labour_destination``) is filled on every save from the workplace
    region and the pairing's sides, so the roll-up can count "placed with the helper side" with a
    plain filter. Only a placement whose workplace lies in the helper side waits for the helper's
    confirmation; the others need none (``confirmation`` stays ``none``).
    """

    employer = models.ForeignKey("pairings.Organisation", on_delete=models.PROTECT, related_name="+")
    workplace_region = models.BigIntegerField()  # 12-digit code of the place of work
    start = models.DateField()
    end = models.DateField(null=True, blank=True)  # null: still employed
    job = models.CharField(max_length=100, blank=True)  # 工种/岗位
    monthly_wage_fen = models.BigIntegerField(null=True, blank=True)
    arrangement = models.CharField(max_length=16)  # code list labour_arrangement
    destination = models.CharField(max_length=16, blank=True)  # code list labour_destination, derived

    class Meta(LedgerRecord.Meta):
        constraints = [
            *LedgerRecord.Meta.constraints,
            models.CheckConstraint(
                condition=models.Q(end__isnull=True) | models.Q(end__gte=models.F("start")),
                name="%(app_label)s_%(class)s_end_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(monthly_wage_fen__isnull=True) | models.Q(monthly_wage_fen__gte=0),
                name="%(app_label)s_%(class)s_wage_non_negative",
            ),
        ]
        indexes = [
            *LedgerRecord.Meta.indexes,
            models.Index(fields=["pairing", "year", "destination"], name="labour_placement_dest"),
        ]

    def __str__(self) -> str:
        return f"转移就业 #{self.pk}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.derive()
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def derive(self) -> None:
        # Where the job is follows from the workplace; the helper confirms only its own region's
        # placements (the framework marks every record of a confirming ledger pending).
        if self.pairing_id is not None and self.workplace_region:
            self.destination = rules.destination(
                self.workplace_region,
                home=self.region_code,
                partner=places.partner_ranges(self.pairing),
            )
            if self.destination != rules.TO_PARTNER and self.confirmation == LedgerRecord.PENDING:
                self.confirmation = LedgerRecord.NONE


class JobPosting(LedgerRecord):
    """A job posting (岗位信息) of an employer for the helped side's labourers.

    ``contact`` is the employer's office line, never a person's mobile number (the check refuses
    one). Wages are a monthly range in fen; either end may be open.
    """

    employer = models.ForeignKey("pairings.Organisation", on_delete=models.PROTECT, related_name="+")
    workplace_region = models.BigIntegerField()
    title = models.CharField(max_length=100)  # 岗位名称
    positions = models.PositiveIntegerField()  # 招聘人数
    wage_min_fen = models.BigIntegerField(null=True, blank=True)
    wage_max_fen = models.BigIntegerField(null=True, blank=True)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    skills = models.CharField(max_length=300, blank=True)  # 技能要求
    contact = models.CharField(max_length=40, blank=True)  # 单位办公电话

    class Meta(LedgerRecord.Meta):
        constraints = [
            *LedgerRecord.Meta.constraints,
            models.CheckConstraint(
                condition=models.Q(positions__gte=1), name="%(app_label)s_%(class)s_positions"
            ),
            models.CheckConstraint(
                condition=models.Q(wage_min_fen__isnull=True) | models.Q(wage_min_fen__gte=0),
                name="%(app_label)s_%(class)s_wage_min_non_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(wage_max_fen__isnull=True) | models.Q(wage_max_fen__gte=0),
                name="%(app_label)s_%(class)s_wage_max_non_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(wage_min_fen__isnull=True)
                | models.Q(wage_max_fen__isnull=True)
                | models.Q(wage_max_fen__gte=models.F("wage_min_fen")),
                name="%(app_label)s_%(class)s_wage_range",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=models.F("valid_from")),
                name="%(app_label)s_%(class)s_valid_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} #{self.pk}"
