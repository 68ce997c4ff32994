"""Scope (D2), audit (D10) and the job queue (D9)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, transaction

from tests.world import World
from xiezuo.core import audit
from xiezuo.core.jobs import claim_next, enqueue, job, run
from xiezuo.core.models import AuditEntry, Job
from xiezuo.core.scope import SYSTEM, scope_for
from xiezuo.pairings.selectors import pairings_for
from xiezuo.regions.models import full_code

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("username", "kind", "action", "inside", "outside"),
    [
        ("national", "pairing", "view", ["33", "52"], []),
        ("tianjin", "pairing", "view", ["120110", "12"], ["13", "3302"]),
        ("chengde", "pairing", "change", ["130821", "1308"], ["12", "1307"]),
        ("chengdexian", "organisation", "change", ["130821"], ["130881"]),
        ("chengdexian", "pairing", "change", [], ["130821"]),
        ("assessor", "pairing", "view", ["1308", "130821"], ["12"]),
        ("assessor", "pairing", "change", [], ["13"]),
        ("viewer", "pairing", "view", ["130828"], ["1307"]),
        ("auditor", "audit", "view", ["12", "52"], []),
        ("auditor", "pairing", "view", [], ["12"]),
        ("expired", "pairing", "view", [], ["130821"]),
        ("sysadmin", "pairing", "view", [], ["12"]),
    ],
)
def test_scope_truth_table(
    world: World, username: str, kind: str, action: str, inside: list[str], outside: list[str]
) -> None:
    scope = scope_for(world.user(username), kind, action)
    assert [c for c in inside if not scope.contains(full_code(c))] == []
    assert [c for c in outside if scope.contains(full_code(c))] == []


def test_pairings_visible_to_each_account(world: World) -> None:
    def names(username: str) -> list[str]:
        return sorted(pairings_for(world.user(username)).values_list("name", flat=True))

    assert names("tianjin") == [
        "东丽区 → 承德县",
        "华明第一社区居委会 → 张家店村村民委员会",
        "华明街道 → 下板城镇",
        "天津市 → 承德市",
        "天津市 → 甘肃省",
        "天津津农现代农业发展有限公司（演示） → 武场村村民委员会",
        "西青区 → 平泉市",
    ]
    # D2: a grant must contain a side's region; 围场's clerk does not contain 承德市 as a whole.
    assert names("weichang") == []
    assert names("chengdexian") == [
        "东丽区 → 承德县",
        "华明第一社区居委会 → 张家店村村民委员会",
        "华明街道 → 下板城镇",
        "天津津农现代农业发展有限公司（演示） → 武场村村民委员会",
    ]
    assert len(names("national")) == 31 + 2 + 3
    assert names("expired") == []
    assert names("auditor") == []


def test_audit_log_is_append_only_in_the_database() -> None:
    entry = audit.record(actor=SYSTEM, action="test", object_type="thing", object_id=1)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(action="changed")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == "test"


def test_audit_diff_keeps_personal_fields_out() -> None:
    entry = audit.record(
        actor=SYSTEM,
        action="update",
        object_type="member",
        object_id=7,
        changes=audit.diff({"name": "张三", "village": 1}, {"name": "李四", "village": 2}),
    )
    assert entry.changes == {"name": ["[personal]", "[personal]"], "village": [1, 2]}
    assert entry.actor_name == "system"


@job("test.add")
def _add(obj: Job, progress: object) -> dict[str, int]:
    assert callable(progress)
    progress(1, 2, "half")  # type: ignore[operator]
    if obj.params.get("fail"):
        raise RuntimeError("boom")
    return {"sum": obj.params["a"] + obj.params["b"]}


def test_job_queue_runs_claims_once_and_records_failures(world: World) -> None:
    ok = enqueue(actor=world.user("chengdexian"), kind="test.add", params={"a": 2, "b": 3})
    bad = enqueue(actor=world.user("chengdexian"), kind="test.add", params={"a": 1, "b": 1, "fail": True})
    assert AuditEntry.objects.filter(object_type="job", object_id=str(ok.pk), action="enqueue").count() == 1
    first = claim_next("w1")
    assert first is not None and first.pk == ok.pk and first.status == Job.Status.RUNNING
    assert claim_next("w2").pk == bad.pk  # type: ignore[union-attr]
    assert claim_next("w3") is None
    done = run(first)
    assert (done.status, done.result, done.progress_done, done.progress_total) == ("done", {"sum": 5}, 1, 2)
    failed = run(Job.objects.get(pk=bad.pk))
    assert failed.status == "failed" and "RuntimeError: boom" in failed.error
    with pytest.raises(ValueError, match="unknown job kind"):
        enqueue(actor=SYSTEM, kind="nope", params={})
