"""Hostile uploads (issue 21 item 5, ADR 0011): each refused by the tabular reader with its exact
message, in bounded memory, before a parser allocates what the file claims. Every file is made
here, none is committed: the largest written is a 2 MB zip that unpacks to 2 GiB."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from xiezuo.core.tabular import Column, Spec, TabularError, parse
from xiezuo.core.tabular.guard import check

SPEC = Spec(
    "测试", (Column("household_number", "户编号", required=True), Column("name", "姓名", kind="name"))
)
ROOT = Path(__file__).resolve().parent.parent
MiB = 1 << 20


def refusal(path: Path) -> str:
    """The Chinese message the reader refuses ``path`` with (the test fails if it reads it)."""
    rows, _ = parse(path, SPEC)
    with pytest.raises(TabularError) as caught:
        list(rows)
    return caught.value.message_zh


# --- the files --------------------------------------------------------------------------------


def xfd_sheet(path: Path) -> Path:
    """A header and one cell at XFD1048576: a few KB that claims 17 billion cells."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["户编号", "姓名"])
    ws["XFD1048576"] = "x"
    wb.save(path)
    return path


def rewrite(source: Path, target: Path, replace: dict[str, bytes], *, level: int = 6) -> Path:
    """``source`` with entries replaced or added (a workbook reworked by hand)."""
    with (
        zipfile.ZipFile(source) as src,
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z,
    ):
        for info in src.infolist():
            if info.filename not in replace:
                z.writestr(info.filename, src.read(info))
        for name, data in replace.items():
            z.writestr(name, data)
    return target


def small_workbook(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["户编号", "姓名"])
    ws.append(["H001", "张三"])
    wb.save(path)
    return path


def shared_strings(n: int, *, claimed: int = 1, distinct: bool = False) -> bytes:
    items = "".join(f"<si><t>{i}</t></si>" for i in range(n)) if distinct else "<si><t/></si>" * n
    return (
        '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
        f'main" count="{claimed}" uniqueCount="{claimed}">{items}</sst>'
    ).encode()


def zeros_zip(path: Path, member: str, size: int) -> Path:
    """A zip of one entry of ``size`` zero bytes, deflated by repeating one flushed MiB block
    (what a zip bomb is; zipfile itself would take a minute to compress it)."""
    assert size % MiB == 0
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = packer.compress(b"\0" * MiB) + packer.flush(zlib.Z_FULL_FLUSH)
    end = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    crc = 0
    zero = b"\0" * MiB
    for _ in range(size // MiB):
        crc = zlib.crc32(zero, crc)
    compressed = len(block) * (size // MiB) + len(end)
    name = member.encode()
    sizes = (crc, compressed, size, len(name), 0)
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0x800, 8, 0, 0x21, *sizes)
    with path.open("wb") as fh:
        fh.write(local + name)
        for _ in range(size // MiB):
            fh.write(block)
        fh.write(end)
        directory = fh.tell()
        entry = struct.pack(
            "<4s6H3L5H2L",
            b"PK\x01\x02",
            20,
            20,
            0x800,  # the name is UTF-8
            8,
            0,
            0x21,
            crc,
            compressed,
            size,
            len(name),
            0,
            0,
            0,
            0,
            0,
            0,
        )
        fh.write(entry + name)
        fh.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(entry) + len(name), directory, 0))
    return path


def macro_workbook(path: Path, tmp: Path) -> Path:
    """An .xlsm (a VBA project and the macro-enabled content type) renamed .xlsx."""
    base = small_workbook(tmp / "base.xlsx")
    with zipfile.ZipFile(base) as z:
        types = z.read("[Content_Types].xml").replace(
            b"spreadsheetml.sheet.main+xml", b"ms-excel.sheet.macroEnabled.main+xml"
        )
    return rewrite(
        base, path, {"[Content_Types].xml": types, "xl/vbaProject.bin": b"\xd0\xcf\x11\xe0" + b"\0" * 60}
    )


def wide_csv(path: Path) -> Path:
    """One line claiming a million columns (under 1 MB)."""
    path.write_text("户编号" + "," * 999_999 + "\n", encoding="utf-8")
    return path


# --- each refused with its message -------------------------------------------------------------


def test_a_sheet_claiming_xfd1048576_is_refused_before_calamine_allocates(tmp_path: Path) -> None:
    path = xfd_sheet(tmp_path / "xfd.xlsx")
    assert path.stat().st_size < 6000
    assert refusal(path) == (
        "xfd.xlsx 的工作表「Sheet」有内容的单元格一直到 XFD1048576（16,384 列），"
        "超过上限 1,024 列：请删除多余的列后再上传"
    )


def test_a_dimension_that_lies_is_not_believed(tmp_path: Path) -> None:
    """The <dimension> says A1:B2; the real extent (a cell at XFD5) is measured and refused."""
    base = xfd_sheet(tmp_path / "base.xlsx")
    with zipfile.ZipFile(base) as z:
        sheet = z.read("xl/worksheets/sheet1.xml")
    sheet = sheet.replace(b'ref="A1:XFD1048576"', b'ref="A1:B2"').replace(b"1048576", b"5")
    path = rewrite(base, tmp_path / "liar.xlsx", {"xl/worksheets/sheet1.xml": sheet})
    assert b'<dimension ref="A1:B2"' in sheet and b'r="XFD5"' in sheet
    assert refusal(path) == (
        "liar.xlsx 的工作表「Sheet」有内容的单元格一直到 XFD5（16,384 列），"
        "超过上限 1,024 列：请删除多余的列后再上传"
    )


def test_a_shared_strings_bomb_is_refused_by_its_ratio(tmp_path: Path) -> None:
    base = small_workbook(tmp_path / "base.xlsx")
    path = rewrite(base, tmp_path / "sst.xlsx", {"xl/sharedStrings.xml": shared_strings(6_000_000)}, level=9)
    assert path.stat().st_size < MiB
    info = zipfile.ZipFile(path).getinfo("xl/sharedStrings.xml")
    ratio = info.file_size // info.compress_size
    assert ratio > 200
    assert refusal(path) == (
        f"sst.xlsx 中的「xl/sharedStrings.xml」压缩比为 {ratio:,}:1，超过上限 200:1（可能是压缩炸弹）"
    )


def test_shared_strings_are_counted_not_taken_from_the_claimed_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XIEZUO_UPLOAD_MAX_SHARED_STRINGS", "1000")
    base = small_workbook(tmp_path / "base.xlsx")
    path = rewrite(base, tmp_path / "sst.xlsx", {"xl/sharedStrings.xml": shared_strings(1001, distinct=True)})
    assert refusal(path) == "sst.xlsx 的共享字符串表有 1,001 项，超过上限 1,000 项"
    ok = rewrite(base, tmp_path / "ok.xlsx", {"xl/sharedStrings.xml": shared_strings(1000, distinct=True)})
    assert check(ok, ok.name).shared_strings == 1000


def test_a_zip_bomb_is_refused_before_anything_is_unpacked(tmp_path: Path) -> None:
    path = zeros_zip(tmp_path / "bomb.zip", "户籍.csv", 2048 * MiB)
    assert path.stat().st_size < 3 * MiB
    assert zipfile.ZipFile(path).getinfo("户籍.csv").file_size == 2048 * MiB
    assert refusal(path) == "bomb.zip 解压后共 2,048 MB，超过上限 1,536 MB（可能是压缩炸弹）"
    assert not list(tmp_path.glob("**/*.csv"))


def test_a_smaller_bomb_is_refused_by_its_ratio(tmp_path: Path) -> None:
    path = zeros_zip(tmp_path / "bomb.zip", "户籍.csv", 64 * MiB)
    info = zipfile.ZipFile(path).getinfo("户籍.csv")
    ratio = info.file_size // info.compress_size
    assert refusal(path) == f"bomb.zip 中的「户籍.csv」压缩比为 {ratio:,}:1，超过上限 200:1（可能是压缩炸弹）"


def test_an_entry_that_inflates_past_its_declared_size_is_refused(tmp_path: Path) -> None:
    """The declared size is a hard bound: an entry claiming less than it holds is tampered with."""
    base = small_workbook(tmp_path / "base.xlsx")
    data = bytearray(base.read_bytes())
    member = b"xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(base) as z:
        info = z.getinfo(member.decode())
    smaller = info.file_size - 10
    struct.pack_into("<L", data, info.header_offset + 22, smaller)  # the local header's size
    central = data.index(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len(member)] != member:
        central = data.index(b"PK\x01\x02", central + 1)
    struct.pack_into("<L", data, central + 24, smaller)  # the central directory's
    path = tmp_path / "tampered.xlsx"
    path.write_bytes(bytes(data))
    assert refusal(path) == "tampered.xlsx 已损坏或被篡改：「xl/worksheets/sheet1.xml」解压后超过其声明的大小"


def test_a_macro_workbook_renamed_xlsx_is_refused_by_content(tmp_path: Path) -> None:
    path = macro_workbook(tmp_path / "花名册.xlsx", tmp_path)
    assert refusal(path) == (
        "花名册.xlsx 含有宏（VBA 代码或宏表），为安全起见不予导入："
        "请在 Excel 中另存为不含宏的 .xlsx 工作簿后再上传"
    )


def test_a_pdf_renamed_xlsx_is_refused_by_content(tmp_path: Path) -> None:
    path = tmp_path / "花名册.xlsx"
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
    assert refusal(path) == (
        "花名册.xlsx 不是电子表格：文件内容是PDF 文档。请上传 XLSX、XLS、CSV、Parquet 或 ZIP 文件"
    )


def test_a_binary_renamed_csv_is_refused_by_content(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(bytes(range(256)) * 4)
    assert refusal(path) == (
        "data.csv 不是电子表格：文件内容是二进制数据。请上传 XLSX、XLS、CSV、Parquet 或 ZIP 文件"
    )


def test_a_workbook_renamed_csv_is_named_for_what_it_is(tmp_path: Path) -> None:
    path = small_workbook(tmp_path / "a.xlsx").rename(tmp_path / "a.csv")
    assert refusal(path) == "a.csv 的内容是Excel 工作簿，与扩展名 .csv 不符：请改正扩展名后再上传"


def test_a_csv_line_of_a_million_columns_is_refused(tmp_path: Path) -> None:
    path = wide_csv(tmp_path / "wide.csv")
    assert refusal(path) == "wide.csv 第1行有 1,000,000 列，超过上限 1,024 列：请删除多余的列后再上传"


def test_a_csv_line_past_the_line_limit_is_refused_before_it_is_held(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("户编号,姓名\n" + "x" * (1024 * 4096 + 1) + "\n", encoding="utf-8")
    assert refusal(path) == "long.csv 第2行（按物理行计）超过 4,194,304 个字符，不像是表格数据"


def test_zips_nested_too_deep_are_refused(tmp_path: Path) -> None:
    inner = tmp_path / "c.zip"
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("a.csv", "户编号,姓名\nH1,张三\n")
    for name in ("b.zip", "a.zip"):
        outer = tmp_path / name
        with zipfile.ZipFile(outer, "w") as z:
            z.write(inner, inner.name)
        inner = outer
    assert refusal(inner) == "a.zip!b.zip!c.zip 中的压缩包嵌套超过 2 层，请解压后再上传"


def test_the_limits_are_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ok.csv"
    path.write_text("户编号,姓名,备注\nH1,张三,\n", encoding="utf-8")
    rows, _ = parse(path, SPEC)
    assert len(list(rows)) == 1
    monkeypatch.setenv("XIEZUO_UPLOAD_MAX_COLUMNS", "2")
    assert refusal(path) == "ok.csv 第1行有 3 列，超过上限 2 列：请删除多余的列后再上传"


# --- memory: the refusals above in one process, its peak measured -----------------------------

_CHILD = """
import json, sys
from pathlib import Path
from typing import Any
from xiezuo.core.tabular import TabularError
from xiezuo.core.tabular.readers import iter_sheets
out = {}
for name in sys.argv[1:]:
    try:
        for sheet in iter_sheets(Path(name)):
            for _ in sheet.rows:
                pass
        out[Path(name).name] = "read"
    except TabularError as exc:
        out[Path(name).name] = "refused"
# VmHWM is this program's own peak: ru_maxrss would also carry the pytest process's, inherited
# through fork and exec.
status = Path("/proc/self/status").read_text()
out["maxrss_mb"] = int(status.split("VmHWM:")[1].split()[0]) // 1024
print(json.dumps(out))
"""


def test_refusals_stay_within_a_memory_bound(tmp_path: Path) -> None:
    """Before ADR 0011 the first of these aborted on a 512 GiB allocation; now every one is
    refused by a process whose peak (Python and the readers included) stays under 200 MB."""
    files = [
        xfd_sheet(tmp_path / "xfd.xlsx"),
        rewrite(
            small_workbook(tmp_path / "b.xlsx"),
            tmp_path / "sst.xlsx",
            {"xl/sharedStrings.xml": shared_strings(6_000_000)},
        ),
        zeros_zip(tmp_path / "bomb.zip", "户籍.csv", 2048 * MiB),
        macro_workbook(tmp_path / "macro.xlsx", tmp_path),
        wide_csv(tmp_path / "wide.csv"),
    ]
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, *map(str, files)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert {k: v for k, v in result.items() if k != "maxrss_mb"} == {f.name: "refused" for f in files}
    assert result["maxrss_mb"] < 200, result


# --- through the imports ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda tmp: xfd_sheet(tmp / "xfd.xlsx"),
            "xfd.xlsx 的工作表「Sheet」有内容的单元格一直到 XFD1048576（16,384 列），"
            "超过上限 1,024 列：请删除多余的列后再上传",
        ),
        (
            lambda tmp: wide_csv(tmp / "wide.csv"),
            "wide.csv 第1行有 1,000,000 列，超过上限 1,024 列：请删除多余的列后再上传",
        ),
        (
            lambda tmp: zeros_zip(tmp / "bomb.zip", "户籍.csv", 2048 * MiB),
            "bomb.zip 解压后共 2,048 MB，超过上限 1,536 MB（可能是压缩炸弹）",
        ),
    ],
    ids=["xfd", "wide-csv", "zip-bomb"],
)
def test_the_imports_report_the_refusal(world: Any, tmp_path: Path, make: Any, message: str) -> None:
    """The registry import (its column reader for a plain CSV included) and a ledger import
    raise the reader's error, which their jobs and commands report."""
    from xiezuo.ledgers.importing import import_ledger
    from xiezuo.registry.importing import import_registry

    path = make(tmp_path)
    with pytest.raises(TabularError) as caught:
        import_registry(path, actor=world.user("chengdexian"), data_year=2019)
    assert caught.value.message_zh == message
    with pytest.raises(TabularError) as caught:
        import_ledger(
            "projects", path, actor=world.user("chengdexian"), pairing=world.pairing("120110", "130821")
        )
    assert caught.value.message_zh == message
