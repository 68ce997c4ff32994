"""The job queue's rules in one process (ADR 0012): which running jobs are stale and what becomes
of them, the failure a person reads instead of the traceback, and results under labels."""

from __future__ import annotations

import datetime as dt
import os
import socket
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone
from django.utils.translation import override

import tests.jobkinds  # noqa: F401  (the test kinds)
from tests.world import World
from xiezuo.core import job_messages
from xiezuo.core.jobs import JobFailed, claim_next, job, reclaim_stale, requeue_stale, run
from xiezuo.core.models import Job
from xiezuo.web.job_display import result_view

pytestmark = pytest.mark.django_db

OLD = dt.timedelta(minutes=10)


def running(worker: str = "elsewhere:4242", age: dt.timedelta = OLD, **fields: Any) -> Job:
    now = timezone.now()
    values: dict[str, Any] = {"attempts": 1, **fields}
    return Job.objects.create(
        kind="test.note",
        status="running",
        worker=worker,
        started_at=now - age,
        heartbeat_at=now - age,
        **values,
    )


def test_only_stale_jobs_are_taken_back_and_a_second_death_sets_the_job_aside() -> None:
    stale = running()
    fresh = running(age=dt.timedelta(seconds=5))
    # Its worker still lives on this machine (our parent): its heartbeat is only held up.
    alive_here = running(worker=f"{socket.gethostname()}:{os.getppid()}")
    assert reclaim_stale() == {"requeued": [stale.pk], "failed": [], "quarantined": []}
    stale.refresh_from_db()
    assert (stale.status, stale.worker, stale.heartbeat_at, stale.stale_reclaims, stale.attempts) == (
        "queued",
        "",
        None,
        1,
        1,
    )
    for other in (fresh, alive_here):
        other.refresh_from_db()
        assert (other.status, other.stale_reclaims) == ("running", 0)

    # Its next worker dies too: set aside, with the message a person reads, and never run again.
    claimed = claim_next("elsewhere:4243")
    assert claimed is not None and claimed.pk == stale.pk and claimed.attempts == 2
    Job.objects.filter(pk=stale.pk).update(heartbeat_at=timezone.now() - OLD)
    assert requeue_stale() == 1
    stale.refresh_from_db()
    assert (stale.status, stale.stale_reclaims, stale.error_code, stale.error_params) == (
        "quarantined",
        2,
        "quarantined",
        {"times": 2},
    )
    assert stale.message == (
        f"此任务已 2 次导致后台进程中止，已被隔离，以免耽误其他任务。请检查文件（大小、行数和列数），"
        f"或联系系统管理员在服务器日志中查找任务 {stale.pk}。"
    )
    with override("en"):
        assert stale.failure.startswith("This job stopped the worker running it 2 times and was set aside")
    assert claim_next("elsewhere:4244") is None


@override_settings(XIEZUO_JOB_MAX_ATTEMPTS=2, XIEZUO_JOB_QUARANTINE_AFTER=3)
def test_a_job_out_of_attempts_fails_with_a_chinese_message() -> None:
    spent = running(attempts=2, stale_reclaims=1)
    assert reclaim_stale() == {"requeued": [], "failed": [spent.pk], "quarantined": []}
    spent.refresh_from_db()
    assert (spent.status, spent.error_code, spent.error_params) == ("failed", "gave_up", {"attempts": 2})
    assert (
        spent.message
        == "执行此任务的后台进程在任务完成前已中止 2 次，任务已放弃。请重新提交；如仍中止，请联系系统管理员。"
    )
    assert spent.finished_at is not None


@job("test.refuse")
def _refuse(obj: Job, progress: object) -> dict[str, Any]:
    raise JobFailed(job_messages.REFUSED, reason="第 3 行缺少户编号")


@job("test.import_refusal")
def _import_refusal(obj: Job, progress: object) -> dict[str, Any]:
    from xiezuo.core.imports.jobs import ImportFailed

    raise ImportFailed("导入任务缺少提交人，无法确定导入范围")


def _run(world: World, kind: str, **params: Any) -> Job:
    obj = Job.objects.create(kind=kind, params=params, created_by=world.user("chengdexian"))
    claimed = claim_next("t")
    assert claimed is not None and claimed.pk == obj.pk
    return run(claimed)


def test_a_failure_is_a_message_for_people_and_the_traceback_only_for_administrators(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    crashed = _run(world, "test.raise", text="cannot open /srv/xiezuo/files/imports/ab/upload.xlsx")
    assert (crashed.status, crashed.error_code, crashed.error_params) == ("failed", "internal", {})
    assert "RuntimeError: cannot open /srv/xiezuo" in crashed.error  # for administrators
    assert any("/srv/xiezuo" in (r.exc_text or "") for r in caplog.records)  # in the log
    for text in (crashed.message, crashed.failure):
        assert text == (
            "任务因意外错误中止。请稍后重试；如再次失败，"
            f"请联系系统管理员在服务器日志中查找任务 {crashed.pk}。"
        )

    refused = _run(world, "test.refuse")
    assert (refused.error_code, refused.failure) == ("refused", "任务未能执行：第 3 行缺少户编号")
    import_refused = _run(world, "test.import_refusal")
    assert (import_refused.error_code, import_refused.failure) == (
        "refused",
        "任务未能执行：导入任务缺少提交人，无法确定导入范围",
    )
    unknown = _run(world, "test.never_registered")
    assert (unknown.status, unknown.failure) == ("failed", "本系统不认识这类任务，请联系系统管理员。")


REGISTRY_RESULT = {
    "counts": {"read": 18, "accepted": 8, "rejected": 10, "created": 8, "updated": 0, "unchanged": 0},
    "households": {"created": 5, "updated": 0},
    "notes": ["3 行的性别与身份证号不符，已按身份证号记录"],
    "errors_file": "errors.xlsx",
    "data_year": 2019,
    "as_of": "2019-12-31",
    "dry_run": True,
    "dataset": 7,
    "file_name": "承德县 2019.xlsx",
    "timings": {"read": 0.5},
}


def test_a_result_reads_as_labelled_counts_and_facts(world: World) -> None:
    clerk = world.user("chengdexian")
    obj = Job.objects.create(kind="registry.import", status="done", created_by=clerk, result=REGISTRY_RESULT)
    with override("zh-hans"):
        view = result_view(obj, clerk)
        assert view.counts == [
            ("读取", 18),
            ("接受", 8),
            ("拒绝", 10),
            ("新增", 8),
            ("更新", 0),
            ("未变", 0),
            ("新增户数", 5),
            ("更新户数", 0),
        ]
        assert view.facts == [
            ("文件", "承德县 2019.xlsx"),
            ("数据年度", "2019"),
            ("数据截止日期", "2019-12-31"),
        ]
        assert view.summary == "读取 18 · 接受 8 · 拒绝 10"
        assert view.details == ["read: 0.5"]  # an unknown key: text, not JSON
    assert view.notes == REGISTRY_RESULT["notes"] and view.dry_run
    assert view.error_report == f"/registry/import/{obj.pk}/errors/"
    assert result_view(obj, world.user("chengde")).error_report is None  # only for its creator

    flat = Job.objects.create(
        kind="ledger.import",
        params={"ledger": "placements"},
        created_by=clerk,
        result={"read": 3, "accepted": 2, "rejected": 1, "errors_path": "x/errors.xlsx"},
    )
    with override("en"):
        view = result_view(flat, clerk)
    assert view.counts == [("Rows read", 3), ("Rows accepted", 2), ("Rows rejected", 1)]
    assert view.error_report == f"/ledgers/placements/import/{flat.pk}/errors/"
