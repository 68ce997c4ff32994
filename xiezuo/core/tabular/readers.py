"""Readers: every supported file as a stream of sheets, each a lazy stream of numbered rows.

``iter_sheets(path)`` yields one :class:`Sheet` per source — a CSV, a worksheet of an XLSX/XLS
workbook, a Parquet file, each of those inside a ZIP — named ``file!sheet``. Rows come as
``(row_number, cells)`` with the 1-based row number Excel shows, lazily, so memory stays flat
(calamine holds one worksheet's cells in its own Rust memory while that sheet is read).
"""

from __future__ import annotations

import codecs
import csv
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "CSV_EXTENSIONS",
    "EXCEL_EXTENSIONS",
    "PARQUET_EXTENSIONS",
    "Row",
    "Sheet",
    "TabularError",
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


def _csv_rows(path: Path, encoding: str, delimiter: str, name: str) -> Iterator[Row]:
    number = 0
    with path.open(encoding=encoding, errors="strict", newline="") as text:
        try:
            # Row numbers count records, as Excel shows them (a cell with a line break stays one row).
            for number, cells in enumerate(csv.reader(text, delimiter=delimiter), start=1):
                yield number, cells
        except UnicodeDecodeError as exc:
            raise TabularError(
                f"{name} 第{number + 1}行附近的文字编码无法识别，请另存为 UTF-8 或 GBK 编码的 CSV",
                f"{name}: cannot decode text near row {number + 1} as {encoding}",
            ) from exc


def _csv_sheet(path: Path, name: str) -> Sheet:
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    encoding = detect_encoding(head)
    sample = codecs.getincrementaldecoder(encoding)("replace").decode(head, final=False)
    delimiter = _sniff_delimiter(sample)
    return Sheet(name, _csv_rows(path, encoding, delimiter, name), encoding=encoding)


def _excel_sheets(path: Path, name: str) -> Iterator[Sheet]:
    from python_calamine import CalamineError, CalamineWorkbook

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
            sheet = workbook.get_sheet_by_name(meta.name)
            if sheet.start is None:
                continue
            merged = [((r0 + 1, c0), (r1 + 1, c1)) for (r0, c0), (r1, c1) in sheet.merged_cell_ranges or []]
            yield Sheet(f"{name}!{meta.name}", _calamine_rows(sheet), merged)


def _calamine_rows(sheet: Any) -> Iterator[Row]:
    # iter_rows starts at the sheet's first row but at its first used column: pad the columns
    # back so positions match the letters Excel shows.
    pad = [""] * sheet.start[1]
    for index, cells in enumerate(sheet.iter_rows()):
        yield index + 1, pad + cells if pad else cells


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


def _zip_sheets(path: Path, name: str) -> Iterator[Sheet]:
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
            with archive.open(info) as src, target.open("wb") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
            yield from _sheets(target, f"{name}!{member}")
            target.unlink()


def _sheets(path: Path, name: str) -> Iterator[Sheet]:
    suffix = path.suffix.lower()
    if suffix in CSV_EXTENSIONS:
        yield _csv_sheet(path, name)
    elif suffix in EXCEL_EXTENSIONS:
        yield from _excel_sheets(path, name)
    elif suffix in PARQUET_EXTENSIONS:
        yield Sheet(name, _parquet_rows(path, name))
    elif suffix == ".zip":
        yield from _zip_sheets(path, name)
    else:
        raise TabularError(
            f"不支持的文件类型「{suffix or path.name}」：请使用 CSV、XLSX、XLS、Parquet 或 ZIP",
            f"unsupported file type {suffix or path.name!r}",
        )


def iter_sheets(path: str | Path) -> Iterator[Sheet]:
    """Every source of rows in a file, lazily; empty and hidden worksheets are skipped.

    Consume each sheet's rows before asking for the next sheet (a zip member's temporary file
    is removed when the next one is extracted).
    """
    path = Path(path)
    if not path.is_file():
        raise TabularError(f"找不到文件 {path.name}", f"file not found: {path}")
    return _sheets(path, path.name)
