"""What every cooperation ledger record shares, and the shared tables of the ledgers (DESIGN.md §2, D8).

Each area app (engagement, talent, funds, projects, industry, labour, consumption) subclasses
:class:`LedgerRecord` for its record kinds and registers a :class:`xiezuo.ledgers.types.LedgerType`
for each. The tables here are shared by all of them and keyed by the ledger's key:

- ``PersonCheck``: a person named on a record (keyed hash, masked ID, nullable link to the
  registry member) and the result of checking them against the registry on the date that counts;
- ``Period``: a reporting period of one ledger, pairing and side, moving through the approval
  steps of its flow (``flows.yaml``) and locked once approved; ``PeriodAction`` is its history;
- ``Attachment``: stamped scans, receipts (到账凭证), minutes and notices, of a record or a period.

All keys are integers or short codes, money is fen (D4), places are 12-digit codes (D5), so every
table snapshots to Parquet as is.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from xiezuo.core.fields import ByteOrderCharField
from xiezuo.pairings.models import Pairing


class LedgerRecord(models.Model):
    """Abstract base of every ledger record.

    ``pairing`` is the lowest pairing the record concerns (D8); ``year`` the year it counts for
    (归属年度); ``region_code`` the place it concerns on the side that reports it (scope, D2);
    ``side`` the side that entered it. ``key`` is the hash of the ledger's natural key, so an
    import of the same rows finds the same records (idempotent), and a form cannot enter a
    duplicate. ``confirmation`` is the other side's confirmation where the ledger asks for one.
    """

    NONE, PENDING, CONFIRMED, DISPUTED = "none", "pending", "confirmed", "disputed"

    pairing = models.ForeignKey(Pairing, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    period_no = models.PositiveSmallIntegerField(default=0)  # 0 = the whole year; quarter or month
    region_code = models.BigIntegerField(db_index=True)
    side = models.CharField(max_length=8)  # helper / helped
    key = models.CharField(max_length=64)
    confirmation = models.CharField(max_length=12, default=NONE)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirm_note = models.CharField(max_length=500, blank=True)
    flagged = models.BooleanField(default=False)  # a person on it failed the registry check
    source = models.CharField(max_length=8, default="form")  # form / import / api / demo
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["-year", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["key"], name="%(app_label)s_%(class)s_key"),
            models.CheckConstraint(
                condition=models.Q(side__in=["helper", "helped"]), name="%(app_label)s_%(class)s_side"
            ),
            models.CheckConstraint(
                condition=models.Q(year__gte=1996) & models.Q(year__lte=2100),
                name="%(app_label)s_%(class)s_year",
            ),
        ]
        # Index names are limited to 30 characters, too few for "%(app_label)s_%(class)s_…":
        # the pairing foreign key and region_code carry their own indexes instead.
        indexes = []

    def derive(self) -> None:
        """Set the fields that follow from others (e.g. a placement's destination). ``save`` of a
        kind that has such fields calls it; the batch write (ledgers/writes.py), which does not go
        through ``save``, calls it for every record it writes."""


class PersonCheck(models.Model):
    """A person named on a ledger record and the registry check of them (issue #4).

    The person is the keyed hash of the ID number (D3) with a masked form and a nullable link to
    the registry member; ``ok`` and ``reason`` are the result on ``on_date`` (the date the ledger
    says counts), against ``dataset`` (the registry dataset that held the member, else the latest).
    A failing check is kept and flags the record, never dropped.
    """

    ledger = models.CharField(max_length=32)
    record_id = models.BigIntegerField()
    field = models.CharField(max_length=32)  # the column of the record that named the person
    id_hmac = ByteOrderCharField(max_length=64)
    id_masked = models.CharField(max_length=18)
    member = models.ForeignKey(
        "registry.Member", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    household = models.ForeignKey(
        "registry.Household", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verify = models.BooleanField(default=True)  # False: cadres, professionals — kept, not checked
    ok = models.BooleanField(null=True)  # None when not checked
    reason = models.CharField(max_length=24, blank=True)  # code list verify_reason
    on_date = models.DateField(null=True, blank=True)
    dataset = models.ForeignKey(
        "registry.Dataset", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["ledger", "record_id", "field", "id_hmac"], name="person_check_once"
            )
        ]
        indexes = [
            models.Index(fields=["ledger", "record_id"], name="person_check_record"),
            models.Index(fields=["id_hmac"], name="person_check_hmac"),
        ]

    def __str__(self) -> str:
        return f"{self.ledger}#{self.record_id}:{self.id_masked}"


class Period(models.Model):
    """A reporting period of one ledger for one pairing and side, and where it is in its approval flow.

    ``step`` counts the approval steps done (0 = open for entry). When it reaches the flow's
    number of steps the period is approved and locked: forms and imports refuse its rows with
    "该期间已审核锁定" until the approving role grants an unlock asked for by a lower level.
    """

    OPEN, SUBMITTED, APPROVED = "open", "submitted", "approved"

    ledger = models.CharField(max_length=32)
    pairing = models.ForeignKey(Pairing, on_delete=models.PROTECT, related_name="+")
    side = models.CharField(max_length=8)
    year = models.PositiveSmallIntegerField()
    period_no = models.PositiveSmallIntegerField(default=0)
    state = models.CharField(max_length=12, default=OPEN)
    step = models.PositiveSmallIntegerField(default=0)
    locked = models.BooleanField(default=False)
    unlock_requested = models.BooleanField(default=False)
    unlock_reason = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["ledger", "pairing", "side", "year", "period_no"], name="period_once"
            )
        ]
        ordering = ["-year", "ledger", "pairing_id"]

    def __str__(self) -> str:
        return f"{self.ledger}:{self.pairing_id}:{self.side}:{self.year}/{self.period_no}"


class PeriodAction(models.Model):
    """One step taken on a period: submit, approve, return, request or grant an unlock."""

    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="actions")
    action = models.CharField(max_length=16)
    step = models.PositiveSmallIntegerField()
    role = models.CharField(max_length=32)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.period_id}:{self.action}"


class Attachment(models.Model):
    """A file evidencing a record or a period: 盖章扫描件, 到账凭证, 会议纪要, 公示 …"""

    ledger = models.CharField(max_length=32)
    record_id = models.BigIntegerField(null=True, blank=True)
    period = models.ForeignKey(
        Period, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    kind = models.CharField(max_length=24)  # code list attachment_kind
    title = models.CharField(max_length=200)
    file = models.FileField(upload_to="ledgers/%Y/")
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["ledger", "record_id"], name="attachment_record")]

    def __str__(self) -> str:
        return self.title
