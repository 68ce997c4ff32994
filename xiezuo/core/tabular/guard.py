"""Hostile files: what a file is, by its content, and whether reading it stays within the limits.

``check(path, name)`` runs before any parser sees a file (ADR 0011). It tells the kind of the
content from its first bytes and its container's structure — never from the name — and refuses,
with a :class:`TabularError` in Chinese and English, what is not a spreadsheet of the kind the
name says, macro workbooks, zip bombs and sheets whose real extent would make a parser allocate
more than the limits allow. For an xlsx it inflates every entry once, itself, with the declared
sizes as hard bounds (an entry that inflates past its declared size, fails its CRC or overlaps
another is refused), counting the shared strings and measuring each worksheet's real extent —
the rows and columns its cells occupy, whatever its ``<dimension>`` claims — so that a parser
reading the same bytes afterwards meets no surprise.
"""

from __future__ import annotations

import itertools
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import IO

from xiezuo.core.tabular.limits import MAX_ROW_XML_BYTES, MAX_TAG_BYTES, Limits
from xiezuo.core.tabular.readers import TabularError

__all__ = ["Content", "SheetScan", "check", "column_index", "column_letters", "mb"]

CSV_SUFFIXES = frozenset({".csv", ".txt", ".tsv"})
WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".ods"})
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
SNIFF = 64 * 1024
CHUNK = 1 << 20

# Content that is no spreadsheet, recognised to say what it is.
_FOREIGN = (
    (b"%PDF", "PDF 文档", "a PDF document"),
    (b"\x89PNG", "PNG 图片", "a PNG image"),
    (b"\xff\xd8\xff", "JPEG 图片", "a JPEG image"),
    (b"GIF8", "GIF 图片", "a GIF image"),
    (b"Rar!", "RAR 压缩包", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "7z 压缩包", "a 7z archive"),
    (b"\x1f\x8b", "gzip 压缩文件", "a gzip file"),
    (b"\x7fELF", "可执行程序", "an executable program"),
    (b"MZ", "可执行程序", "an executable program"),
)
_KIND_TEXT = {
    "xlsx": ("Excel 工作簿", "an Excel workbook"),
    "xls": ("Excel 97-2003 工作簿", "an Excel 97-2003 workbook"),
    "ods": ("OpenDocument 表格", "an OpenDocument spreadsheet"),
    "zip": ("ZIP 压缩包", "a zip archive"),
    "parquet": ("Parquet 文件", "a Parquet file"),
    "text": ("文本文件", "a text file"),
}
_MACRO_MARKERS = (b"macroenabled", b"vbaproject", b"macrosheet", b"ms-excel.intlmacrosheet")

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


def _refuse(zh: str, en: str) -> TabularError:
    return TabularError(zh, en)


def check(path: Path, name: str, *, depth: int = 0, limits: Limits | None = None) -> Content:
    """The content of ``path`` (shown to the clerk as ``name``), or ``TabularError`` if it may not be read."""
    limits = limits or Limits.from_env()
    size = path.stat().st_size
    if size > limits.max_file_mb << 20:
        raise _refuse(
            f"{name} 有 {mb(size)}，超过导入文件大小上限 {limits.max_file_mb:,} MB",
            f"{name} is {mb(size)}, more than the import limit of {limits.max_file_mb:,} MB",
        )
    with path.open("rb") as fh:
        head = fh.read(SNIFF)
    suffix = Path(name.rsplit("!", 1)[-1]).suffix.lower()
    content = _content(path, name, head, depth, limits)
    _matches(name, suffix, content.kind)
    return content


def _content(path: Path, name: str, head: bytes, depth: int, limits: Limits) -> Content:
    if head.startswith(ZIP_MAGIC):
        return _zip_content(path, name, depth, limits)
    if head.startswith(OLE_MAGIC):
        _ole_content(path, name)
        return Content("xls")
    if head.startswith(b"PAR1"):
        _parquet_content(path, name, limits)
        return Content("parquet")
    for magic, zh, en in _FOREIGN:
        if head.startswith(magic) and (magic != b"MZ" or b"\0" in head):
            raise _not_spreadsheet(name, zh, en)
    if b"\0" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _not_spreadsheet(name, "二进制数据", "binary data")
    return Content("text")


def _not_spreadsheet(name: str, zh: str, en: str) -> TabularError:
    return _refuse(
        f"{name} 不是电子表格：文件内容是{zh}。请上传 XLSX、XLS、CSV、Parquet 或 ZIP 文件",
        f"{name} is not a spreadsheet: its content is {en}. Upload an XLSX, XLS, CSV, Parquet or ZIP file",
    )


def _matches(name: str, suffix: str, kind: str) -> None:
    if suffix in CSV_SUFFIXES:
        wanted = {"text"}
    elif suffix in WORKBOOK_SUFFIXES:
        wanted = {"xlsx", "xls", "ods"}
    elif suffix in (".parquet", ".pq"):
        wanted = {"parquet"}
    elif suffix == ".zip":
        wanted = {"zip"}
    else:
        return  # the reader refuses the type by its name
    if kind in wanted:
        return
    zh, en = _KIND_TEXT[kind]
    if kind == "text":
        raise _not_spreadsheet(name, "文本（不是 Excel 工作簿）", "text, not an Excel workbook")
    raise _refuse(
        f"{name} 的内容是{zh}，与扩展名 {suffix} 不符：请改正扩展名后再上传",
        f"{name} holds {en}, which does not match its extension "
        f"{suffix}: correct the extension and upload again",
    )


def _macro(name: str) -> TabularError:
    return _refuse(
        f"{name} 含有宏（VBA 代码或宏表），为安全起见不予导入："
        "请在 Excel 中另存为不含宏的 .xlsx 工作簿后再上传",
        f"{name} contains macros (VBA code or macro sheets) and is not imported: "
        "save it as a macro-free .xlsx workbook and upload again",
    )


def _corrupt(name: str, why_zh: str, why_en: str) -> TabularError:
    return _refuse(f"{name} 已损坏或被篡改：{why_zh}", f"{name} is damaged or tampered with: {why_en}")


# --- zip containers ---------------------------------------------------------------------------


def _zip_content(path: Path, name: str, depth: int, limits: Limits) -> Content:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        raise _corrupt(name, "不是有效的 ZIP 结构", f"not a valid zip structure ({exc})") from exc
    with archive, path.open("rb") as fh:
        infos = archive.infolist()
        starts = _zip_limits(name, infos, fh, archive.start_dir, limits)
        names = {i.filename for i in infos}
        lower = {n.lower() for n in names}
        if "[Content_Types].xml" in names:
            types = _small_member(archive, "[Content_Types].xml", name).lower()
            if any(m in types for m in _MACRO_MARKERS) or any(
                n.endswith("vbaproject.bin") or "/macrosheets/" in n for n in lower
            ):
                raise _macro(name)
            if b"sheet.binary" in types or "xl/workbook.bin" in lower:
                raise _refuse(
                    f"{name} 是 Excel 二进制工作簿（.xlsb），不能导入：请在 Excel 中另存为 .xlsx 后再上传",
                    f"{name} is an Excel binary workbook (.xlsb): save it as .xlsx and upload again",
                )
            if b"spreadsheetml.sheet.main" in types or b"spreadsheetml.template.main" in types:
                return _scan_xlsx(name, archive, infos, starts, fh, limits)
            if b"wordprocessingml" in types:
                raise _not_spreadsheet(name, "Word 文档", "a Word document")
            if b"presentationml" in types:
                raise _not_spreadsheet(name, "PowerPoint 演示文稿", "a PowerPoint presentation")
            raise _not_spreadsheet(
                name, "Office 文档（不是 Excel 工作簿）", "an Office document, not a workbook"
            )
        if "mimetype" in names:
            mimetype = _small_member(archive, "mimetype", name)
            if b"opendocument.spreadsheet" not in mimetype:
                raise _not_spreadsheet(
                    name, "OpenDocument 文档（不是表格）", "an OpenDocument file, not a spreadsheet"
                )
            if any(n.startswith(("basic/", "scripts/")) for n in lower):
                raise _macro(name)
            for info in infos:
                for _ in _inflate(fh, info, starts[info.filename], name):
                    pass
            return Content("ods")
        if depth >= limits.max_zip_depth:
            raise _refuse(
                f"{name} 中的压缩包嵌套超过 {limits.max_zip_depth} 层，请解压后再上传",
                f"{name}: zip archives nested deeper than "
                f"{limits.max_zip_depth} levels; unpack and upload again",
            )
        return Content("zip")


def _zip_limits(
    name: str, infos: list[zipfile.ZipInfo], fh: IO[bytes], end: int, limits: Limits
) -> dict[str, int]:
    """Refuse too many entries, too much declared content, bomb ratios, encryption, unknown
    compression and overlapping entries; the offset where each entry's data starts."""
    if len(infos) > limits.max_members:
        raise _refuse(
            f"{name} 含有 {len(infos):,} 个文件，超过上限 {limits.max_members:,} 个",
            f"{name} holds {len(infos):,} entries, more than the limit of {limits.max_members:,}",
        )
    total = sum(i.file_size for i in infos)
    if total > limits.max_unzipped_mb << 20:
        raise _refuse(
            f"{name} 解压后共 {mb(total)}，超过上限 {limits.max_unzipped_mb:,} MB（可能是压缩炸弹）",
            f"{name} unpacks to {mb(total)}, more than the "
            f"limit of {limits.max_unzipped_mb:,} MB (a zip bomb?)",
        )
    starts: dict[str, int] = {}
    previous_end = 0
    for info in sorted(infos, key=lambda i: i.header_offset):
        member = info.filename
        if info.flag_bits & 0x1:
            raise _refuse(
                f"{name} 中的「{member}」已加密，无法读取", f"{name}: entry {member!r} is encrypted"
            )
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or (
            info.extract_version > zipfile.MAX_EXTRACT_VERSION
        ):
            raise _refuse(
                f"{name} 中的「{member}」使用了不支持的压缩方式，请用常规 ZIP 压缩后再上传",
                f"{name}: entry {member!r} uses an unsupported compression method",
            )
        if info.file_size > 1 << 20 and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            raise _refuse(
                f"{name} 中的「{member}」压缩比为 {ratio:,}:1，"
                f"超过上限 {limits.max_ratio}:1（可能是压缩炸弹）",
                f"{name}: entry {member!r} has a compression ratio of {ratio:,}:1, "
                f"above the limit of {limits.max_ratio}:1 (a zip bomb?)",
            )
        if info.header_offset < previous_end:
            raise _corrupt(name, "压缩包中的文件相互重叠", "overlapping zip entries")
        fh.seek(info.header_offset)
        header = fh.read(30)
        if len(header) < 30 or header[:4] != b"PK\x03\x04":
            raise _corrupt(name, f"「{member}」的文件头无效", f"bad local header of {member!r}")
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        starts[member] = info.header_offset + 30 + name_len + extra_len
        previous_end = starts[member] + info.compress_size
        if previous_end > end:
            raise _corrupt(name, f"「{member}」超出了压缩包的范围", f"entry {member!r} runs past the archive")
    return starts


def _small_member(archive: zipfile.ZipFile, member: str, name: str) -> bytes:
    info = archive.getinfo(member)
    if info.file_size > 4 << 20:
        raise _corrupt(name, f"「{member}」异常庞大", f"{member!r} is too large")
    try:
        return archive.read(info)  # zipfile stops at the declared size and checks the CRC
    except (zipfile.BadZipFile, zlib.error, OSError, NotImplementedError) as exc:
        raise _corrupt(name, f"「{member}」无法解压", f"cannot inflate {member!r}") from exc


def _inflate(fh: IO[bytes], info: zipfile.ZipInfo, start: int, name: str) -> Iterator[bytes]:
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
                raise _corrupt(name, f"「{member}」无法解压", f"cannot inflate {member!r}") from exc
            pending = inflater.unconsumed_tail
        produced += len(out)
        if produced > info.file_size:
            raise _corrupt(
                name, f"「{member}」解压后超过其声明的大小", f"{member!r} inflates past its declared size"
            )
        if out:
            crc = zlib.crc32(out, crc)
            yield out
        if inflater is not None and inflater.eof:
            break
    if produced != info.file_size or (inflater is not None and not inflater.eof) or crc != info.CRC:
        raise _corrupt(
            name, f"「{member}」的内容与记录的大小或校验和不符", f"{member!r} fails its size or CRC check"
        )


# --- xlsx -------------------------------------------------------------------------------------


def _scan_xlsx(
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
        scan, strings = _scan_member(info, _inflate(fh, info, starts[info.filename], name), name, limits)
        if scan is not None:
            scans[info.filename] = scan
        content.shared_strings += strings
    if content.shared_strings > limits.max_shared_strings:
        raise _refuse(
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
        raise _refuse(
            f"{name} 的工作表「{sheet}」有内容的单元格一直到 {corner}（{scan.max_column:,} 列），"
            f"超过上限 {limits.max_columns:,} 列：请删除多余的列后再上传",
            f"{name}, sheet {sheet!r}: cells reach {corner} ({scan.max_column:,} columns), "
            f"more than the limit of {limits.max_columns:,} columns",
        )
    if scan.max_row > limits.max_rows:
        raise _refuse(
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
    for tag in re.findall(rb"<" + _P + rb"Relationship\s[^>]*>", _small_member(archive, rels, name)):
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
    xml = _small_member(archive, workbook, name)
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
    return _refuse(
        f"{name} 的「{member}」中有一行的内容超过 {mb(MAX_ROW_XML_BYTES)}，工作表结构异常",
        f"{name}: a row of {member!r} is longer than {mb(MAX_ROW_XML_BYTES)}",
    )


# --- other binary formats ---------------------------------------------------------------------


def _ole_content(path: Path, name: str) -> None:
    """An OLE2 compound file: an Excel 97-2003 workbook if it has a Workbook stream, without VBA."""
    workbook = ("Workbook".encode("utf-16-le"), b"B\0o\0o\0k\0\0\0")
    vba = ("_VBA_PROJECT".encode("utf-16-le"), "Macros".encode("utf-16-le"))
    found_book = found_vba = False
    tail = b""
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            text = tail + chunk
            found_book = found_book or any(w in text for w in workbook)
            found_vba = found_vba or any(v in text for v in vba)
            tail = text[-32:]
    if found_vba:
        raise _macro(name)
    if not found_book:
        raise _not_spreadsheet(name, "Office 文档（不是 Excel 工作簿）", "an Office document, not a workbook")


def _parquet_content(path: Path, name: str, limits: Limits) -> None:
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata
    except Exception as exc:
        raise _corrupt(name, "Parquet 结构无效", f"invalid parquet ({exc})") from exc
    if meta.num_columns > limits.max_columns:
        raise _refuse(
            f"{name} 有 {meta.num_columns:,} 列，超过上限 {limits.max_columns:,} 列",
            f"{name} has {meta.num_columns:,} columns, more than the limit of {limits.max_columns:,}",
        )
    if meta.num_rows > limits.max_rows:
        raise _refuse(
            f"{name} 有 {meta.num_rows:,} 行，超过上限 {limits.max_rows:,} 行",
            f"{name} has {meta.num_rows:,} rows, more than the limit of {limits.max_rows:,}",
        )
    for index in range(meta.num_row_groups):
        size = meta.row_group(index).total_byte_size
        if size > limits.max_unzipped_mb << 20:
            raise _refuse(
                f"{name} 的第 {index + 1} 个行组解压后有 {mb(size)}，超过上限 {limits.max_unzipped_mb:,} MB",
                f"{name}: row group {index + 1} unpacks to "
                f"{mb(size)}, more than {limits.max_unzipped_mb:,} MB",
            )
