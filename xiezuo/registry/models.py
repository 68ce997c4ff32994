"""The registry of registered poor households and people (建档立卡), as a dated dataset.

Hot tables stay narrow (DESIGN.md §5): ``Member`` holds keys, village, birth date and sex; wide
detail lives in side tables. ID numbers and names are never stored in clear (D3): ``id_hmac`` is
the keyed hash (join and dedup key), ``*_cipher`` fields are AES-GCM ciphertexts with a key id.
Every table carries integer keys and 12-digit region codes only, so it snapshots to Parquet as is.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from xiezuo.core.fields import ByteOrderCharField


class Dataset(models.Model):
    """One import of registry data: its data year and as-of date (数据截止日期), file and counts."""

    data_year = models.PositiveSmallIntegerField()
    as_of = models.DateField()
    # The region the dataset covers (usually a county), as a 12-digit code and level.
    region_code = models.BigIntegerField(null=True, blank=True, db_index=True)
    file_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64, db_index=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    counts = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-as_of", "-id"]

    def __str__(self) -> str:
        return f"{self.data_year} @ {self.as_of} ({self.file_name})"


class Household(models.Model):
    """A registered poor household (贫困户), identified by its 户编号, living in a village.

    ``status``, ``monitored`` and ``size`` are the current values, kept with the row for list
    filters; their history is in ``HouseholdStatus`` and ``Monitoring``.
    """

    number = ByteOrderCharField(max_length=40)  # 户编号, unique through Meta.constraints (no LIKE index)
    region_code = models.BigIntegerField()  # village (or lowest known level), 12 digits; see Meta.indexes
    attribute = models.CharField(max_length=8, blank=True)  # code list household_attribute
    main_cause = models.CharField(max_length=8, blank=True)  # code list poverty_cause
    other_causes = models.JSONField(default=list, blank=True)
    standard = models.CharField(max_length=16, blank=True)  # code list identification_standard
    registered_year = models.PositiveSmallIntegerField(null=True, blank=True)  # 识别年度
    planned_exit_year = models.PositiveSmallIntegerField(null=True, blank=True)
    exit_year = models.PositiveSmallIntegerField(null=True, blank=True, db_index=True)  # 脱贫年度
    status = models.CharField(max_length=16)  # code list poverty_status
    monitored = models.BooleanField(default=False, db_index=True)
    pathway = models.CharField(max_length=16, blank=True)  # 五个一批, code list pathway
    size = models.PositiveSmallIntegerField(default=0)
    income_per_capita_fen = models.BigIntegerField(null=True, blank=True)  # latest 人均纯收入
    first_dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="+")
    last_dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="+")

    class Meta:
        # No index repeats the head of another (region_code: the keyset index; status: status and
        # region) and code columns have no LIKE indexes: each one costs every load and change.
        indexes = [
            models.Index(fields=["region_code", "id"], name="household_region_keyset"),
            models.Index(fields=["status", "region_code"], name="household_status_region"),
            models.Index(fields=["main_cause"], name="household_main_cause"),
        ]
        constraints = [models.UniqueConstraint(fields=["number"], name="registry_household_number_key")]

    def __str__(self) -> str:
        return self.number


class Member(models.Model):
    """A person of a household. Narrow: keys, village, birth date, sex, relation, entry and exit."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="members")
    # Unique through Meta.constraints, not ``unique=True``: on PostgreSQL that would add a second,
    # pattern-ops index for LIKE that no query of a keyed hash uses (and every load would build).
    id_hmac = ByteOrderCharField(max_length=64)
    id_cipher = models.TextField()
    id_masked = models.CharField(max_length=18)  # 513431**********3X
    name_cipher = models.TextField()
    name_hmac = ByteOrderCharField(max_length=64)  # keyed hash: compare names without decrypting
    name_masked = models.CharField(max_length=40)  # 张**
    birth_date = models.DateField()
    sex = models.CharField(max_length=1)  # 1 male, 2 female (GB/T 2261.1)
    relation = models.CharField(max_length=8, blank=True)  # code list relation (与户主关系)
    region_code = models.BigIntegerField(db_index=True)  # the household's village, for range queries
    entered_on = models.DateField(null=True, blank=True)
    entry_reason = models.CharField(max_length=16, blank=True)  # code list member_entry
    left_on = models.DateField(null=True, blank=True)
    leave_reason = models.CharField(max_length=16, blank=True)  # code list member_exit
    # No index: nothing looks members up by dataset but the check when a dataset is deleted (never
    # in use; a scan then), and at 10 M people it cost 11 s of every initial load.
    last_dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="+", db_index=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["id_hmac"], name="registry_member_id_hmac_key")]

    def __str__(self) -> str:
        return self.id_masked


class MemberDetail(models.Model):
    """Wide, sensitive detail of a member (health and disability are personal data: D3)."""

    member = models.OneToOneField(Member, on_delete=models.CASCADE, primary_key=True, related_name="detail")
    ethnicity = models.CharField(max_length=8, blank=True)
    education = models.CharField(max_length=8, blank=True)
    school_status = models.CharField(max_length=8, blank=True)
    health_cipher = models.TextField(blank=True)  # 健康状况, encrypted
    labour_skill = models.CharField(max_length=8, blank=True)
    work_region_code = models.BigIntegerField(null=True, blank=True)
    work_months = models.PositiveSmallIntegerField(null=True, blank=True)
    phone_cipher = models.TextField(blank=True)
    insured_medical = models.BooleanField(null=True)
    insured_pension = models.BooleanField(null=True)
    minimum_allowance = models.BooleanField(null=True)  # 低保

    def __str__(self) -> str:
        return str(self.member_id)


class HouseholdStatus(models.Model):
    """An interval of a household's poverty status: 贫困 → 预脱贫 → 已脱贫, 返贫, with the reason."""

    # Found through the (household, start) index: no index of its own.
    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, related_name="statuses", db_index=False
    )
    status = models.CharField(max_length=16)
    start = models.DateField()
    end = models.DateField(null=True, blank=True)  # exclusive; null = current
    reason = models.CharField(max_length=200, blank=True)
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["household", "start"]
        indexes = [models.Index(fields=["household", "start"])]

    def __str__(self) -> str:
        return f"{self.household_id}:{self.status}@{self.start}"


class HouseholdIncome(models.Model):
    """Income of a year by component (fen), production costs and the derived net income per person."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="incomes")
    year = models.PositiveSmallIntegerField()
    wages_fen = models.BigIntegerField(null=True, blank=True)
    business_fen = models.BigIntegerField(null=True, blank=True)
    property_fen = models.BigIntegerField(null=True, blank=True)
    dividends_fen = models.BigIntegerField(null=True, blank=True)
    transfers_fen = models.BigIntegerField(null=True, blank=True)
    costs_fen = models.BigIntegerField(null=True, blank=True)
    net_per_capita_fen = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["household", "year"], name="income_once_a_year")]

    def __str__(self) -> str:
        return f"{self.household_id}:{self.year}"


class Monitoring(models.Model):
    """Dynamic monitoring against return to poverty (防返贫动态监测) of a household."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="monitorings")
    kind = models.CharField(max_length=16)  # code list monitoring_type
    identified_on = models.DateField()
    risks = models.JSONField(default=list, blank=True)
    removed_on = models.DateField(null=True, blank=True)
    removal = models.CharField(max_length=16, blank=True)  # 帮扶消除 by_help / 自然消除 natural

    def __str__(self) -> str:
        return f"{self.household_id}:{self.kind}@{self.identified_on}"


class HelpMeasure(models.Model):
    """A help measure of a monitored household (产业, 就业, 健康 …) with its dates."""

    monitoring = models.ForeignKey(Monitoring, on_delete=models.CASCADE, related_name="measures")
    channel = models.CharField(max_length=32)  # code list help_channel
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.monitoring_id}:{self.channel}"


class StagedRow(models.Model):
    """A row of a registry import before it is merged (D9: stage, check across rows, merge).

    Personal cells are kept only as keyed hashes and ciphertexts; the original row (for the
    error report) is encrypted. Rows of one import share ``import_key``; a re-run of a killed
    import starts its staging afresh, and the merge is idempotent, so it ends as a clean run does.
    """

    import_key = models.CharField(max_length=64)
    seq = models.PositiveIntegerField()
    source = models.CharField(max_length=255)
    row_number = models.PositiveIntegerField()
    household_number = ByteOrderCharField(max_length=40, blank=True)
    id_hmac = ByteOrderCharField(max_length=64, blank=True)
    region_code = models.BigIntegerField(null=True, blank=True)
    payload = models.JSONField(default=dict)
    raw_cipher = models.TextField()
    errors = models.JSONField(default=list)  # [[column header, message zh, message en], ...]

    class Meta:
        constraints = [models.UniqueConstraint(fields=["import_key", "seq"], name="staged_row_once")]
        indexes = [
            models.Index(fields=["import_key", "household_number"], name="staged_household"),
            models.Index(fields=["import_key", "id_hmac"], name="staged_hmac"),
        ]

    def __str__(self) -> str:
        return f"{self.import_key[:8]}#{self.seq}"


class HouseholdCount(models.Model):
    """How many households a county has by status, main cause and monitoring (a maintained
    aggregate): the list's counts sum these rows over a range of county codes instead of counting
    millions of households. Kept by the import's merge, in the transaction that writes the
    households (the import is the only writer of households)."""

    county = models.IntegerField()  # region_code // 10**6 (6 digits)
    status = models.CharField(max_length=16)
    main_cause = models.CharField(max_length=8, blank=True)
    monitored = models.BooleanField()
    n = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["county", "status", "main_cause", "monitored"], name="household_count_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.county}:{self.status}:{self.main_cause}:{self.monitored}={self.n}"


# Households written one at a time through the ORM (admin, fixtures, tests) keep ``HouseholdCount``
# right through these receivers; the import keeps it with set-based SQL in its merge.

_COUNT_FIELDS = ("region_code", "status", "main_cause", "monitored")


def _count_key(values: tuple[Any, ...]) -> dict[str, Any]:
    region_code, status, main_cause, monitored = values
    return {
        "county": region_code // 10**6,
        "status": status,
        "main_cause": main_cause,
        "monitored": monitored,
    }


def _count_add(values: tuple[Any, ...], delta: int) -> None:
    key = _count_key(values)
    updated = HouseholdCount.objects.filter(**key).update(n=models.F("n") + delta)
    if not updated:
        HouseholdCount.objects.create(**key, n=delta)
    HouseholdCount.objects.filter(**key, n=0).delete()


@receiver(pre_save, sender=Household)
def _household_before_save(sender: Any, instance: Household, raw: bool = False, **kwargs: Any) -> None:
    old = None
    if instance.pk is not None:
        old = Household.objects.filter(pk=instance.pk).values_list(*_COUNT_FIELDS).first()
    instance._counted_before = old  # type: ignore[attr-defined]


@receiver(post_save, sender=Household)
def _household_saved(sender: Any, instance: Household, **kwargs: Any) -> None:
    old = getattr(instance, "_counted_before", None)
    new = tuple(getattr(instance, f) for f in _COUNT_FIELDS)
    if old == new:
        return
    if old is not None:
        _count_add(old, -1)
    _count_add(new, 1)


@receiver(post_delete, sender=Household)
def _household_deleted(sender: Any, instance: Household, **kwargs: Any) -> None:
    _count_add(tuple(getattr(instance, f) for f in _COUNT_FIELDS), -1)
