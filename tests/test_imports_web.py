"""Every import kind end to end through its web page (issue #16 item 1, issue #17's first defect):
a clerk of the test world uploads a real sheet (multipart, logged in), the real worker runs the
queued job, the clerk reads the counts on the import page and downloads the error report; the
database then holds exactly the good rows.

No job row is made by hand here: the permission matrix fabricates one in the form the job expects,
which is how the ledger upload's wrong path went unseen.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse

from tests.ledgers_world import People
from tests.test_registry_monitoring import ACCEPTED, REJECTED, ROWS, write_sheet
from tests.test_registry_pages import registry_csv
from tests.world import World
from xiezuo.accounts.models import Grant
from xiezuo.core.imports import store
from xiezuo.core.jobs import work
from xiezuo.core.models import AuditEntry, Job
from xiezuo.core.scope import SYSTEM
from xiezuo.ledgers import services, types
from xiezuo.registry.models import HelpMeasure, Household, Member
from xiezuo.synth.ledgers import SynthContext, generate_all, write_files

pytestmark = pytest.mark.django_db

LEDGERS = [t.key for t in types.all_types()]
# Ledgers whose rows refer to another ledger's records (saved first, through the service).
NEEDS = {
    "training_participants": ("training_sessions",),
    "fund_allocations": ("fiscal_funds", "projects"),
    "project_beneficiaries": ("projects",),
    "industry_beneficiaries": ("parks", "workshops", "investments"),
}


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "files"
    return Path(settings.MEDIA_ROOT)


def clerk(world: World, username: str) -> Client:
    client = Client()
    client.force_login(world.user(username))
    return client


def upload_and_work(client: Client, url: str, sheet: Path, **data: Any) -> Job:
    """Post the sheet on the page as a browser does, then run the queue with the real worker."""
    with sheet.open("rb") as fh:
        response = client.post(url, {"file": fh, **data})
    assert response.status_code == 302, response.content.decode()[:2000]
    job_id = int(re.fullmatch(r"/jobs/(\d+)/", response["Location"]).group(1))  # type: ignore[union-attr]
    assert Job.objects.get(pk=job_id).status == "queued"
    assert work(once=True) == 1
    job = Job.objects.get(pk=job_id)
    assert job.status == "done", (job.message, job.error)
    # The stored upload: private, under MEDIA_ROOT/imports, named as the job names it.
    stored = store.path_of(job.params["file"])
    assert stored.is_file() and stored.parent.parent == Path(store.root()).resolve()
    assert stored.stat().st_mode & 0o077 == 0
    return job


def page_row(client: Client, url: str, job: Job) -> dict[str, Any]:
    """The job's row on the import page: its counts and the error report's link."""
    html = client.get(url).content.decode()
    row = re.search(rf'<tr data-import="{job.pk}"[^>]*>.*?</tr>', html, re.S)
    assert row is not None, html[-3000:]
    attrs = dict(re.findall(r'data-(read|accepted|rejected|status)="([^"]*)"', row.group(0)))
    link = re.search(r'<a href="([^"]+)" data-errors>', row.group(0))
    return {
        "status": attrs["status"],
        "counts": {k: int(attrs[k]) for k in ("read", "accepted", "rejected")},
        "errors": link.group(1) if link else None,
    }


def report(client: Client, href: str) -> dict[int, str]:
    """The downloaded error report: sheet row number → reasons."""
    response = client.get(href)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    head = list(rows[0])
    number, reason = head.index("原行号"), head.index("错误原因")
    return {int(r[number]): str(r[reason]) for r in rows[1:]}  # type: ignore[arg-type]


def test_registry_sheet_through_the_page(world: World, media: Path, tmp_path: Path) -> None:
    client = clerk(world, "chengdexian")
    url = reverse("web:registry_import")
    job = upload_and_work(
        client, url, registry_csv(tmp_path / "承德县.csv"), data_year="2019", as_of="2019-12-31"
    )
    row = page_row(client, url, job)
    assert row["status"] == "done" and row["counts"] == {"read": 6, "accepted": 5, "rejected": 1}
    assert job.result["counts"]["created"] == 5
    assert sorted(Household.objects.filter(number__startswith="I-").values_list("number", flat=True)) == [
        "I-1",
        "I-2",
        "I-3",
    ]
    assert Member.objects.filter(household__number__startswith="I-").count() == 5
    assert list(report(client, row["errors"])) == [7]  # the header is row 1, the bad member row 7
    assert client.get(reverse("web:job", args=[job.pk])).status_code == 200
    # Once the clerk's grant lapses, the report (rows as typed, ID numbers included) is not found.
    Grant.objects.filter(user__username="chengdexian").update(expires_on=dt.date(2020, 1, 1))
    assert client.get(row["errors"]).status_code == 404


@pytest.fixture
def monitored(registry_people: People) -> People:
    # As tests/test_registry_monitoring.py: T-MON's monitoring is open, so its household is monitored.
    Household.objects.filter(number="T-MON").update(monitored=True)
    return registry_people


def test_monitoring_sheet_through_the_page(
    world: World, monitored: People, media: Path, tmp_path: Path
) -> None:
    client = clerk(world, "chengdexian")
    url = reverse("web:monitoring_import")
    assert client.get(reverse("web:monitoring_template")).content[:2] == b"PK"
    job = upload_and_work(client, url, write_sheet(tmp_path / "监测.xlsx", ROWS))
    row = page_row(client, url, job)
    assert row["counts"] == {"read": len(ROWS), "accepted": len(ACCEPTED), "rejected": len(REJECTED)}
    assert job.result["counts"]["created"] == 5 and job.result["monitorings_created"] == 2
    assert HelpMeasure.objects.count() == 5
    found = report(client, row["errors"])
    assert set(found) == set(REJECTED)
    assert found[6] == REJECTED[6]
    entry = AuditEntry.objects.get(action="download", object_type="monitoring_import_errors")
    assert entry.actor_name == "chengdexian"
    # Nobody else may fetch it, not even someone with the same scope.
    assert clerk(world, "chengde").get(row["errors"]).status_code == 404


def ledger_sheet(world: World, key: str, tmp_path: Path) -> tuple[Path, int]:
    """The synthetic rows of ``key`` for 东丽区 → 承德县 2019 as an import-ready sheet, with one bad
    row appended (year 二〇一九, which no reader takes); the records it refers to saved first."""
    ctx = SynthContext(
        rng=random.Random(7), year=2019, pairings=[world.pairing("120110", "130821")], scale=0.25
    )
    rows = generate_all(ctx)
    for need in NEEDS.get(key, ()):
        for values in rows.get(need, []):
            services.save_record(types.get(need), actor=SYSTEM, values=values, via="demo", upsert=True)
    good = rows[key]
    (path,) = write_files({key: good}, tmp_path / key)
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.active
    assert sheet is not None
    head = [c.value for c in sheet[1]]
    bad = [c.value for c in sheet[2]]
    bad[head.index(types.get(key).full_spec.column("year").header)] = "二〇一九年度"
    sheet.append(bad)
    workbook.save(path)
    return path, len(good)


@pytest.mark.parametrize("key", LEDGERS)
def test_each_ledger_sheet_through_the_page(
    key: str, world: World, registry_people: People, media: Path, tmp_path: Path
) -> None:
    ltype = types.get(key)
    # The entering side: the synthetic visits and meetings of "both" are the helper side's.
    username = "chengdexian" if ltype.side == "helped" else "dongli"
    client = clerk(world, username)
    url = reverse("web:ledger_import", args=[key])
    sheet, good = ledger_sheet(world, key, tmp_path)
    before = ltype.model.objects.count()
    job = upload_and_work(client, url, sheet)
    row = page_row(client, url, job)
    assert row["counts"] == {"read": good + 1, "accepted": good, "rejected": 1}, report(client, row["errors"])
    assert job.result["counts"]["created"] == good and job.result["ledger"] == key
    assert ltype.model.objects.count() == before + good
    assert list(report(client, row["errors"])) == [good + 2]  # the last sheet row
    # The same sheet again: nothing doubled.
    again = upload_and_work(client, url, sheet)
    assert again.result["counts"] == {
        "read": good + 1,
        "accepted": good,
        "rejected": 1,
        "created": 0,
        "updated": 0,
        "unchanged": good,
    }
    assert ltype.model.objects.count() == before + good


def test_an_upload_whose_content_is_not_its_type_is_refused(
    world: World, media: Path, tmp_path: Path
) -> None:
    fake = tmp_path / "placements.xlsx"
    fake.write_text("户编号,姓名\n", encoding="utf-8")
    with fake.open("rb") as fh:
        response = clerk(world, "chengdexian").post(
            reverse("web:ledger_import", args=["placements"]), {"file": fh}
        )
    assert response.status_code == 200 and "文件内容不是 XLSX 格式" in response.content.decode()
    assert not Job.objects.exists()
    assert not store.root().exists() or not any(store.root().iterdir())


def test_expired_uploads_are_removed(settings: Any, media: Path) -> None:
    settings.XIEZUO_UPLOAD_RETENTION_DAYS = 30
    old, new = store.root() / "old", store.root() / "new"
    for folder in (old, new):
        folder.mkdir(parents=True)
        (folder / "errors.xlsx").write_bytes(b"PK")
    now = dt.datetime(2026, 12, 1).timestamp()
    import os

    os.utime(old, (now - 31 * 86400, now - 31 * 86400))
    os.utime(new, (now - 29 * 86400, now - 29 * 86400))
    assert store.purge_expired(now=now) == 1
    assert sorted(p.name for p in store.root().iterdir()) == ["new"]


def test_the_one_path_resolution_refuses_paths_outside_the_uploads(media: Path) -> None:
    for name in ("../secret", "imports/../../etc/passwd", "other/file.csv", "imports"):
        with pytest.raises(ValueError, match="not an upload path"):
            store.path_of(name)
    assert store.path_of("imports/abc/x.csv") == (media / "imports" / "abc" / "x.csv").resolve()
