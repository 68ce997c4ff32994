"""Template context shared by every page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, Any]:
    from xiezuo.core.demo import is_demo_database

    return {
        "is_demo": is_demo_database(),
        "map_approval": settings.XIEZUO_MAP_APPROVAL,
    }
