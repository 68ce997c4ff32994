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

import struct
import zipfile
from pathlib import Path
from typing import IO

from xiezuo.core.tabular.limits import Limits
from xiezuo.core.tabular.readers import TabularError
from xiezuo.core.tabular.xlsxscan import (
    Content,
    Part,
    SheetScan,
    corrupt,
    inflate,
    mb,
    refuse,
    scan_xlsx,
    small_member,
)

__all__ = ["Content", "Part", "SheetScan", "check"]

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


def check(path: Path, name: str, *, depth: int = 0, limits: Limits | None = None) -> Content:
    """The content of ``path`` (shown to the clerk as ``name``), or ``TabularError`` if it may not be read."""
    limits = limits or Limits.from_env()
    size = path.stat().st_size
    if size > limits.max_file_mb << 20:
        raise refuse(
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
    return refuse(
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
    raise refuse(
        f"{name} 的内容是{zh}，与扩展名 {suffix} 不符：请改正扩展名后再上传",
        f"{name} holds {en}, which does not match its extension "
        f"{suffix}: correct the extension and upload again",
    )


def _macro(name: str) -> TabularError:
    return refuse(
        f"{name} 含有宏（VBA 代码或宏表），为安全起见不予导入："
        "请在 Excel 中另存为不含宏的 .xlsx 工作簿后再上传",
        f"{name} contains macros (VBA code or macro sheets) and is not imported: "
        "save it as a macro-free .xlsx workbook and upload again",
    )


# --- zip containers ---------------------------------------------------------------------------


def _zip_content(path: Path, name: str, depth: int, limits: Limits) -> Content:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        raise corrupt(name, "不是有效的 ZIP 结构", f"not a valid zip structure ({exc})") from exc
    with archive, path.open("rb") as fh:
        infos = archive.infolist()
        starts = _zip_limits(name, infos, fh, archive.start_dir, limits)
        names = {i.filename for i in infos}
        lower = {n.lower() for n in names}
        if "[Content_Types].xml" in names:
            types = small_member(archive, "[Content_Types].xml", name).lower()
            if any(m in types for m in _MACRO_MARKERS) or any(
                n.endswith("vbaproject.bin") or "/macrosheets/" in n for n in lower
            ):
                raise _macro(name)
            if b"sheet.binary" in types or "xl/workbook.bin" in lower:
                raise refuse(
                    f"{name} 是 Excel 二进制工作簿（.xlsb），不能导入：请在 Excel 中另存为 .xlsx 后再上传",
                    f"{name} is an Excel binary workbook (.xlsb): save it as .xlsx and upload again",
                )
            if b"spreadsheetml.sheet.main" in types or b"spreadsheetml.template.main" in types:
                return scan_xlsx(name, archive, infos, starts, fh, limits)
            if b"wordprocessingml" in types:
                raise _not_spreadsheet(name, "Word 文档", "a Word document")
            if b"presentationml" in types:
                raise _not_spreadsheet(name, "PowerPoint 演示文稿", "a PowerPoint presentation")
            raise _not_spreadsheet(
                name, "Office 文档（不是 Excel 工作簿）", "an Office document, not a workbook"
            )
        if "mimetype" in names:
            mimetype = small_member(archive, "mimetype", name)
            if b"opendocument.spreadsheet" not in mimetype:
                raise _not_spreadsheet(
                    name, "OpenDocument 文档（不是表格）", "an OpenDocument file, not a spreadsheet"
                )
            if any(n.startswith(("basic/", "scripts/")) for n in lower):
                raise _macro(name)
            for info in infos:
                for _ in inflate(fh, info, starts[info.filename], name):
                    pass
            return Content("ods")
        if depth >= limits.max_zip_depth:
            raise refuse(
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
        raise refuse(
            f"{name} 含有 {len(infos):,} 个文件，超过上限 {limits.max_members:,} 个",
            f"{name} holds {len(infos):,} entries, more than the limit of {limits.max_members:,}",
        )
    total = sum(i.file_size for i in infos)
    if total > limits.max_unzipped_mb << 20:
        raise refuse(
            f"{name} 解压后共 {mb(total)}，超过上限 {limits.max_unzipped_mb:,} MB（可能是压缩炸弹）",
            f"{name} unpacks to {mb(total)}, more than the "
            f"limit of {limits.max_unzipped_mb:,} MB (a zip bomb?)",
        )
    starts: dict[str, int] = {}
    previous_end = 0
    for info in sorted(infos, key=lambda i: i.header_offset):
        member = info.filename
        if info.flag_bits & 0x1:
            raise refuse(f"{name} 中的「{member}」已加密，无法读取", f"{name}: entry {member!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or (
            info.extract_version > zipfile.MAX_EXTRACT_VERSION
        ):
            raise refuse(
                f"{name} 中的「{member}」使用了不支持的压缩方式，请用常规 ZIP 压缩后再上传",
                f"{name}: entry {member!r} uses an unsupported compression method",
            )
        if info.file_size > 1 << 20 and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            raise refuse(
                f"{name} 中的「{member}」压缩比为 {ratio:,}:1，"
                f"超过上限 {limits.max_ratio}:1（可能是压缩炸弹）",
                f"{name}: entry {member!r} has a compression ratio of {ratio:,}:1, "
                f"above the limit of {limits.max_ratio}:1 (a zip bomb?)",
            )
        if info.header_offset < previous_end:
            raise corrupt(name, "压缩包中的文件相互重叠", "overlapping zip entries")
        fh.seek(info.header_offset)
        header = fh.read(30)
        if len(header) < 30 or header[:4] != b"PK\x03\x04":
            raise corrupt(name, f"「{member}」的文件头无效", f"bad local header of {member!r}")
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
        if fh.read(name_len) != info.orig_filename.encode(encoding, "replace"):
            raise corrupt(
                name,
                f"「{member}」的文件头与目录不符",
                f"local header of {member!r} differs from the directory",
            )
        starts[member] = info.header_offset + 30 + name_len + extra_len
        previous_end = starts[member] + info.compress_size
        if previous_end > end:
            raise corrupt(name, f"「{member}」超出了压缩包的范围", f"entry {member!r} runs past the archive")
    return starts


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
        raise corrupt(name, "Parquet 结构无效", f"invalid parquet ({exc})") from exc
    if meta.num_columns > limits.max_columns:
        raise refuse(
            f"{name} 有 {meta.num_columns:,} 列，超过上限 {limits.max_columns:,} 列",
            f"{name} has {meta.num_columns:,} columns, more than the limit of {limits.max_columns:,}",
        )
    if meta.num_rows > limits.max_rows:
        raise refuse(
            f"{name} 有 {meta.num_rows:,} 行，超过上限 {limits.max_rows:,} 行",
            f"{name} has {meta.num_rows:,} rows, more than the limit of {limits.max_rows:,}",
        )
    for index in range(meta.num_row_groups):
        size = meta.row_group(index).total_byte_size
        if size > limits.max_unzipped_mb << 20:
            raise refuse(
                f"{name} 的第 {index + 1} 个行组解压后有 {mb(size)}，超过上限 {limits.max_unzipped_mb:,} MB",
                f"{name}: row group {index + 1} unpacks to "
                f"{mb(size)}, more than {limits.max_unzipped_mb:,} MB",
            )
