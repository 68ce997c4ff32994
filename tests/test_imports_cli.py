"""Small findings of issue 21 on the import command line and pipeline: an empty file is refused as
a whole (every kind), a dry run never says it merged or wrote anything, and relative paths on the
command line mean the folder the user ran ``bin/xiezuo`` from."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from tests.test_registry_pages import registry_csv
from tests.world import World
from xiezuo.core.imports import kinds
from xiezuo.core.imports.result import ImportRefused
from xiezuo.core.imports.service import start_import
from xiezuo.core.jobs import work
from xiezuo.core.models import AuditEntry, Job
from xiezuo.core.scope import SYSTEM
from xiezuo.core.tabular.spec import write_template
from xiezuo.ledgers import types
from xiezuo.ledgers.exporting import template
from xiezuo.registry.columns import REGISTRY
from xiezuo.registry.models import Household
from xiezuo.registry.monitoring_columns import MONITORING

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parent.parent
EMPTY_ZH = "没有读到数据：文件中没有数据行"


def header_only(kind: str, path: Path) -> Path:
    """The kind's own import template: its header, no data row."""
    if kind == "registry":
        return write_template(REGISTRY, path)
    if kind == "monitoring":
        return write_template(MONITORING, path)
    return Path(template(types.get(kind), path))


OPTIONS: dict[str, dict[str, Any]] = {"registry": {"data_year": 2019, "as_of": "2019-12-31"}}


@pytest.mark.parametrize("kind", ["registry", "monitoring", "placements", "projects"])
def test_a_header_only_file_is_refused_by_every_kind(world: World, tmp_path: Path, kind: str) -> None:
    sheet = header_only(kind, tmp_path / f"{kind}.xlsx")
    entries = AuditEntry.objects.count()
    with pytest.raises(ImportRefused) as refused:
        kinds.get(kind).run(
            sheet,
            actor=SYSTEM,
            options=OPTIONS.get(kind, {}),
            dry_run=False,
            errors_out=None,
            progress=None,
            via="cli",
        )
    assert (refused.value.zh, refused.value.en) == (
        EMPTY_ZH,
        "no data rows: the file has no data row to import",
    )
    assert AuditEntry.objects.count() == entries  # nothing recorded as an import


def test_an_empty_ledger_workbook_is_refused_on_the_command_line(world: World, tmp_path: Path) -> None:
    empty = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(empty)  # one sheet, not a cell in it
    with pytest.raises(CommandError) as refused:
        call_command("import_ledger", "placements", str(empty))
    assert str(refused.value).startswith("没有读到数据：")
    with pytest.raises(CommandError) as refused:
        call_command("import_ledger", "placements", str(header_only("placements", tmp_path / "h.xlsx")))
    assert str(refused.value) == EMPTY_ZH


def test_an_empty_ledger_upload_fails_its_job_with_the_reason(
    world: World, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path / "files"
    sheet = header_only("placements", tmp_path / "h.xlsx")
    job = start_import(
        kinds.get("placements"),
        actor=world.user("chengdexian"),
        upload=SimpleUploadedFile("h.xlsx", sheet.read_bytes()),
    )
    assert work(once=True) == 1
    job = Job.objects.get(pk=job.pk)
    assert (job.status, job.message) == ("failed", "任务未能执行：" + EMPTY_ZH)


def test_a_dry_run_job_says_it_checked_and_wrote_nothing(world: World, settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "files"
    sheet = registry_csv(tmp_path / "承德县.csv")
    before = Household.objects.count()
    job = start_import(
        kinds.get("registry"),
        actor=world.user("chengdexian"),
        upload=SimpleUploadedFile("承德县.csv", sheet.read_bytes()),
        options=OPTIONS["registry"],
        dry_run=True,
    )
    assert work(once=True) == 1
    job = Job.objects.get(pk=job.pk)
    assert (job.status, job.message) == ("done", "已核对 3 户（试运行，未写入）")
    assert job.result["dry_run"] is True and job.result["counts"]["created"] == 5
    assert Household.objects.count() == before


def test_relative_paths_mean_the_folder_the_command_ran_from(tmp_path: Path) -> None:
    """A real ``bin/xiezuo`` run from a temporary folder: the template lands there and is found
    there again by the import, whose error report lands there too (not in the repository)."""
    here = tmp_path / "work"
    here.mkdir()
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "XIEZUO_"))}
    env.update({"XIEZUO_DATA_DIR": str(data), "XIEZUO_DEMO": "1", "DEBUG": "1"})
    bin_xiezuo = str(REPO / "bin" / "xiezuo")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [bin_xiezuo, *args], cwd=here, env=env, capture_output=True, text=True, timeout=300
        )

    assert run("manage", "migrate", "-v", "0").returncode == 0
    made = run("template", "placements", "--out", "t.xlsx")
    assert made.returncode == 0, made.stderr
    assert (here / "t.xlsx").is_file() and not (REPO / "t.xlsx").exists()
    assert made.stdout.strip() == str(here / "t.xlsx")
    # The template (a header only) is read from here: refused as empty, not "no such file".
    refused = run("import", "placements", "t.xlsx", "--errors", "errors.xlsx")
    assert (refused.returncode, refused.stderr.strip()) == (1, f"CommandError: {EMPTY_ZH}")
    # One bad row: read from here, its error report written here.
    book = openpyxl.load_workbook(here / "t.xlsx")
    sheet = book.active
    assert sheet is not None
    sheet.append(["不是日期"] * sheet.max_column)
    book.save(here / "bad.xlsx")
    checked = run("import", "placements", "bad.xlsx", "--dry-run", "--errors", "errors.xlsx", "--json")
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["rejected"] == 1
    assert (here / "errors.xlsx").is_file() and not (REPO / "errors.xlsx").exists()
    shutil.rmtree(data, ignore_errors=True)
