"""Funds ledgers (资金支持 / 资金使用, issue #4; DESIGN.md §2, D4, D8).

Three record kinds:

- :class:`FiscalFund` — one transfer of fiscal aid (财政援助资金) from the helper side, with its amount
  at each stage: agreed (协议), allocated (拨付), arrived (到位, confirmed by the helped side's
  finance office with its receipt number, 到账凭证), spent (支出). One record per transfer keeps the
  roll-up "split by source level" a plain ``GROUP BY source_level``.
- :class:`FundAllocation` — a line of the allocation ledger: which transfer went to which project,
  or into the pooled agriculture funds (统筹整合涉农资金), where naming the project is optional.
- :class:`Donation` — a social donation (社会帮扶) of money or goods (valued) by a donor organisation.

Money is integer fen (D4). A stage amount is null until that stage is reached.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from xiezuo.ledgers.models import LedgerRecord
from xiezuo.pairings.models import Organisation


def _not_negative(*fields: str) -> list[models.CheckConstraint]:
    return [
        models.CheckConstraint(
            condition=Q(**{f"{f}__isnull": True}) | Q(**{f"{f}__gte": 0}),
            name=f"%(app_label)s_%(class)s_{f}_nonneg",
        )
        for f in fields
    ]


def _not_before(later: str, earlier: str, name: str) -> models.CheckConstraint:
    """``later`` is on or after ``earlier`` when both are given (SQL: a NULL comparison passes)."""
    return models.CheckConstraint(
        condition=Q(**{f"{later}__gte": F(earlier)}), name=f"%(app_label)s_%(class)s_{name}"
    )


class FiscalFund(LedgerRecord):
    """One transfer of fiscal aid (财政援助资金), entered by the helper side.

    ``transfer_number`` is the document or batch number of the transfer (资金文号), unique within
    a pairing and year. ``source_level`` is the budget level it comes from (code list
    source_level: province, prefecture, county). ``target_region_code`` is where it goes (12-digit
    code), kept for the share going to deep-poverty areas. The stages: ``agreed_fen`` (amount in
    the agreement or plan), ``allocated_fen``/``allocated_on`` (拨付), ``arrived_fen``/``arrived_on``
    (到位, with ``receipt_number`` of the helped side's 到账凭证; the scan is an Attachment),
    ``spent_fen``/``spent_on`` (支出, as of that date).

    Always true, so enforced in the database: amounts are not negative, the arrived amount is at
    most the allocated one, the spent amount at most the arrived one, and arrival is not before
    allocation nor spending before arrival.
    """

    transfer_number = models.CharField(max_length=100)
    title = models.CharField(max_length=200, blank=True)
    source_level = models.CharField(max_length=16)
    target_region_code = models.BigIntegerField()
    agreed_fen = models.BigIntegerField(null=True, blank=True)
    agreed_on = models.DateField(null=True, blank=True)
    allocated_fen = models.BigIntegerField(null=True, blank=True)
    allocated_on = models.DateField(null=True, blank=True)
    arrived_fen = models.BigIntegerField(null=True, blank=True)
    arrived_on = models.DateField(null=True, blank=True)
    receipt_number = models.CharField(max_length=100, blank=True)
    spent_fen = models.BigIntegerField(null=True, blank=True)
    spent_on = models.DateField(null=True, blank=True)

    class Meta(LedgerRecord.Meta):
        verbose_name = "财政援助资金"
        constraints = [
            *LedgerRecord.Meta.constraints,
            *_not_negative("agreed_fen", "allocated_fen", "arrived_fen", "spent_fen"),
            models.CheckConstraint(
                condition=Q(arrived_fen__lte=F("allocated_fen")),
                name="%(app_label)s_%(class)s_arrived_le_allocated",
            ),
            models.CheckConstraint(
                condition=Q(spent_fen__lte=F("arrived_fen")), name="%(app_label)s_%(class)s_spent_le_arrived"
            ),
            _not_before("arrived_on", "allocated_on", "arrived_after_allocated"),
            _not_before("spent_on", "arrived_on", "spent_after_arrived"),
        ]
        indexes = [
            *LedgerRecord.Meta.indexes,
            models.Index(fields=["target_region_code"], name="%(app_label)s_%(class)s_target"),
        ]

    def __str__(self) -> str:
        return f"{self.transfer_number} {self.title}".strip()


class FundAllocation(LedgerRecord):
    """A line of the allocation ledger (资金安排台账), entered by the helped side.

    ``transfer_number`` refers to a :class:`FiscalFund` of the same pairing by its 资金文号;
    ``project_number`` to a project (项目编号), optional when ``pooled`` (统筹整合涉农资金 with no
    project attributed). ``amount_fen`` is the amount of that transfer put to that use.
    """

    transfer_number = models.CharField(max_length=100)
    project_number = models.CharField(max_length=100, blank=True)
    amount_fen = models.BigIntegerField()
    pooled = models.BooleanField(default=False)
    allocated_on = models.DateField(null=True, blank=True)

    class Meta(LedgerRecord.Meta):
        verbose_name = "资金安排"
        constraints = [
            *LedgerRecord.Meta.constraints,
            models.CheckConstraint(
                condition=Q(amount_fen__gte=0), name="%(app_label)s_%(class)s_amount_nonneg"
            ),
            # A line that is not pooled names its project.
            models.CheckConstraint(
                condition=Q(pooled=True) | ~Q(project_number=""),
                name="%(app_label)s_%(class)s_project_or_pooled",
            ),
        ]
        indexes = [*LedgerRecord.Meta.indexes]

    def __str__(self) -> str:
        return f"{self.transfer_number} → {self.project_number or '统筹整合'}"


class Donation(LedgerRecord):
    """A social donation (社会捐助款物) of money or goods by a donor organisation.

    ``kind`` is a code of list donation_kind (money, goods); goods have a ``goods`` description
    and their value (折价) in ``value_fen``. ``target_region_code`` is where the donation goes.
    """

    donor = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8)
    goods = models.CharField(max_length=200, blank=True)
    value_fen = models.BigIntegerField()
    donated_on = models.DateField()
    target_region_code = models.BigIntegerField(null=True, blank=True)
    receipt_number = models.CharField(max_length=100, blank=True)

    class Meta(LedgerRecord.Meta):
        verbose_name = "社会捐赠"
        constraints = [
            *LedgerRecord.Meta.constraints,
            models.CheckConstraint(
                condition=Q(value_fen__gte=0), name="%(app_label)s_%(class)s_value_nonneg"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["money", "goods"]), name="%(app_label)s_%(class)s_kind"
            ),
        ]
        indexes = [*LedgerRecord.Meta.indexes]

    def __str__(self) -> str:
        return f"{self.kind} {self.value_fen}"
