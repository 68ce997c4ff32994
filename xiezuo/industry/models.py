"""Industrial cooperation (产业合作) ledgers: enterprise investments, co-built parks, assistance
workshops and the registered poor people they employ or pay dividends to (issue #4).

Each record is one thing for one year (归属年度) of its lowest pairing (D8): an enterprise's
investment in the year, a park's or a workshop's figures for the year, a person's employment or
dividend in the year. Money is fen (D4); places are 12-digit region codes (D5); the people are
PersonCheck rows, never fields (D3).
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from xiezuo.ledgers.models import LedgerRecord
from xiezuo.pairings.models import Organisation


class Investment(LedgerRecord):
    """An enterprise's investment in the helped area (引导企业投资), entered by the helper side.

    ``agreed_fen`` is the amount of the investment agreement (协议投资额), ``invested_fen`` the
    amount actually invested in the record's year (当年实际到位投资), ``landed_on`` the date the
    enterprise landed (落地), ``location_code`` where (a helped-side region). The helped side
    confirms that the enterprise landed and the money arrived.
    """

    enterprise = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    project = models.CharField(max_length=200, blank=True)
    sector = models.CharField(max_length=8)  # code list industry_sector (GB/T 4754 门类)
    agreed_fen = models.BigIntegerField(null=True, blank=True)
    invested_fen = models.BigIntegerField()
    landed_on = models.DateField(null=True, blank=True)
    location_code = models.BigIntegerField()

    class Meta(LedgerRecord.Meta):
        verbose_name = "引导企业投资"
        constraints = [
            *LedgerRecord.Meta.constraints,
            models.CheckConstraint(
                condition=Q(agreed_fen__isnull=True) | Q(agreed_fen__gte=0),
                name="%(app_label)s_%(class)s_agreed_nonneg",
            ),
            models.CheckConstraint(
                condition=Q(invested_fen__gte=0), name="%(app_label)s_%(class)s_invested_nonneg"
            ),
        ]
        indexes = [*LedgerRecord.Meta.indexes]

    def __str__(self) -> str:
        return f"{self.year} {self.enterprise_id} {self.project}".strip()


class Park(LedgerRecord):
    """A co-built industrial park (共建产业园区) and its figures for the year, entered by the helped side.

    ``area_mu`` is the planned area in 亩, ``enterprises_settled`` the enterprises settled in the
    park (入驻企业) at the end of the year, ``invested_fen`` the investment completed in the year.
    """

    name = models.CharField(max_length=200)
    location_code = models.BigIntegerField()
    area_mu = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    enterprises_settled = models.PositiveIntegerField(null=True, blank=True)
    invested_fen = models.BigIntegerField(null=True, blank=True)
    established_on = models.DateField(null=True, blank=True)

    class Meta(LedgerRecord.Meta):
        verbose_name = "共建产业园区"
        constraints = [
            *LedgerRecord.Meta.constraints,
            models.CheckConstraint(
                condition=Q(invested_fen__isnull=True) | Q(invested_fen__gte=0),
                name="%(app_label)s_%(class)s_invested_nonneg",
            ),
            models.CheckConstraint(
                condition=Q(area_mu__isnull=True) | Q(area_mu__gt=0), name="%(app_label)s_%(class)s_area_pos"
            ),
        ]
        indexes = [*LedgerRecord.Meta.indexes]

    def __str__(self) -> str:
        return self.name


class Workshop(LedgerRecord):
    """An assistance workshop (帮扶车间/扶贫车间) operating in the year, entered by the helped side.

    ``village_code`` is the village (or township) it stands in, ``operator`` the enterprise or
    cooperative running it, ``jobs`` its capacity in jobs (吸纳就业岗位), ``opened_on`` the day it
    opened and ``closed_on`` the day it stopped, if it has.
    """

    name = models.CharField(max_length=200)
    village_code = models.BigIntegerField()
    operator = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    jobs = models.PositiveIntegerField()
    opened_on = models.DateField()
    closed_on = models.DateField(null=True, blank=True)

    class Meta(LedgerRecord.Meta):
        verbose_name = "帮扶车间"
        constraints = [
            *LedgerRecord.Meta.constraints,
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=F("opened_on")),
                name="%(app_label)s_%(class)s_dates_ordered",
            ),
        ]
        indexes = [*LedgerRecord.Meta.indexes]

    def __str__(self) -> str:
        return self.name


class Beneficiary(LedgerRecord):
    """A registered poor person employed by, or paid a dividend from, an enterprise, park or
    workshop in the year (带贫对象), entered by the helped side.

    The person is the PersonCheck of column ``id_number`` (checked against the registry on
    ``started_on``: the start of employment, or the dividend's payment date). ``benefit`` says
    employed or dividend, ``entity_kind`` and ``entity_name`` which enterprise or workshop,
    ``amount_fen`` the monthly wage or the dividend paid.
    """

    benefit = models.CharField(max_length=12)  # code list industry_benefit
    entity_kind = models.CharField(max_length=16, blank=True)  # code list industry_entity
    entity_name = models.CharField(max_length=200)
    started_on = models.DateField()
    amount_fen = models.BigIntegerField()

    class Meta(LedgerRecord.Meta):
        verbose_name = "产业带贫对象"
        constraints = [
            *LedgerRecord.Meta.constraints,
            models.CheckConstraint(
                condition=Q(amount_fen__gte=0), name="%(app_label)s_%(class)s_amount_nonneg"
            ),
        ]
        indexes = [*LedgerRecord.Meta.indexes]

    def __str__(self) -> str:
        return f"{self.year} {self.benefit} {self.entity_name}"
