"""Readers: every supported file as a stream of sheets, each a lazy stream of numbered rows.

``iter_sheets(path)`` yields one :class:`Sheet` per source — a CSV, a worksheet of an XLSX/XLS
workbook, a Parquet file, each of those inside a ZIP — named ``file!sheet``. Rows come as
``(row_number, cells)`` with the 1-based row number Excel shows, lazily, so memory stays flat:
calamine holds a worksheet of up to ``XIEZUO_UPLOAD_INMEMORY_CELLS`` cells in its own memory
while that sheet is read, a larger one is streamed row by row from the zip. Every file (and every
member of a zip) first passes ``guard.check`` — its kind by content, the limits of ADR 0011 — and
every refusal is a :class:`TabularError`.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from xiezuo.core.tabular.guard import Content
    from xiezuo.core.tabular.limits import Limits

__all__ = [
    "CSV_EXTENSIONS",
    "EXCEL_EXTENSIONS",
    "PARQUET_EXTENSIONS",
    "Row",
    "Sheet",
    "TabularError",
    "bounded_lines",
    "detect_encoding",
    "iter_sheets",
    "zip_member_name",
]

Row = tuple[int, list[Any]]

CSV_EXTENSIONS = frozenset({".csv", ".txt", ".tsv"})
EXCEL_EXTENSIONS = frozenset({".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"})
PARQUET_EXTENSIONS = frozenset({".parquet", ".pq"})
SNIFF_BYTES = 64 * 1024
PARQUET_BATCH = 4096


class TabularError(Exception):
    """A file that cannot be read at all; ``message_zh`` is shown to the clerk."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_zh = message_zh
        self.message_en = message_en


@dataclass
class Sheet:
    """One source of rows: ``name`` is ``file`` or ``file!sheet`` (``bundle.zip!a.csv!…`` inside a zip)."""

    name: str
    rows: Iterator[Row]
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    """Merged ranges as ((first_row, first_col), (last_row, last_col)), 1-based rows, 0-based columns."""
    encoding: str | None = None


def detect_encoding(head: bytes) -> str:
    """Encoding of a CSV from its first bytes: a BOM, else strict UTF-8, else GB18030 (⊇ GBK).

    >>> [detect_encoding(b) for b in ("姓名".encode("gbk"), "姓名".encode(), codecs.BOM_UTF8)]
    ['gb18030', 'utf-8', 'utf-8-sig']
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        # Incremental: a character cut at the end of the sample is not an error.
        codecs.getincrementaldecoder("utf-8")("strict").decode(head, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def _sniff_delimiter(sample: str) -> str:
    lines = [line for line in sample.splitlines()[:30] if line.strip()]
    counts = {d: sum(line.count(d) for line in lines) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def bounded_lines(text: TextIO, name: str, limit: int) -> Iterator[str]:
    """The lines of ``text``, refusing one longer than ``limit`` characters before it is held whole."""
    number = 0
    while line := text.readline(limit + 1):
        number += 1
        if len(line) > limit and not line.endswith("\n"):
            raise TabularError(
                f"{name} 第{number}行（按物理行计）超过 {limit:,} 个字符，不像是表格数据",
                f"{name}: line {number} is longer than {limit:,} characters",
            )
        yield line


def _too_wide(name: str, number: int, width: int, limit: int) -> TabularError:
    return TabularError(
        f"{name} 第{number}行有 {width:,} 列，超过上限 {limit:,} 列：请删除多余的列后再上传",
        f"{name}: row {number} has {width:,} columns, more than the limit of {limit:,}",
    )


def _too_long(name: str, number: int, limit: int) -> TabularError:
    return TabularError(
        f"{name} 超过 {limit:,} 行（第{number:,}行），请拆分后分批导入",
        f"{name}: more than {limit:,} rows (row {number:,}); split it and import in parts",
    )


def _csv_rows(path: Path, encoding: str, delimiter: str, name: str) -> Iterator[Row]:
    from xiezuo.core.tabular.limits import Limits

    limits = Limits.from_env()
    number = 0
    with path.open(encoding=encoding, errors="strict", newline="") as text:
        try:
            # Row numbers count records, as Excel shows them (a cell with a line break stays one row).
            lines = bounded_lines(text, name, limits.max_line_chars)
            for number, cells in enumerate(csv.reader(lines, delimiter=delimiter), start=1):
                if len(cells) > limits.max_columns:
                    raise _too_wide(name, number, len(cells), limits.max_columns)
                if number > limits.max_rows:
                    raise _too_long(name, number, limits.max_rows)
                yield number, cells
        except UnicodeDecodeError as exc:
            raise TabularError(
                f"{name} 第{number + 1}行附近的文字编码无法识别，请另存为 UTF-8 或 GBK 编码的 CSV",
                f"{name}: cannot decode text near row {number + 1} as {encoding}",
            ) from exc
        except csv.Error as exc:
            raise TabularError(
                f"{name} 第{number + 1}行附近无法按 CSV 读取（单元格过长或引号不成对）",
                f"{name}: cannot read row {number + 1} as CSV ({exc})",
            ) from exc


def _csv_sheet(path: Path, name: str) -> Sheet:
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    encoding = detect_encoding(head)
    sample = codecs.getincrementaldecoder(encoding)("replace").decode(head, final=False)
    delimiter = _sniff_delimiter(sample)
    return Sheet(name, _csv_rows(path, encoding, delimiter, name), encoding=encoding)


def _excel_sheets(path: Path, name: str, content: Content) -> Iterator[Sheet]:
    from python_calamine import CalamineError, CalamineWorkbook

    from xiezuo.core.tabular.limits import Limits

    limits = Limits.from_env()
    if content.kind == "xlsx" and content.streamed(limits):
        yield from _streamed_sheets(path, name, content, limits)
        return
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as exc:
        raise TabularError(
            f"无法打开工作簿 {name}：文件已损坏或不是 Excel 文件", f"cannot open workbook {name}: {exc}"
        ) from exc
    with workbook:
        for meta in workbook.sheets_metadata:
            if str(meta.visible).rsplit(".", 1)[-1] != "Visible":
                continue  # hidden sheets hold drop-down lists and workings, not data
            try:
                sheet = workbook.get_sheet_by_name(meta.name)
            except (CalamineError, ValueError) as exc:
                raise TabularError(
                    f"无法读取工作簿 {name} 的工作表「{meta.name}」：文件已损坏",
                    f"cannot read sheet {meta.name!r} of {name}: {exc}",
                ) from exc
            if sheet.start is None:
                continue
            source = f"{name}!{meta.name}"
            if sheet.width > limits.max_columns:
                raise _too_wide(source, sheet.start[0] + 1, sheet.width, limits.max_columns)
            if sheet.height > limits.max_rows:
                raise _too_long(source, limits.max_rows + 1, limits.max_rows)
            merged = [((r0 + 1, c0), (r1 + 1, c1)) for (r0, c0), (r1, c1) in sheet.merged_cell_ranges or []]
            yield Sheet(source, _calamine_rows(sheet), merged)


def _calamine_rows(sheet: Any) -> Iterator[Row]:
    # iter_rows starts at the sheet's first row but at its first used column: pad the columns
    # back so positions match the letters Excel shows.
    pad = [""] * sheet.start[1]
    for index, cells in enumerate(sheet.iter_rows()):
        yield index + 1, pad + cells if pad else cells


def _streamed_sheets(path: Path, name: str, content: Content, limits: Limits) -> Iterator[Sheet]:
    """A workbook too large for calamine to hold whole, read row by row (openpyxl's cell parser
    on each row element, the rows read dropped at once: memory holds the shared strings and one
    row); limits checked as the cells come."""
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, WINDOWS_EPOCH

    if not content.parts:
        raise TabularError(
            f"无法识别工作簿 {name} 的结构：请在 Excel 中另存为 .xlsx 后再上传",
            f"cannot make out the structure of workbook {name}",
        )
    with zipfile.ZipFile(path) as archive:
        try:
            strings = _shared_strings(archive, content.strings_member)
        except (SyntaxError, ValueError, TypeError, KeyError) as exc:  # SyntaxError: ElementTree's ParseError
            raise _unreadable(name, "共享字符串表", exc) from exc
        dates, durations = _date_styles(archive, content.styles_member)
        epoch = CALENDAR_MAC_1904 if content.date1904 else WINDOWS_EPOCH
        for part in content.parts:
            scan = content.sheets.get(part.name)
            if not part.visible or scan is None:
                continue  # hidden sheets hold drop-down lists and workings; no cells, no rows
            source = f"{name}!{part.name}"
            merged = [((r0 + 1, c0), (r1 + 1, c1)) for (r0, c0), (r1, c1) in scan.merged]
            try:
                src = archive.open(part.member)
            except (zipfile.BadZipFile, NotImplementedError, OSError) as exc:
                raise _unreadable(source, "工作表", exc) from exc
            with src:
                yield Sheet(source, _xml_rows(src, strings, epoch, dates, durations, source, limits), merged)


def _shared_strings(archive: zipfile.ZipFile, member: str | None) -> list[str]:
    from xml.etree.ElementTree import iterparse

    from openpyxl.cell.text import Text
    from openpyxl.xml.constants import SHEET_MAIN_NS

    strings: list[str] = []
    if member is None:
        return strings
    tag = f"{{{SHEET_MAIN_NS}}}si"
    with archive.open(member) as src:
        events = iterparse(src, events=("start", "end"))
        root = next(events, (None, None))[1]
        for event, element in events:
            if event == "end" and element.tag == tag:
                strings.append(Text.from_tree(element).content.replace("x005F_", ""))
                if root is not None:
                    root.clear()  # keep the strings, not their elements
    return strings


def _date_styles(archive: zipfile.ZipFile, member: str | None) -> tuple[set[int], set[int]]:
    """Indexes of the cell styles that show dates, and durations (openpyxl's reading of them)."""
    if member is None:
        return set(), set()
    from openpyxl.styles.stylesheet import Stylesheet
    from openpyxl.xml.functions import fromstring

    try:
        sheet = Stylesheet.from_tree(fromstring(archive.read(member)))
    except Exception:  # a broken style sheet: dates come as numbers and fail their columns' checks
        return set(), set()
    return set(sheet.date_formats), set(sheet.timedelta_formats)


def _xml_rows(
    src: IO[bytes],
    strings: list[str],
    epoch: dt.datetime,
    dates: set[int],
    durations: set[int],
    source: str,
    limits: Limits,
) -> Iterator[Row]:
    from openpyxl.worksheet._reader import ROW_TAG, WorkSheetParser
    from openpyxl.xml.constants import SHEET_MAIN_NS

    parser = WorkSheetParser(
        src, strings, data_only=True, epoch=epoch, date_formats=dates, timedelta_formats=durations
    )
    try:
        yield from _xml_rows_unchecked(src, parser, f"{{{SHEET_MAIN_NS}}}sheetData", ROW_TAG, source, limits)
    except (
        SyntaxError,
        IndexError,
        ValueError,
        KeyError,
        TypeError,
        OverflowError,
        zipfile.BadZipFile,
    ) as exc:
        # ElementTree's ParseError, a shared string that is not there, a reference that is no cell
        raise _unreadable(source, "工作表", exc) from exc


def _unreadable(name: str, what: str, exc: Exception) -> TabularError:
    return TabularError(f"{name} 的{what}已损坏，无法读取", f"{name}: damaged ({exc})")


def _xml_rows_unchecked(
    src: IO[bytes], parser: Any, data_tag: str, row_tag: str, source: str, limits: Limits
) -> Iterator[Row]:
    from xml.etree.ElementTree import iterparse

    expected = 1
    parent: Any = None
    for event, element in iterparse(src, events=("start", "end")):
        if event == "start":
            if element.tag == data_tag:
                parent = element
            continue
        if element.tag != row_tag:
            continue
        number, cells = parser.parse_row(element)
        if parent is not None:
            parent.clear()  # the rows read so far: their elements would stay in the tree
        if number > limits.max_rows:
            raise _too_long(source, number, limits.max_rows)
        while expected < number:  # rows the sheet leaves out are empty, as calamine gives them
            yield expected, []
            expected += 1
        values: list[Any] = []
        for cell in cells:
            column = cell["column"]
            if column > limits.max_columns:
                raise _too_wide(source, number, column, limits.max_columns)
            if column > len(values):
                values.extend([""] * (column - len(values)))
            values[column - 1] = _openpyxl_value(cell["value"])
        yield number, values
        expected = number + 1


def _openpyxl_value(value: Any) -> Any:
    """A cell as calamine gives it: numbers as float, midnight datetimes as dates, empty as ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()
    return value


def _parquet_rows(path: Path, name: str) -> Iterator[Row]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:
        raise TabularError(f"无法读取 Parquet 文件 {name}", f"cannot read parquet {name}: {exc}") from exc
    with parquet:
        yield 1, list(parquet.schema_arrow.names)
        number = 1
        for batch in parquet.iter_batches(batch_size=PARQUET_BATCH):
            columns = [column.to_pylist() for column in batch.columns]
            for cells in zip(*columns, strict=True):
                number += 1
                yield number, list(cells)


def zip_member_name(info: zipfile.ZipInfo) -> str:
    """A member's name: UTF-8 when flag 0x800 says so, else (Windows zip tools in China) GBK.

    zipfile decodes unflagged names as cp437; undo that and try UTF-8, then GB18030.
    """
    if info.flag_bits & 0x800:
        return info.filename
    raw = info.filename.encode("cp437")
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def _zip_sheets(path: Path, name: str, depth: int) -> Iterator[Sheet]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise TabularError(f"{name} 不是有效的 ZIP 文件", f"{name} is not a zip file") from exc
    with archive, tempfile.TemporaryDirectory(prefix="xiezuo-zip-") as tmp:
        for index, info in enumerate(archive.infolist()):
            member = zip_member_name(info)
            base = member.rsplit("/", 1)[-1]
            if info.is_dir() or member.startswith("__MACOSX/") or base.startswith((".", "~$")):
                continue
            suffix = Path(base).suffix.lower()
            if suffix not in CSV_EXTENSIONS | EXCEL_EXTENSIONS | PARQUET_EXTENSIONS | {".zip"}:
                continue
            # Extract to disk, one member at a time: workbooks need seekable files and memory stays flat.
            target = Path(tmp) / f"{index}{suffix}"
            try:
                with archive.open(info) as src, target.open("wb") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
            except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError) as exc:
                raise _unreadable(f"{name}!{member}", "压缩数据", exc) from exc
            yield from _sheets(target, f"{name}!{member}", depth + 1)
            target.unlink()


def _sheets(path: Path, name: str, depth: int = 0) -> Iterator[Sheet]:
    from xiezuo.core.tabular.guard import check

    suffix = path.suffix.lower()
    if suffix not in CSV_EXTENSIONS | EXCEL_EXTENSIONS | PARQUET_EXTENSIONS | {".zip"}:
        raise TabularError(
            f"不支持的文件类型「{suffix or path.name}」：请使用 CSV、XLSX、XLS、Parquet 或 ZIP",
            f"unsupported file type {suffix or path.name!r}",
        )
    # By content, before any parser: what the file is, whatever its name, and within the limits.
    content = check(path, name, depth=depth)
    if suffix in CSV_EXTENSIONS:
        yield _csv_sheet(path, name)
    elif suffix in EXCEL_EXTENSIONS:
        yield from _excel_sheets(path, name, content)
    elif suffix in PARQUET_EXTENSIONS:
        yield Sheet(name, _parquet_rows(path, name))
    else:
        yield from _zip_sheets(path, name, depth)


def iter_sheets(path: str | Path) -> Iterator[Sheet]:
    """Every source of rows in a file, lazily; empty and hidden worksheets are skipped.

    Consume each sheet's rows before asking for the next sheet (a zip member's temporary file
    is removed when the next one is extracted).
    """
    path = Path(path)
    if not path.is_file():
        raise TabularError(f"找不到文件 {path.name}", f"file not found: {path}")
    return _sheets(path, path.name)
