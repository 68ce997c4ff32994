"""Journey: a county clerk reads her jobs in zh-Hans — a failed one tells her what happened in
Chinese with no traceback or server path, a finished import shows its counts under labels
(issue 17 item 4, ADR 0012). The jobs run in a real worker on the live site's database."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import REPO, TEST_PASSWORD, XIEZUO
from tests.test_browser import Watch, open_page
from tests.test_job_workers import WORKER
from tests.test_registry_pages import registry_csv
from tests.world import World

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

Login = Callable[["Page", str], "Page"]
# A clerk of 承德县 of her own: the live site is shared, and other tests count chengdexian's jobs.
CLERK = "jobs_clerk"
# What no page may show a clerk: a traceback, a Python file, a server path.
TECHNICAL = re.compile(r"Traceback|\.py\b|/srv/|/work/|File \"|RuntimeError")


@pytest.fixture
def watched(page: Page, live_server_url: str) -> Iterator[Watch]:
    """The page watched for console errors and failed requests; the test fails on any."""
    watcher = Watch(page, live_server_url)
    yield watcher
    assert watcher.problems == []


@pytest.fixture(scope="module")
def clerk(live_server_env: dict[str, str]) -> str:
    proc = subprocess.run(
        [
            *XIEZUO,
            "users",
            "create",
            CLERK,
            "--role",
            "county_clerk",
            "--region",
            "130821",
            "--password-stdin",
        ],
        cwd=REPO,
        env=live_server_env,
        input=TEST_PASSWORD + "\n",
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return CLERK


def run_worker(env: dict[str, str]) -> str:
    """Run the queue of the live site's database empty with a real worker that knows the test kinds."""
    proc = subprocess.run(
        [*WORKER, "worker", "--once"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def test_a_clerk_reads_a_failed_job_in_chinese_without_the_traceback(
    page: Page, login: Login, watched: Watch, live_server_env: dict[str, str], clerk: str
) -> None:
    proc = subprocess.run(
        [
            *WORKER,
            "enqueue",
            "test.raise",
            json.dumps({"text": "cannot open /srv/xiezuo/files/x.xlsx"}),
            CLERK,
        ],
        cwd=REPO,
        env=live_server_env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    job_id = int(proc.stdout.split()[-1])
    log = run_worker(live_server_env)
    assert "RuntimeError: cannot open /srv/xiezuo/files/x.xlsx" in log  # the administrators' copy

    login(page, CLERK)
    open_page(page, f"/jobs/{job_id}/")
    failure = page.locator("[data-job-failure]").inner_text()
    assert "任务失败" in failure
    assert (
        f"任务因意外错误中止。请稍后重试；如再次失败，请联系系统管理员在服务器日志中查找任务 {job_id}。"
        in failure
    )
    assert page.locator("[data-job-status]").inner_text() == "失败"
    body = page.locator("body").inner_text()
    assert TECHNICAL.search(body) is None, TECHNICAL.search(body)
    assert TECHNICAL.search(page.content()) is None

    open_page(page, "/jobs/")
    row = page.locator(f"#job-{job_id}").inner_text()
    assert "后台任务" in row and "任务因意外错误中止" in row and TECHNICAL.search(row) is None


def test_a_finished_import_shows_read_accepted_and_rejected_as_labels(
    page: Page,
    login: Login,
    watched: Watch,
    world: World,
    live_server_env: dict[str, str],
    clerk: str,
    tmp_path: Path,
) -> None:
    sheet = registry_csv(tmp_path / "承德县 2019.csv")  # six rows, one with a wrong check character
    login(page, CLERK)
    open_page(page, "/registry/import/")
    page.set_input_files("input[name=file]", str(sheet))
    page.fill("input[name=data_year]", "2019")
    page.fill("input[name=as_of]", "2019-12-31")
    page.check("input[name=dry_run]")  # counts without writing: the live site's registry stays as it is
    with page.expect_navigation():
        page.get_by_role("button", name="上传并导入").click()
    job_id = int(page.url.rstrip("/").split("/")[-1])
    assert page.locator("[data-job-status]").inner_text() == "排队中"
    run_worker(live_server_env)

    open_page(page, f"/jobs/{job_id}/")
    assert page.locator("h1").inner_text() == f"后台任务 {job_id}：建档立卡导入"
    assert page.locator("[data-job-status]").inner_text() == "已完成"
    counts = page.locator("[data-job-counts]")
    labels = counts.locator("dt").all_inner_texts()
    values = counts.locator("dd").all_inner_texts()
    assert dict(zip(labels, values, strict=True)) == {
        "读取": "6",
        "接受": "5",
        "拒绝": "1",
        "新增": "5",
        "更新": "0",
        "未变": "0",
        "新增户数": "3",
        "更新户数": "0",
    }
    assert "试运行：文件已检查并计数，未写入任何数据。" in page.locator("[data-job-result]").inner_text()
    report = page.locator("[data-error-report]")
    assert report.inner_text() == "下载错误报告"
    assert report.get_attribute("href") == f"/registry/import/{job_id}/errors/"
    result = page.locator("[data-job-result]").inner_text()
    for code in ("{", '"', "counts", "errors_file", "dry_run", "households"):  # no JSON, no keys
        assert code not in result, code

    open_page(page, "/jobs/")
    assert "读取 6 · 接受 5 · 拒绝 1" in page.locator(f"#job-{job_id}").inner_text()
