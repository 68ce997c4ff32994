"""Journey (issue #17, DESIGN.md D17): a county clerk imports a ledger sheet in zh-Hans, through the
UI only, against the shared live site and its own worker.

承德县's clerk downloads the training-session template from the import page, fills it (openpyxl)
with two good rows and one bad one, uploads it, reads 读取 3 / 接受 2 / 拒绝 1 on the page, downloads
the error report (the bad row, its column and a Chinese reason), fixes the row in the sheet and
uploads the whole sheet again: the fixed row lands, the others are unchanged, nothing is doubled.
The queued jobs run with ``xiezuo worker --once`` and the database is read with ``xiezuo manage
shell``, both in the live site's own environment.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import openpyxl
import pytest

from tests.test_browser import Watch
from tests.world import World
from xiezuo.core import codelists

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser
Login = Callable[["Page", str], "Page"]
SESSION_PREFIX = "JR-IMPORT-"
REPO = Path(__file__).resolve().parents[2]
XIEZUO = [sys.executable, "-m", "xiezuo.cli"]


def site(env: dict[str, str], *args: str) -> str:
    proc = subprocess.run([*XIEZUO, *args], cwd=REPO, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def sessions_in_site(env: dict[str, str]) -> list[list[Any]]:
    """The journey's training sessions as the live site's database holds them."""
    code = (
        "import json; from xiezuo.talent.models import TrainingSession as T; "
        f"print(json.dumps([[s.session_number, s.participants, s.pairing.name] for s in "
        f"T.objects.filter(session_number__startswith='{SESSION_PREFIX}').select_related('pairing')"
        ".order_by('session_number')]))"
    )
    return json.loads(site(env, "manage", "shell", "-c", code).strip().splitlines()[-1])


def import_row(page: Page) -> dict[str, str]:
    """The newest row of 我最近的导入 on the import page, as the clerk reads it."""
    row = page.locator("table[data-imports] tbody tr").first
    cells = [c.strip() for c in row.locator("td").all_inner_texts()]
    return {"status": cells[2], "read": cells[3], "accepted": cells[4], "rejected": cells[5]}


def upload(page: Page, sheet: Path) -> None:
    page.set_input_files("#id_file", str(sheet))
    with page.expect_navigation():
        page.get_by_role("button", name="上传并导入").click()
    assert page.url.rstrip("/").split("/")[-2] == "jobs", page.url  # the job's own page


def test_a_county_clerk_imports_a_ledger_sheet_fixes_the_bad_row_and_imports_it_again(
    page: Page,
    login: Login,
    world: World,
    live_server_url: str,
    live_server_env: dict[str, str],
    tmp_path: Path,
) -> None:
    watch = Watch(page, live_server_url)
    pairing = world.pairing("120110", "130821").name
    kind = codelists.entries("training_kind")[0].zh
    login(page, "chengdexian")

    # 1. From the ledger's list to its import page; the template comes from there.
    page.goto("/ledgers/training_sessions/")
    page.get_by_role("link", name="导入", exact=True).click()
    assert page.locator("h1.xz-title").inner_text().startswith("导入：")
    with page.expect_download() as got:
        page.get_by_role("link", name="导入模板").click()
    template = tmp_path / "template.xlsx"
    got.value.save_as(template)
    downloads = [got.value.url]

    # 2. Fill it as the clerk would: two good sessions and one with 参训人数 written in words.
    workbook = openpyxl.load_workbook(template)
    sheet = workbook.active
    assert sheet is not None
    head = [c.value for c in sheet[1]]
    at = {name: head.index(name) + 1 for name in head if name}

    def put(row: int, number: str, title: str, participants: Any) -> None:
        values = {
            "结对关系": pairing,
            "归属年度": 2019,
            "行政区划代码": "130821",
            "培训班编号": SESSION_PREFIX + number,
            "培训类别": kind,
            "培训班名称": title,
            "开班日期": "2019-05-06",
            "结业日期": "2019-05-10",
            "参训人数": participants,
        }
        for name, value in values.items():
            sheet.cell(row=row, column=at[name], value=value)

    put(2, "1", "电商直播培训班", 40)
    put(3, "2", "家政服务培训班", 25)
    put(4, "3", "乡村旅游培训班", "三十")
    sheet_path = tmp_path / "承德县培训班.xlsx"
    workbook.save(sheet_path)

    # 3. Upload; the worker runs the job; the import page shows what happened.
    upload(page, sheet_path)
    assert "ran 1 job(s)" in site(live_server_env, "worker", "--once")
    page.goto("/ledgers/training_sessions/import/")
    assert import_row(page) == {"status": "已完成", "read": "3", "accepted": "2", "rejected": "1"}
    assert [row[:2] for row in sessions_in_site(live_server_env)] == [
        [SESSION_PREFIX + "1", 40],
        [SESSION_PREFIX + "2", 25],
    ]

    # 4. The error report: the bad row, its column and the reason, in Chinese.
    with page.expect_download() as got:
        page.locator("table[data-imports] tbody tr").first.get_by_role("link", name="下载").click()
    report = tmp_path / "errors.xlsx"
    got.value.save_as(report)
    downloads.append(got.value.url)
    rows = list(openpyxl.load_workbook(report).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    errors = dict(zip(rows[0], rows[1], strict=True))
    assert len(rows) == 2
    assert (errors["原行号"], errors["错误列"], errors["培训班编号"]) == (4, "参训人数", SESSION_PREFIX + "3")
    assert "参训人数" in str(errors["错误原因"])

    # 5. Fix the row in the sheet and upload the whole sheet again: nothing doubled.
    workbook = openpyxl.load_workbook(sheet_path)
    workbook.active.cell(row=4, column=at["参训人数"], value=30)  # type: ignore[union-attr]
    workbook.save(sheet_path)
    upload(page, sheet_path)
    assert "ran 1 job(s)" in site(live_server_env, "worker", "--once")
    page.goto("/ledgers/training_sessions/import/")
    assert import_row(page) == {"status": "已完成", "read": "3", "accepted": "3", "rejected": "0"}
    assert page.locator("table[data-imports] tbody tr").first.get_by_role("link", name="下载").count() == 0
    assert sessions_in_site(live_server_env) == [
        [SESSION_PREFIX + "1", 40, pairing],
        [SESSION_PREFIX + "2", 25, pairing],
        [SESSION_PREFIX + "3", 30, pairing],
    ]
    # A link that downloads ends its navigation as "aborted" in Chromium: that is the download.
    assert [
        p for p in watch.problems if p not in {f"request failed: {u} (net::ERR_ABORTED)" for u in downloads}
    ] == []
