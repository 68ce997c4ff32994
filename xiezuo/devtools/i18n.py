"""Keep the zh-Hans catalogue complete and its compiled .mo in step (STYLE.md, i18n).

    python -m xiezuo.devtools.i18n update    # extract msgids into xiezuo/locale (needs GNU gettext)
    python -m xiezuo.devtools.i18n compile   # .po -> .mo with polib (no msgfmt needed)
    python -m xiezuo.devtools.i18n check     # exit 1 on untranslated/fuzzy entries or a stale .mo

The .mo is committed, so a machine without gettext still shows Chinese; ``check`` (and
``tests/test_i18n.py``) hold it to the .po. After ``update``, translate the new entries in the .po,
then ``compile``.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import polib

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "xiezuo"
LANGUAGE = "zh_Hans"
# Folders under the package that makemessages skips (fnmatch patterns on paths).
IGNORE = ["node_modules", ".venv", "tests", "migrations"]
HEADER = {
    "Project-Id-Version": "xiezuo",
    "Language": LANGUAGE,
    "Language-Team": "Simplified Chinese",
    "MIME-Version": "1.0",
    "Content-Type": "text/plain; charset=UTF-8",
    "Content-Transfer-Encoding": "8bit",
    "Plural-Forms": "nplurals=1; plural=0;",
}
# Header fields that change what gettext does with the .mo (the rest is bookkeeping).
MO_HEADER_FIELDS = ("Content-Type", "Plural-Forms")
PERCENT_PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifrx%]")
BRACE_PLACEHOLDER = re.compile(r"\{[^{}]*\}")

Key = tuple[str | None, str, str | None]


def po_path(package: Path = PACKAGE, language: str = LANGUAGE) -> Path:
    return package / "locale" / language / "LC_MESSAGES" / "django.po"


def mo_path(package: Path = PACKAGE, language: str = LANGUAGE) -> Path:
    return po_path(package, language).with_suffix(".mo")


def make_messages(
    package: Path = PACKAGE, *, language: str = LANGUAGE, data_dir: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``makemessages`` in ``package`` (a copy of ``xiezuo/`` is fine), so the catalogue lands
    in that package's ``locale`` (settings.LOCALE_PATHS). Needs GNU gettext (xgettext, msgmerge)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(package.parent), env.get("PYTHONPATH")) if p)
    env["DJANGO_SETTINGS_MODULE"] = "xiezuo.settings"
    env["DEBUG"] = "1"  # development keys; makemessages touches neither keys nor the database
    if data_dir is not None:
        env["XIEZUO_DATA_DIR"] = str(data_dir)
    cmd = [sys.executable, "-m", "django", "makemessages", "-l", language, "--no-obsolete", "--no-location"]
    cmd += [f"--ignore={pattern}" for pattern in IGNORE]
    return subprocess.run(cmd, cwd=package, env=env, capture_output=True, text=True, check=False)


def normalise_header(po: Any) -> None:
    """Fixed header fields; makemessages leaves a fuzzy template header on a new catalogue."""
    po.metadata_is_fuzzy = False
    po.metadata.update(HEADER)
    po.metadata["Last-Translator"] = "xiezuo developers"
    po.metadata["PO-Revision-Date"] = po.metadata.get("POT-Creation-Date", "")
    po.header = "Chinese (Simplified) translation of xiezuo.\nThe msgids are English (STYLE.md)."


def problems(po: Any) -> list[str]:
    """Entries gettext would not use or would break on: untranslated, fuzzy, placeholders changed."""
    found: list[str] = []
    for entry in po:
        if entry.obsolete:
            continue
        if "fuzzy" in entry.flags:
            found.append(f"fuzzy: {entry.msgid!r}")
            continue
        if not entry.translated():
            found.append(f"untranslated: {entry.msgid!r}")
            continue
        texts = [entry.msgstr] if not entry.msgid_plural else list(entry.msgstr_plural.values())
        for pattern, flag in (
            (PERCENT_PLACEHOLDER, "python-format"),
            (BRACE_PLACEHOLDER, "python-brace-format"),
        ):
            if flag not in entry.flags:
                continue
            wanted = set(pattern.findall(entry.msgid))
            for text in texts:
                if set(pattern.findall(text)) != wanted:
                    found.append(f"placeholders differ: {entry.msgid!r} -> {text!r}")
    return found


def catalogue(entries: Any) -> dict[Key, tuple[str, ...]]:
    """What gettext looks up: (context, msgid, plural msgid) -> translations. Works on .po and .mo."""
    out: dict[Key, tuple[str, ...]] = {}
    for entry in entries:
        if not entry.msgid or getattr(entry, "obsolete", False) or "fuzzy" in entry.flags:
            continue
        if entry.msgid_plural:
            forms = tuple(entry.msgstr_plural[k] for k in sorted(entry.msgstr_plural, key=int))
        else:
            forms = (entry.msgstr,)
        if all(forms):
            out[(entry.msgctxt or None, entry.msgid, entry.msgid_plural or None)] = forms
    return out


def mo_differences(po_file: Path, mo_file: Path) -> list[str]:
    """How the compiled .mo differs from what compiling the .po would give (empty: in step)."""
    if not mo_file.exists():
        return [f"{mo_file} is missing"]
    po, mo = polib.pofile(str(po_file)), polib.mofile(str(mo_file))
    found = [
        f"header {name}: .po {po.metadata.get(name)!r}, .mo {mo.metadata.get(name)!r}"
        for name in MO_HEADER_FIELDS
        if po.metadata.get(name) != mo.metadata.get(name)
    ]
    want, have = catalogue(po), catalogue(mo)
    found += [f"missing from .mo: {key[1]!r}" for key in want.keys() - have.keys()]
    found += [f"only in .mo: {key[1]!r}" for key in have.keys() - want.keys()]
    found += [
        f"differs: {key[1]!r}: .po {want[key]!r}, .mo {have[key]!r}"
        for key in want.keys() & have.keys()
        if want[key] != have[key]
    ]
    return sorted(found)


def compile_catalogue(po_file: Path, mo_file: Path) -> None:
    polib.pofile(str(po_file)).save_as_mofile(str(mo_file))


def _update() -> int:
    proc = make_messages()
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    if proc.returncode != 0:
        return proc.returncode
    path = po_path()
    po = polib.pofile(str(path), wrapwidth=79)
    normalise_header(po)
    po.save(str(path))
    todo = problems(po)
    print(f"{path.relative_to(ROOT)}: {len(po)} msgids, {len(todo)} to translate or fix")
    for line in todo:
        print("  " + line)
    return 0


def _compile() -> int:
    compile_catalogue(po_path(), mo_path())
    print(f"wrote {mo_path().relative_to(ROOT)}")
    return 0


def _check() -> int:
    po = polib.pofile(str(po_path()))
    found = problems(po)
    found += [
        f".mo out of step ({line}); run: python -m xiezuo.devtools.i18n compile"
        for line in mo_differences(po_path(), mo_path())
    ]
    for line in found:
        print(line)
    print(f"{po_path().relative_to(ROOT)}: {len(po)} msgids, {len(found)} problems")
    return 1 if found else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m xiezuo.devtools.i18n", description="zh-Hans catalogue: update, compile, check"
    )
    parser.add_argument("command", choices=["update", "compile", "check"])
    args = parser.parse_args(argv)
    return {"update": _update, "compile": _compile, "check": _check}[args.command]()


if __name__ == "__main__":
    raise SystemExit(main())
