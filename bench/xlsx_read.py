"""Reading a large registry workbook through the tabular reader (issue 21 item 5, ADR 0011).

The synthetic registry CSV (``xiezuo synth registry --format csv``, cached under ``--cache-dir``)
is written as an xlsx the way Excel and WPS write one (text in a shared-strings table, numbers
as numbers, a dimension), then read by ``xiezuo.core.tabular.parse`` with the registry's spec,
every row parsed, each route in a process of its own:

- ``streamed``: the defaults: the content check, then a sheet of more than
  ``XIEZUO_UPLOAD_INMEMORY_CELLS`` cells read row by row (openpyxl's parser);
- ``calamine``: the same file with the in-memory threshold lifted, calamine holding the sheet
  whole (the reader before ADR 0011).

Peak memory is the process's ``ru_maxrss``; the check's time is given apart from the whole read.

    .venv/bin/python bench/xlsx_read.py                                   # 1 M rows, both routes
    .venv/bin/python bench/xlsx_read.py --rows 100000 --routes streamed --no-write
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
NUMBER = re.compile(r"^-?[1-9][0-9]{0,8}$")

_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override '
    'PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType='
    '"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override '
    'PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'spreadsheetml.sharedStrings+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
    'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships"><sheets><sheet name="花名册" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
    'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship '
    'Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)


def _letters(index: int) -> str:
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(65 + rest) + out
    return out


def csv_to_xlsx(source: Path, target: Path) -> dict[str, int]:
    """The CSV as an xlsx with a shared-strings table, as Excel writes one."""
    strings: dict[str, int] = {}
    with source.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    width = max(len(r) for r in rows)
    letters = [_letters(i) for i in range(width)]
    tmp = target.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as out:
            out.write(
                '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                f'spreadsheetml/2006/main"><dimension ref="A1:{letters[-1]}{len(rows)}"/><sheetData>'.encode()
            )
            buf: list[str] = []
            for number, cells in enumerate(rows, start=1):
                parts = [f'<row r="{number}">']
                for position, value in enumerate(cells):
                    if value == "":
                        continue
                    ref = f"{letters[position]}{number}"
                    if NUMBER.match(value):
                        parts.append(f'<c r="{ref}"><v>{value}</v></c>')
                    else:
                        index = strings.setdefault(value, len(strings))
                        parts.append(f'<c r="{ref}" t="s"><v>{index}</v></c>')
                parts.append("</row>")
                buf.append("".join(parts))
                if len(buf) >= 2000:
                    out.write("".join(buf).encode())
                    buf = []
            out.write("".join(buf).encode())
            out.write(b"</sheetData></worksheet>")
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as out:
            out.write(
                '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
                f'spreadsheetml/2006/main" count="{len(strings)}" uniqueCount="{len(strings)}">'.encode()
            )
            chunk: list[str] = []
            for text in strings:
                chunk.append(f"<si><t>{escape(text)}</t></si>")
                if len(chunk) >= 10000:
                    out.write("".join(chunk).encode())
                    chunk = []
            out.write("".join(chunk).encode())
            out.write(b"</sst>")
        z.writestr("[Content_Types].xml", _TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
    tmp.rename(target)
    with zipfile.ZipFile(target) as z:
        sheet = z.getinfo("xl/worksheets/sheet1.xml")
        return {
            "rows": len(rows),
            "columns": width,
            "shared_strings": len(strings),
            "sheet_xml_bytes": sheet.file_size,
            "file_bytes": target.stat().st_size,
        }


def child(path: str) -> None:
    """One read in this process: the content check, then every row parsed."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xiezuo.settings")
    django.setup()
    from xiezuo.core.tabular import guard, parse
    from xiezuo.registry.columns import REGISTRY

    start = time.perf_counter()
    content = guard.check(Path(path), Path(path).name)
    checked = time.perf_counter() - start
    rows, summary = parse(path, REGISTRY)
    for _ in rows:
        pass
    total = time.perf_counter() - start
    print(
        json.dumps(
            {
                "check_s": round(checked, 1),
                "total_s": round(total, 1),
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                "read": summary.read,
                "accepted": summary.accepted,
                "rejected": summary.rejected,
                "streamed": content.streamed(guard.Limits.from_env()),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--routes", default="streamed,calamine")
    parser.add_argument("--cache-dir", default="/tmp")
    parser.add_argument("--results", default=str(ROOT / "bench" / "results" / "xlsx_read.md"))
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    cache = Path(args.cache_dir) / f"xiezuo-xlsx-bench-{args.rows}"
    cache.mkdir(parents=True, exist_ok=True)
    source = cache / "registry.csv"
    # The code lists the spec resolves labels with live in the database: a migrated SQLite file.
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": f"sqlite:///{cache / 'codes.sqlite3'}"}
    if not (cache / "codes.sqlite3").exists():
        subprocess.run([str(ROOT / ".venv/bin/xiezuo"), "manage", "migrate", "-v", "0"], check=True, env=env)
    if not source.exists():
        synth = [str(ROOT / ".venv/bin/xiezuo"), "synth", "registry", "--people", str(args.rows)]
        synth += ["--seed", "1", "--format", "csv", "--out", str(cache)]
        subprocess.run(synth, check=True, env=env)
    target = cache / "registry.xlsx"
    info_file = cache / "xlsx.json"
    if not target.exists() or not info_file.exists():
        info_file.write_text(json.dumps(csv_to_xlsx(source, target)))
    info = json.loads(info_file.read_text())
    results = {}
    for route in args.routes.split(","):
        route_env = dict(env)
        if route == "calamine":
            route_env["XIEZUO_UPLOAD_INMEMORY_CELLS"] = str(10**12)
        done = subprocess.run(
            [PY, __file__, "--child", str(target)], env=route_env, capture_output=True, text=True, cwd=ROOT
        )
        if done.returncode:
            results[route] = {"error": f"exit {done.returncode}: {done.stderr.strip()[-300:]}"}
        else:
            results[route] = json.loads(done.stdout.strip().splitlines()[-1])
        print(route, results[route], flush=True)
    command = " ".join(["bench/xlsx_read.py"] + [a for a in sys.argv[1:]])
    lines = [
        "# Reading a large registry workbook (bench/xlsx_read.py)",
        "",
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; machine: {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; load average before: "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} (cores shared with other work)",
        f"- Command: `.venv/bin/python {command}`",
        f"- File: {info['rows'] - 1:,} data rows × {info['columns']} columns, "
        f"{info['shared_strings']:,} shared strings, sheet XML {info['sheet_xml_bytes'] / 1e6:,.0f} MB, "
        f"file {info['file_bytes'] / 1e6:,.1f} MB",
        "",
        "| route | content check (s) | whole read (s) | peak RSS (MB) | read | accepted | rejected |",
        "|---|---|---|---|---|---|---|",
    ]
    for route, r in results.items():
        if "error" in r:
            lines.append(f"| {route} | – | – | – | {r['error']} | | |")
        else:
            lines.append(
                f"| {route} | {r['check_s']} | {r['total_s']} | {r['peak_rss_mb']:,} | {r['read']:,} "
                f"| {r['accepted']:,} | {r['rejected']:,} |"
            )
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        Path(args.results).write_text(text)


if __name__ == "__main__":
    main()
