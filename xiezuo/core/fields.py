"""Model fields shared by the apps."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper


class ByteOrderCharField(models.CharField):
    """Text that is a key, never words: keyed hashes (hex) and record numbers such as 户编号.

    On PostgreSQL the column is ``COLLATE "C"``: compared and sorted byte by byte, so index builds
    and sorts skip the locale's collation (building the unique index of 3 M keyed hashes took
    1.9 s instead of 5.9 s under C.UTF-8; a zh_CN.UTF-8 database is slower still), and the order
    is the same on every server. SQLite compares bytes already (BINARY)."""

    def db_parameters(self, connection: BaseDatabaseWrapper) -> dict[str, Any]:
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params
