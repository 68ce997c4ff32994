"""Shared data: code lists (D6), the audit log (D10) and the job queue (D9)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CodeList(models.Model):
    """A versioned list of codes, e.g. 主要致贫原因 (poverty causes), loaded from a file."""

    key = models.SlugField(max_length=64, unique=True)
    name_zh = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100)
    version = models.CharField(max_length=32)
    source = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.key


class Code(models.Model):
    """One code of a list, with Chinese and English labels and the aliases seen in the field."""

    code_list = models.ForeignKey(CodeList, on_delete=models.CASCADE, related_name="codes")
    code = models.CharField(max_length=64)
    zh = models.CharField(max_length=100)
    en = models.CharField(max_length=100)
    aliases = models.JSONField(default=list, blank=True)
    valid_from = models.PositiveSmallIntegerField(null=True, blank=True)
    valid_to = models.PositiveSmallIntegerField(null=True, blank=True)
    # Province (2-digit code) where a code is local to one province; null = national.
    province = models.PositiveSmallIntegerField(null=True, blank=True)
    sort = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["code_list", "code"], name="code_unique_in_list")]
        ordering = ["code_list", "sort", "code"]

    def __str__(self) -> str:
        return f"{self.code_list.key}:{self.code}"


class AuditEntry(models.Model):
    """One write, append-only (a database trigger refuses UPDATE and DELETE).

    ``changes`` holds the changed fields only, ``{"field": [old, new]}``; personal fields appear as
    hash references, never in clear. A bulk job writes one entry with ``batch`` (file hash, counts).
    """

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=32)  # create / update / delete / import / login / unmask ...
    object_type = models.CharField(max_length=64, db_index=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    object_repr = models.CharField(max_length=200, blank=True)
    # 12-digit code of the region the object belongs to (null = national), for scoped reading.
    region_code = models.BigIntegerField(null=True, blank=True, db_index=True)
    changes = models.JSONField(default=dict, blank=True)
    batch = models.JSONField(default=dict, blank=True)
    via = models.CharField(max_length=16, default="web")  # web / api / cli / job

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.object_type}:{self.object_id}"


class Job(models.Model):
    """A background job in the database-backed queue, run by `xiezuo worker`."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")
        # Failed for good after its workers died twice while running it (ADR 0012): set aside so
        # the queue moves on, never picked up again by itself.
        QUARANTINED = "quarantined", _("set aside")

    kind = models.CharField(max_length=64)
    params = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    region_code = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    progress_done = models.BigIntegerField(default=0)
    progress_total = models.BigIntegerField(null=True, blank=True)
    message = models.CharField(max_length=300, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    worker = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Written by the running worker's heartbeat thread; older than XIEZUO_JOB_STALE_SECONDS means
    # the worker is gone (ADR 0012).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Times the job was found running with a stale heartbeat, i.e. its worker died under it.
    stale_reclaims = models.PositiveSmallIntegerField(default=0)
    # Why a failed job failed, for people: a code of xiezuo.core.job_messages and its parameters,
    # rendered in the reader's language. ``error`` keeps the technical account for administrators.
    error_code = models.CharField(max_length=32, blank=True)
    error_params = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind}#{self.pk} {self.status}"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED, self.Status.QUARANTINED)

    @property
    def failure(self) -> str:
        """Why the job failed, in the active language; empty unless it failed."""
        from xiezuo.core.job_messages import failure_text

        if self.status not in (self.Status.FAILED, self.Status.QUARANTINED):
            return ""
        return failure_text(self)

    @property
    def kind_label(self) -> str:
        from xiezuo.core.job_messages import kind_label

        return kind_label(self.kind)

    @property
    def percent(self) -> int | None:
        if not self.progress_total:
            return None
        return min(100, int(100 * self.progress_done / self.progress_total))


class Setting(models.Model):
    """A stored setting of this installation, e.g. that the database holds demo data."""

    key = models.CharField(max_length=64, unique=True)
    value = models.TextField()

    def __str__(self) -> str:
        return self.key
