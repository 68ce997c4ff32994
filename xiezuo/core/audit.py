"""The audit service (DESIGN.md D10): every write records its change in the same transaction."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models

from xiezuo.core.models import AuditEntry

# Fields never written to the log in clear (D3); they appear as "[hmac:…]" references.
PERSONAL_FIELDS = frozenset({"id_number", "name", "phone", "id_cipher", "name_cipher", "phone_cipher"})


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dt.date | dt.datetime | decimal.Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The concrete field values of a model instance, for diffing before and after a write."""
    names = list(fields) if fields is not None else [f.attname for f in obj._meta.concrete_fields]
    return {name: _plain(getattr(obj, name)) for name in names}


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Changed fields only, as ``{field: [old, new]}``; personal fields masked.

    >>> diff({"a": 1, "b": 2, "name": "张三"}, {"a": 1, "b": 3, "name": "李四"})
    {'b': [2, 3], 'name': ['[personal]', '[personal]']}
    """
    out: dict[str, list[Any]] = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old != new:
            out[key] = ["[personal]", "[personal]"] if key in PERSONAL_FIELDS else [old, new]
    return out


def record(
    *,
    actor: Any,
    action: str,
    object_type: str,
    object_id: Any = "",
    object_repr: str = "",
    region_code: int | None = None,
    changes: Mapping[str, Any] | None = None,
    batch: Mapping[str, Any] | None = None,
    via: str = "web",
) -> AuditEntry:
    """Write one audit entry. Call inside the transaction of the write it describes."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        actor=user,
        actor_name=user.username if user is not None else (actor if isinstance(actor, str) else "system"),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        object_repr=object_repr[:200],
        region_code=region_code,
        changes=dict(changes or {}),
        batch=dict(batch or {}),
        via=via,
    )
