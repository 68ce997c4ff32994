"""Code lists as data (DESIGN.md D6): load the versioned YAML files, and one lookup for all.

``lookup("poverty_cause", "因病致贫")`` finds code "1" through its alias; imports, forms and the
API all resolve values through ``lookup``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction

from xiezuo.core.models import Code, CodeList

FILES = sorted((Path(__file__).resolve().parent / "codes").glob("*.yaml"))


@dataclass(frozen=True)
class CodeEntry:
    code: str
    zh: str
    en: str
    aliases: tuple[str, ...]
    valid_from: int | None
    valid_to: int | None

    def label(self, language: str = "zh-hans") -> str:
        return self.en if language.startswith("en") else self.zh


def _norm(text: str) -> str:
    return "".join(str(text).split()).lower()


def read_files(files: list[Path] = FILES) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for path in files:
        for key, spec in yaml.safe_load(path.read_text(encoding="utf-8")).items():
            if key in out:
                raise ValueError(f"code list {key} defined twice ({path.name})")
            out[key] = spec
    return out


def load_code_lists() -> dict[str, int]:
    """Create or update every list from the files; returns codes written per list. Idempotent."""
    written: dict[str, int] = {}
    with transaction.atomic():
        for key, spec in read_files().items():
            zh, en = spec["name"]
            cl, _ = CodeList.objects.update_or_create(
                key=key,
                defaults={
                    "name_zh": zh,
                    "name_en": en,
                    "version": spec["version"],
                    "source": spec.get("source", ""),
                },
            )
            n = 0
            for sort, (code, czh, cen, aliases, vfrom, vto) in enumerate(spec["codes"]):
                defaults = {
                    "zh": czh,
                    "en": cen,
                    "aliases": list(aliases),
                    "valid_from": vfrom,
                    "valid_to": vto,
                    "sort": sort,
                }
                obj, created = Code.objects.get_or_create(code_list=cl, code=str(code), defaults=defaults)
                if not created and any(getattr(obj, k) != v for k, v in defaults.items()):
                    for k, v in defaults.items():
                        setattr(obj, k, v)
                    obj.save()
                    n += 1
                n += int(created)
            written[key] = n
    clear_cache()
    return written


@lru_cache(maxsize=64)
def entries(list_key: str) -> tuple[CodeEntry, ...]:
    """All codes of a list, from the database (falling back to the files before they are loaded)."""
    rows = list(Code.objects.filter(code_list__key=list_key).order_by("sort", "code"))
    if rows:
        return tuple(CodeEntry(r.code, r.zh, r.en, tuple(r.aliases), r.valid_from, r.valid_to) for r in rows)
    spec = read_files().get(list_key)
    if spec is None:
        raise KeyError(f"unknown code list {list_key!r}")
    return tuple(CodeEntry(str(c), zh, en, tuple(al), vf, vt) for c, zh, en, al, vf, vt in spec["codes"])


@lru_cache(maxsize=64)
def _index(list_key: str) -> dict[str, CodeEntry]:
    index: dict[str, CodeEntry] = {}
    for e in entries(list_key):
        for text in (e.en, *e.aliases, e.zh, e.code):  # later keys win: code beats labels
            index[_norm(text)] = e
    return index


def lookup(list_key: str, value: object) -> CodeEntry | None:
    """Resolve a code, a Chinese or English label or an alias to the code entry; None if unknown."""
    if value is None:
        return None
    return _index(list_key).get(_norm(str(value)))


def label(list_key: str, code: str, language: str = "zh-hans") -> str:
    """Display label of a stored code; the code itself when it is not in the list."""
    entry = lookup(list_key, code)
    return entry.label(language) if entry else code


def clear_cache() -> None:
    entries.cache_clear()
    _index.cache_clear()
