"""Assessment runs and their results (DESIGN.md §2 "Assessment", issue 18).

A :class:`Run` is one year assessed under exact framework versions on one frozen snapshot (its
content hash); :class:`Score` is one pairing side's total, grade and rank, :class:`IndicatorResult`
one indicator's value, target and points there, :class:`Finding` a refusal, a missing target or
value, or a stale entry-time check, with the records concerned. Pairings are kept as ids, not
foreign keys: a run stays as computed whatever later happens to the pairing.
The per-record evidence (records counted and refused, with reasons) is a Parquet file of the run
(``Run.evidence_path``), not rows here: a national year holds millions of such lines.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Run(models.Model):
    """One assessment run: year, frameworks (code and version), snapshot hash, scope, status."""

    DRAFT, COMPUTED, REVIEWED, PUBLISHED = "draft", "computed", "reviewed", "published"

    year = models.PositiveSmallIntegerField()
    frameworks = models.JSONField(default=list)  # [[code, version], ...]
    snapshot = models.CharField(max_length=64)  # sha256 of the snapshot's manifest
    scope_code = models.BigIntegerField(null=True, blank=True)  # 12-digit region, null = everything
    status = models.CharField(max_length=12, default=DRAFT)
    evidence_path = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.year} #{self.pk}"


class Score(models.Model):
    """A pairing side's result in a run: area subtotals, total, grade and rank (within side and level)."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="scores")
    framework = models.CharField(max_length=40)
    pairing_id = models.BigIntegerField()
    side = models.CharField(max_length=8)
    level = models.CharField(max_length=32)
    areas = models.JSONField(default=dict)  # area code → points (as text, exact)
    total = models.DecimalField(max_digits=7, decimal_places=2)
    grade = models.CharField(max_length=8)
    rank = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "framework", "pairing_id", "side"], name="assessment_score_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.run_id}:{self.pairing_id}:{self.side}={self.total}"


class IndicatorResult(models.Model):
    """One indicator of a pairing side in a run: value, target (null: none) and points."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="indicators")
    framework = models.CharField(max_length=40, default="")
    pairing_id = models.BigIntegerField()
    side = models.CharField(max_length=8)
    indicator = models.CharField(max_length=16)
    value = models.FloatField(null=True)
    target = models.FloatField(null=True)
    points = models.DecimalField(max_digits=7, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "pairing_id", "side", "indicator"], name="assessment_indicator_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.run_id}:{self.pairing_id}:{self.indicator}"


class Finding(models.Model):
    """Something an assessor must look at: refused records, a missing target or value, a stale check.

    ``reason``: not_registered, outside_area, not_poor_on_date,
    too_short, counted_already, stale_check, missing_target, bad_target, no_value. ``records``
    are the ledger record ids concerned (of the indicator's ledger).
    """

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="findings")
    indicator = models.CharField(max_length=16)
    pairing_id = models.BigIntegerField()
    side = models.CharField(max_length=8)
    reason = models.CharField(max_length=24)
    severity = models.CharField(max_length=8)  # error / warning / info
    records = models.JSONField(default=list)

    class Meta:
        indexes = [models.Index(fields=["run", "pairing_id"], name="assessment_finding_pairing")]

    def __str__(self) -> str:
        return f"{self.run_id}:{self.indicator}:{self.pairing_id}:{self.reason}"
