"""Engagement ledgers (组织领导, issue #4): agreement targets, leaders' visits and meetings.

All three are entered by the helper side (DESIGN.md §1: the eastern coordinator records visits);
the helped side sees them through the pairing. Codes are code-list codes (D6): ``target_item``
(ledgers.yaml), ``leader_level``, ``exchange_direction`` and ``meeting_kind`` (engagement.yaml).
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from xiezuo.ledgers.models import LedgerRecord

MONEY_ITEMS = frozenset({"fiscal_funds", "social_funds", "investment", "purchases"})
"""Target items measured in money (fen); every other item of ``target_item`` is a count."""
PERCENT_ITEMS = frozenset({"exit_rate"})
"""Count items that are a rate in per cent (0–100), e.g. the exit rate the assessment's W20 asks."""


class AgreementTarget(LedgerRecord):
    """One yearly target of a pairing's cooperation agreement (协议目标任务), one row per item.

    ``target_fen`` holds money items (财政援助资金, 社会帮扶资金, 企业实际投资, 消费帮扶: see
    :data:`MONEY_ITEMS`), ``target_count`` every other item (people, enterprises, visits …);
    exactly one of them is set. The agreement itself is named by its signing date and document
    number (协议文号), repeated on each of its items.
    """

    target_item = models.CharField(max_length=32)
    target_fen = models.BigIntegerField(null=True, blank=True)
    target_count = models.BigIntegerField(null=True, blank=True)
    agreement_title = models.CharField(max_length=200, blank=True)
    document_number = models.CharField(max_length=100, blank=True)
    signed_on = models.DateField()

    class Meta(LedgerRecord.Meta):
        verbose_name = "agreement target"
        constraints = [
            *LedgerRecord.Meta.constraints,
            models.CheckConstraint(
                condition=Q(target_fen__isnull=True) | Q(target_fen__gte=0),
                name="%(app_label)s_%(class)s_fen_nonneg",
            ),
            models.CheckConstraint(
                condition=Q(target_count__isnull=True) | Q(target_count__gte=0),
                name="%(app_label)s_%(class)s_count_nonneg",
            ),
            models.CheckConstraint(
                condition=(Q(target_fen__isnull=False) & Q(target_count__isnull=True))
                | (Q(target_fen__isnull=True) & Q(target_count__isnull=False)),
                name="%(app_label)s_%(class)s_one_value",
            ),
        ]
        indexes = [*LedgerRecord.Meta.indexes]

    def __str__(self) -> str:
        return f"{self.year} {self.target_item}"

    @property
    def value(self) -> int:
        """The target in its unit: fen for money items, a count otherwise."""
        value = self.target_fen if self.target_item in MONEY_ITEMS else self.target_count
        return int(value or 0)


class LeaderVisit(LedgerRecord):
    """A leaders' visit (领导互访, 调研对接): the visiting leader's level, from where to where, when,
    what for and how many people went. ``direction`` says whether the helper side visited the
    helped side (东部到西部) or the other way round; ``from_region`` and ``to_region`` are 12-digit codes.
    """

    leader_level = models.CharField(max_length=32)
    leader = models.CharField(max_length=100, blank=True)  # 带队领导 (name and post, public officials)
    direction = models.CharField(max_length=16)
    from_region = models.BigIntegerField()
    to_region = models.BigIntegerField()
    visited_on = models.DateField()
    returned_on = models.DateField(null=True, blank=True)
    purpose = models.CharField(max_length=500, blank=True)
    delegation_size = models.IntegerField(null=True, blank=True)

    class Meta(LedgerRecord.Meta):
        verbose_name = "leaders' visit"
        constraints = [
            *LedgerRecord.Meta.constraints,
            models.CheckConstraint(
                condition=Q(returned_on__isnull=True) | Q(returned_on__gte=F("visited_on")),
                name="%(app_label)s_%(class)s_dates_ordered",
            ),
            models.CheckConstraint(
                condition=Q(delegation_size__isnull=True) | Q(delegation_size__gte=1),
                name="%(app_label)s_%(class)s_delegation_positive",
            ),
            models.CheckConstraint(
                condition=~Q(from_region=F("to_region")), name="%(app_label)s_%(class)s_regions_differ"
            ),
        ]
        indexes = [*LedgerRecord.Meta.indexes]

    def __str__(self) -> str:
        return f"{self.visited_on} {self.leader_level}"


class Meeting(LedgerRecord):
    """A meeting on the cooperation: a joint meeting of both sides (联席会议), a leadership meeting
    that studied it (党委常委会, 政府常务会), a progress or liaison meeting. ``chair_level`` is the
    level of the leader who chaired it; ``minutes_number`` the document number of the minutes (纪要文号).
    """

    kind = models.CharField(max_length=32)
    held_on = models.DateField()
    place = models.CharField(max_length=200, blank=True)
    chair_level = models.CharField(max_length=32, blank=True)
    minutes_number = models.CharField(max_length=100, blank=True)
    summary = models.TextField(blank=True)
    attendance = models.IntegerField(null=True, blank=True)

    class Meta(LedgerRecord.Meta):
        verbose_name = "meeting"
        constraints = [
            *LedgerRecord.Meta.constraints,
            models.CheckConstraint(
                condition=Q(attendance__isnull=True) | Q(attendance__gte=1),
                name="%(app_label)s_%(class)s_attendance_positive",
            ),
        ]
        indexes = [*LedgerRecord.Meta.indexes]

    def __str__(self) -> str:
        return f"{self.held_on} {self.kind}"
