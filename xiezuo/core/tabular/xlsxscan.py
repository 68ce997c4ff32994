"""Measuring an xlsx from its zip, before a parser reads it (ADR 0011).

Every entry is inflated once by our own loop, its declared size a hard bound and its CRC checked;
the pass counts the shared strings and measures each worksheet's real extent (the rows and
columns its valued cells occupy, whatever its ``<dimension>`` claims), its rows' sizes and its
merged ranges, and reads the workbook's list of sheets. Used by :mod:`xiezuo.core.tabular.guard`.
"""

from __future__ import annotations

import itertools
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from typing import IO

from xiezuo.core.tabular.limits import MAX_ROW_XML_BYTES, MAX_TAG_BYTES, Limits
from xiezuo.core.tabular.readers import TabularError

__all__ = [
    "Content",
    "Part",
    "SheetScan",
    "column_index",
    "column_letters",
    "corrupt",
    "inflate",
    "mb",
    "refuse",
    "scan_xlsx",
    "small_member",
]

CHUNK = 1 << 20

_P = rb"(?:[A-Za-z_][\w.-]*:)?"  # an optional namespace prefix
_CELL = re.compile(rb"<" + _P + rb"c[\s/>]")
_CELL_REF = re.compile(
    rb"<" + _P + rb"c\s[^>]*?(?<![\w:.-])r\s*=\s*[\"']\$?([A-Za-z]+)\$?([0-9]+)[\"'][^>]*?(/?)>"
)
_ROW = re.compile(rb"<" + _P + rb"row[\s/>]")
_ROW_REF = re.compile(rb"<" + _P + rb"row\s[^>]*?(?<![\w:.-])r\s*=\s*[\"']([0-9]+)[\"']")
_TOKEN = re.compile(rb"<" + _P + rb"(row|c)[\s/>]")
_DIMENSION = re.compile(rb"<" + _P + rb"dimension\s[^>]*?ref\s*=\s*[\"']([^\"']{1,40})[\"']")
_MERGE = re.compile(
    rb"<"
    + _P
    + rb"mergeCell\s[^>]*?ref\s*=\s*[\"']\$?([A-Z]{1,3})\$?([0-9]{1,7}):\$?([A-Z]{1,3})\$?([0-9]{1,7})[\"']"
)
_SHARED = re.compile(rb"<" + _P + rb"si[\s/>]")
_SST_COUNT = re.compile(rb"<" + _P + rb"sst\s[^>]*?uniqueCount\s*=\s*[\"']([0-9]+)[\"']")


def mb(n: int) -> str:
    """Bytes as megabytes for a message: 1,536 MB."""
    return f"{n / (1 << 20):,.0f} MB"


def column_index(letters: str) -> int:
    """1-based column number of column letters: ``column_index("XFD") == 16384``."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def column_letters(index: int) -> str:
    """Column letters of a 1-based column number: ``column_letters(16384) == "XFD"``."""
    out = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        out = chr(65 + rest) + out
    return out


@dataclass
class SheetScan:
    """A worksheet's real extent, measured from its XML."""

    member: str
    measured: bool = True
    """False for a worksheet too large to be read whole: it is streamed, its limits checked row by row."""
    max_row: int = 0
    max_column: int = 0
    cells: int = 0
    dimension: str = ""
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    """As calamine gives them: ((first_row, first_col), (last_row, last_col)), 0-based."""

    @property
    def area(self) -> int:
        return self.max_row * self.max_column


@dataclass(frozen=True)
class Part:
    """A worksheet as the workbook lists it."""

    name: str
    member: str
    visible: bool


@dataclass
class Content:
    """What a file holds: ``kind`` is xlsx, xls, ods, zip, parquet or text."""

    kind: str
    sheets: dict[str, SheetScan] = field(default_factory=dict)
    """xlsx: worksheet name → its scan (the worksheets the workbook lists)."""
    scans: list[SheetScan] = field(default_factory=list)
    """xlsx: every entry that holds cells, listed by the workbook or not."""
    shared_strings: int = 0
    parts: list[Part] = field(default_factory=list)
    """xlsx: the worksheets in the workbook's order (empty if its structure was not understood)."""
    strings_member: str | None = None
    styles_member: str | None = None
    date1904: bool = False

    def streamed(self, limits: Limits) -> bool:
        """Whether an xlsx is too large to be held whole by calamine and is streamed instead."""
        return any(not s.measured or s.area > limits.inmemory_cells for s in self.scans)


def refuse(zh: str, en: str) -> TabularError:
    return TabularError(zh, en)


def corrupt(name: str, why_zh: str, why_en: str) -> TabularError:
    return refuse(f"{name} 已损坏或被篡改：{why_zh}", f"{name} is damaged or tampered with: {why_en}")


def small_member(archive: zipfile.ZipFile, member: str, name: str) -> bytes:
    info = archive.getinfo(member)
    if info.file_size > 4 << 20:
        raise corrupt(name, f"「{member}」异常庞大", f"{member!r} is too large")
    try:
        return archive.read(info)  # zipfile stops at the declared size and checks the CRC
    except (zipfile.BadZipFile, zlib.error, OSError, NotImplementedError) as exc:
        raise corrupt(name, f"「{member}」无法解压", f"cannot inflate {member!r}") from exc


def inflate(fh: IO[bytes], info: zipfile.ZipInfo, start: int, name: str) -> Iterator[bytes]:
    """An entry's content in chunks, inflated with its declared size as a hard bound and its CRC checked."""
    member = info.filename
    fh.seek(start)
    left = info.compress_size
    produced = 0
    crc = 0
    inflater = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    pending = b""
    while True:
        if not pending:
            if not left:
                break
            pending = fh.read(min(left, 1 << 16))
            if not pending:
                break
            left -= len(pending)
        if inflater is None:
            out, pending = pending, b""
        else:
            try:
                out = inflater.decompress(pending, CHUNK)
            except zlib.error as exc:
                raise corrupt(name, f"「{member}」无法解压", f"cannot inflate {member!r}") from exc
            pending = inflater.unconsumed_tail
        produced += len(out)
        if produced > info.file_size:
            raise corrupt(
                name, f"「{member}」解压后超过其声明的大小", f"{member!r} inflates past its declared size"
            )
        if out:
            crc = zlib.crc32(out, crc)
            yield out
        if inflater is not None and inflater.eof:
            break
    if produced != info.file_size or (inflater is not None and not inflater.eof) or crc != info.CRC:
        raise corrupt(
            name, f"「{member}」的内容与记录的大小或校验和不符", f"{member!r} fails its size or CRC check"
        )


# --- xlsx -------------------------------------------------------------------------------------


def scan_xlsx(
    name: str,
    archive: zipfile.ZipFile,
    infos: list[zipfile.ZipInfo],
    starts: dict[str, int],
    fh: IO[bytes],
    limits: Limits,
) -> Content:
    content = Content("xlsx")
    scans: dict[str, SheetScan] = {}
    for info in infos:
        if info.is_dir():
            continue
        scan, strings = _scan_member(info, inflate(fh, info, starts[info.filename], name), name, limits)
        if scan is not None:
            scans[info.filename] = scan
        content.shared_strings += strings
    if content.shared_strings > limits.max_shared_strings:
        raise refuse(
            f"{name} 的共享字符串表有 {content.shared_strings:,} 项，"
            f"超过上限 {limits.max_shared_strings:,} 项",
            f"{name} has {content.shared_strings:,} shared strings, more than the limit of "
            f"{limits.max_shared_strings:,}",
        )
    content.scans = list(scans.values())
    _workbook_parts(archive, name, content)
    for part in content.parts:
        scan = scans.get(part.member)
        if scan is not None:
            content.sheets[part.name] = scan
            _check_extent(name, part.name, scan, limits)
    listed = {s.member for s in content.sheets.values()}
    for member, scan in scans.items():  # an entry with cells the workbook does not list
        if member not in listed:
            _check_extent(name, member, scan, limits)
    return content


def _check_extent(name: str, sheet: str, scan: SheetScan, limits: Limits) -> None:
    corner = f"{column_letters(scan.max_column)}{scan.max_row}"
    if scan.max_column > limits.max_columns:
        raise refuse(
            f"{name} 的工作表「{sheet}」有内容的单元格一直到 {corner}（{scan.max_column:,} 列），"
            f"超过上限 {limits.max_columns:,} 列：请删除多余的列后再上传",
            f"{name}, sheet {sheet!r}: cells reach {corner} ({scan.max_column:,} columns), "
            f"more than the limit of {limits.max_columns:,} columns",
        )
    if scan.max_row > limits.max_rows:
        raise refuse(
            f"{name} 的工作表「{sheet}」有内容的单元格一直到第 {scan.max_row:,} 行，"
            f"超过上限 {limits.max_rows:,} 行",
            f"{name}, sheet {sheet!r}: cells reach row {scan.max_row:,}, "
            f"more than the limit of {limits.max_rows:,} rows",
        )


_SHEET_ENTRY = re.compile(rb"<" + _P + rb"sheet\s[^>]*>")
_ATTR = re.compile(rb"(?<![\w.-])([\w:.-]+)\s*=\s*[\"']([^\"']*)[\"']")


def _relationships(archive: zipfile.ZipFile, member: str, name: str) -> dict[str, tuple[str, str]]:
    """Relationship id → (type's last word, target entry) of ``member``'s relationships."""
    folder, _, base = member.rpartition("/")
    rels = f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels"
    out: dict[str, tuple[str, str]] = {}
    if rels not in archive.NameToInfo:
        return out
    for tag in re.findall(rb"<" + _P + rb"Relationship\s[^>]*>", small_member(archive, rels, name)):
        attrs = {k.decode(): _xml_text(v) for k, v in _ATTR.findall(tag)}
        if "Id" in attrs and "Target" in attrs:
            target = attrs["Target"]
            if target.startswith("/"):
                target = target.lstrip("/")
            else:
                target = posixpath.normpath(posixpath.join(folder, target))
            out[attrs["Id"]] = (attrs.get("Type", "").rsplit("/", 1)[-1], target)
    return out


def _workbook_parts(archive: zipfile.ZipFile, name: str, content: Content) -> None:
    """The worksheets, shared strings, styles and date system, from the workbook and its relationships."""
    workbook = next(
        (t for kind, t in _relationships(archive, "", name).values() if kind == "officeDocument"), None
    )
    if workbook is None or workbook not in archive.NameToInfo:
        return
    rels = _relationships(archive, workbook, name)
    for kind, target in rels.values():
        if kind == "sharedStrings":
            content.strings_member = target
        elif kind == "styles":
            content.styles_member = target
    xml = small_member(archive, workbook, name)
    content.date1904 = bool(re.search(rb"date1904\s*=\s*[\"'](?:1|true)[\"']", xml))
    for tag in _SHEET_ENTRY.findall(xml):
        attrs = {k.split(b":")[-1].decode(): _xml_text(v) for k, v in _ATTR.findall(tag)}
        kind, target = rels.get(attrs.get("id", ""), ("", ""))
        if kind == "worksheet" and target in archive.NameToInfo:
            content.parts.append(
                Part(attrs.get("name", ""), target, attrs.get("state", "visible") == "visible")
            )


def _xml_text(raw: bytes) -> str:
    return unescape(raw.decode("utf-8", "replace"))


def _scan_member(
    info: zipfile.ZipInfo, chunks: Iterator[bytes], name: str, limits: Limits
) -> tuple[SheetScan | None, int]:
    """One pass over an entry: its shared strings, and if it is a worksheet its rows' sizes, merged
    ranges and — unless it is so large that it will be streamed anyway — its cells' real extent."""
    # About 64 bytes of XML a cell: a sheet that large is streamed whatever its extent.
    scan = SheetScan(info.filename, measured=info.file_size <= limits.inmemory_cells * 64)
    strings = 0
    claimed: int | None = None
    worksheet = False
    rows_without_ref = 0
    widest_unnamed = 0  # most cells in one row, counted only when some cell has no reference
    run = 0  # cells of the current row so far, likewise
    offset = 0  # bytes before ``body``
    row_start: int | None = None
    first = True
    carry = b""
    for chunk in itertools.chain(chunks, [b""]):
        text = carry + chunk
        if chunk:
            cut = text.rfind(b"<")
            if cut < 0 or len(text) - cut > MAX_TAG_BYTES:
                cut = len(text)
            body, carry = text[:cut], text[cut:]
        else:
            body, carry = text, b""
        if first:
            m = _SST_COUNT.search(body)
            claimed = int(m.group(1)) if m else None
            m = _DIMENSION.search(body)
            scan.dimension = m.group(1).decode("ascii", "replace") if m else ""
            first = not body
        if b"si" in body:
            strings += len(_SHARED.findall(body))
        worksheet = worksheet or b"sheetData" in body
        row_positions = [m.start() for m in _ROW.finditer(body)] if b"row" in body else []
        for position in row_positions:
            if row_start is not None and offset + position - row_start > MAX_ROW_XML_BYTES:
                raise _row_too_long(name, info.filename)
            row_start = offset + position
        if row_start is not None and offset + len(body) - row_start > MAX_ROW_XML_BYTES:
            raise _row_too_long(name, info.filename)
        if b"mergeCell" in body:
            scan.merged += [
                ((int(r0) - 1, column_index(c0.decode()) - 1), (int(r1) - 1, column_index(c1.decode()) - 1))
                for c0, r0, c1, r1 in _MERGE.findall(body)
            ]
        offset += len(body)
        if not scan.measured:
            continue
        cells = len(_CELL.findall(body))
        refs = _CELL_REF.findall(body)
        scan.cells += cells
        for letters, digits, closed in set(refs):
            if closed:
                continue  # an empty cell (formatting only): calamine leaves it out of the range
            scan.max_column = max(scan.max_column, column_index(letters.decode("ascii")))
            scan.max_row = max(scan.max_row, int(digits))
        if cells != len(refs):
            # A cell without a reference sits in its row element's row, after the previous cell.
            row_refs = _ROW_REF.findall(body)
            for digits in row_refs:
                scan.max_row = max(scan.max_row, int(digits))
            rows_without_ref += len(row_positions) - len(row_refs)
            for m in _TOKEN.finditer(body):
                if m.group(1) == b"row":
                    run = 0
                else:
                    run += 1
                    widest_unnamed = max(widest_unnamed, run)
    scan.max_row += rows_without_ref
    scan.max_column += widest_unnamed
    if claimed is not None:
        strings = max(strings, claimed)
    return (scan if worksheet else None), strings


def _row_too_long(name: str, member: str) -> TabularError:
    return refuse(
        f"{name} 的「{member}」中有一行的内容超过 {mb(MAX_ROW_XML_BYTES)}，工作表结构异常",
        f"{name}: a row of {member!r} is longer than {mb(MAX_ROW_XML_BYTES)}",
    )
