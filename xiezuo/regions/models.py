"""The region tree of China (DESIGN.md D5) with its flags and the county code history."""

from __future__ import annotations

from django.db import models

# Width in the 12-digit code of each level: province 2, prefecture 4, county 6, township 9, village 12.
LEVEL_DIGITS = {1: 2, 2: 4, 3: 6, 4: 9, 5: 12}


def full_code(code: int | str) -> int:
    """Pad a 2/4/6/9/12-digit code to 12 digits.

    >>> full_code("52"), full_code(522732), full_code("522732100")
    (520000000000, 522732000000, 522732100000)
    """
    text = str(code).strip()
    if len(text) not in LEVEL_DIGITS.values() or not text.isdigit():
        raise ValueError(f"not a region code: {code!r}")
    return int(text.ljust(12, "0"))


def subtree_range(code: int, level: int) -> tuple[int, int]:
    """Half-open range of 12-digit codes under a region: one indexed range query.

    >>> subtree_range(520000000000, 1)
    (520000000000, 530000000000)
    >>> subtree_range(522732000000, 3)
    (522732000000, 522733000000)
    >>> subtree_range(522732100201, 5)
    (522732100201, 522732100202)
    """
    return code, code + 10 ** (12 - LEVEL_DIGITS[level])


def short_code(code: int, level: int) -> str:
    """The 2/4/6/9/12-digit form people write.

    >>> short_code(522732000000, 3)
    '522732'
    """
    return str(code)[: LEVEL_DIGITS[level]]


class Region(models.Model):
    """One node of the five-level tree (province, prefecture, county, township, village).

    ``code`` is the 12-digit statistical code as an integer; everything under a region is the
    range ``subtree_range(code, level)``. ``kind`` is admin, zone (statistical-only area such as
    a high-tech district) or pseudo (a grouping node such as 市辖区).
    """

    class Level(models.IntegerChoices):
        PROVINCE = 1, "province"
        PREFECTURE = 2, "prefecture"
        COUNTY = 3, "county"
        TOWNSHIP = 4, "township"
        VILLAGE = 5, "village"

    # Unique with the level: a prefecture without counties (东莞, 中山, 儋州) has a county node of the
    # same 12-digit code, and so has 金门县 a township node.
    code = models.BigIntegerField(db_index=True)
    level = models.PositiveSmallIntegerField(choices=Level.choices, db_index=True)
    name = models.CharField(max_length=100, db_index=True)
    kind = models.CharField(max_length=16, default="admin")  # code list region_kind
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    valid_from = models.PositiveSmallIntegerField(null=True, blank=True)
    valid_to = models.PositiveSmallIntegerField(null=True, blank=True)  # exclusive; null = in use

    class Meta:
        ordering = ["code", "level"]
        constraints = [models.UniqueConstraint(fields=["code", "level"], name="region_code_level")]

    def __str__(self) -> str:
        return f"{self.name} ({self.short_code})"

    @property
    def short_code(self) -> str:
        return short_code(self.code, self.level)

    @property
    def subtree(self) -> tuple[int, int]:
        return subtree_range(self.code, self.level)

    def contains_code(self, code: int) -> bool:
        low, high = self.subtree
        return low <= code < high


class RegionFlag(models.Model):
    """A fact about a region: poverty county with exit year, 三区三州, poor village, belt ...

    ``origin`` says where it comes from: loaded (reference data shipped with xiezuo), derived
    (computed, e.g. ethnic autonomy from the name) or maintained (entered by users, with a source).
    """

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="flags")
    flag = models.CharField(max_length=32)  # code list region_flag
    value = models.CharField(max_length=64, blank=True)
    origin = models.CharField(max_length=16)  # loaded / derived / maintained
    source = models.TextField(blank=True)
    valid_from = models.PositiveSmallIntegerField(null=True, blank=True)
    valid_to = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["region", "flag"], name="regionflag_unique")]
        indexes = [models.Index(fields=["flag", "value"])]

    def __str__(self) -> str:
        return f"{self.region_id}:{self.flag}={self.value}"


class CodeHistory(models.Model):
    """A county-level or higher code used since 1981, its years of use and its successors."""

    code = models.IntegerField(db_index=True)  # 6 digits; a code can be reused after a change
    name = models.CharField(max_length=100)
    province_name = models.CharField(max_length=50)
    prefecture_name = models.CharField(max_length=50, blank=True)
    level = models.PositiveSmallIntegerField()  # 1 province, 2 prefecture, 3 county
    in_use = models.BooleanField()
    status = models.CharField(max_length=8)  # 在用 in use / 变更 changed / 弃用 abolished
    start_year = models.PositiveSmallIntegerField()
    end_year = models.PositiveSmallIntegerField(null=True, blank=True)  # exclusive
    # Successor codes as [[code, year or null], ...]
    successors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["code", "start_year"]
        verbose_name_plural = "code history"
        constraints = [models.UniqueConstraint(fields=["code", "start_year"], name="codehistory_code_start")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
