"""Whether this database holds demo data (every page then shows a 演示数据 banner)."""

from __future__ import annotations

from django.db import DatabaseError

from xiezuo.core.models import Setting

DEMO_KEY = "demo_database"
_cache: dict[str, bool] = {}


def is_demo_database() -> bool:
    if "demo" not in _cache:
        try:
            _cache["demo"] = Setting.objects.filter(key=DEMO_KEY, value="1").exists()
        except DatabaseError:
            return False
    return _cache["demo"]


def mark_demo_database() -> None:
    Setting.objects.update_or_create(key=DEMO_KEY, defaults={"value": "1"})
    _cache.clear()


def forget() -> None:
    _cache.clear()
