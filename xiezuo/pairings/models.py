"""Organisations and pairings (结对关系) between helper and helped sides (DESIGN.md D7)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from xiezuo.regions.models import Region


class Organisation(models.Model):
    """An enterprise, social organisation, school, hospital or government unit, registered in a region.

    ``kind`` comes from the code list ``org_kind``; ``uscc`` is the validated 18-character
    unified social credit code (统一社会信用代码), unique where given.
    """

    kind = models.CharField(max_length=32)
    name = models.CharField(max_length=200, db_index=True)
    uscc = models.CharField(max_length=18, null=True, blank=True, unique=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="organisations")
    # 12-digit code of the region, kept with the row so scope filters are integer ranges.
    region_code = models.BigIntegerField(db_index=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Pairing(models.Model):
    """A pairing between a helper side and a helped side, each one or more regions or organisations.

    ``programme`` (code list ``programme``, e.g. 东西部扶贫协作) and ``level`` (code list
    ``pairing_level``, e.g. county-county for 携手奔小康) come from code lists. A county pair
    belongs to its provincial pair through ``parent``. ``end_year`` null = still active.
    """

    programme = models.CharField(max_length=32)
    level = models.CharField(max_length=32)
    start_year = models.PositiveSmallIntegerField()
    end_year = models.PositiveSmallIntegerField(null=True, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    name = models.CharField(max_length=300, help_text="display name, derived from the sides")
    source = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["programme", "level", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_year__isnull=True) | models.Q(end_year__gte=models.F("start_year")),
                name="pairing_years_ordered",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def active_in(self, year: int) -> bool:
        return self.start_year <= year and (self.end_year is None or year <= self.end_year)


class PairingSide(models.Model):
    """One member of a pairing's helper or helped side: a region or an organisation."""

    HELPER = "helper"
    HELPED = "helped"

    pairing = models.ForeignKey(Pairing, on_delete=models.CASCADE, related_name="sides")
    side = models.CharField(max_length=8, choices=[(HELPER, "helper"), (HELPED, "helped")])
    region = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="pairing_sides"
    )
    # The region (or the organisation's region) as a 12-digit code, and its level, for scope ranges.
    region_code = models.BigIntegerField(db_index=True)
    region_level = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(region__isnull=False) & models.Q(organisation__isnull=True))
                | (models.Q(region__isnull=True) & models.Q(organisation__isnull=False)),
                name="pairingside_region_xor_org",
            ),
            models.UniqueConstraint(fields=["pairing", "side", "region"], name="pairingside_region_once"),
            models.UniqueConstraint(fields=["pairing", "side", "organisation"], name="pairingside_org_once"),
        ]

    def __str__(self) -> str:
        return f"{self.pairing_id}:{self.side}:{self.region_id or self.organisation_id}"


class PairingDocument(models.Model):
    """An agreement or other document of a pairing (帮扶协议), stored privately."""

    pairing = models.ForeignKey(Pairing, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(max_length=200)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    file = models.FileField(upload_to="pairings/%Y/")
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.title
