"""Set-based writes of model instances for the ledger write (docs/adr/0015-ledger-writes-in-batches.md).

Rows go through ``xiezuo.core.bulk.insert_rows`` (COPY on PostgreSQL, one ``executemany`` on
SQLite) and updates through one ``executemany``: one statement per table per batch whatever its
size. Django's ``bulk_create`` / ``bulk_update`` would split a batch into statements of at most 999
parameters on SQLite, so their number would grow with the batch. Values are prepared by the
model's own fields (``pre_save`` for ``auto_now``, ``get_db_prep_save`` for the database).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Model

from xiezuo.core.bulk import insert_rows


def _fields(model: type[Model], exclude: Sequence[str] = ()) -> list[Any]:
    return [f for f in model._meta.concrete_fields if not f.primary_key and f.name not in exclude]


def insert(model: type[Model], objs: Sequence[Model]) -> int:
    """Insert ``objs`` (their primary keys are not set: see :func:`set_pks`)."""
    if not objs:
        return 0
    fields = _fields(model)
    rows = ([f.get_db_prep_save(f.pre_save(o, True), connection) for f in fields] for o in objs)
    return insert_rows(model, [f.column for f in fields], rows)


def set_pks(model: type[Model], objs: Sequence[Any], key: str = "key") -> None:
    """Give freshly inserted ``objs`` their primary keys, found by their unique ``key``: one query."""
    if not objs:
        return
    ids = dict(
        model._default_manager.filter(**{f"{key}__in": [getattr(o, key) for o in objs]}).values_list(
            key, "pk"
        )
    )
    for o in objs:
        o.pk = ids[getattr(o, key)]
        o._state.adding = False
        o._state.db = connection.alias


def update(model: type[Model], objs: Sequence[Model], exclude: Sequence[str] = ()) -> None:
    """Write every concrete field (except ``exclude`` and the primary key) of ``objs``."""
    if not objs:
        return
    fields = _fields(model, exclude)
    qn = connection.ops.quote_name
    pk = model._meta.pk
    assert pk is not None
    sql = "UPDATE {} SET {} WHERE {} = %s".format(
        qn(model._meta.db_table), ", ".join(f"{qn(f.column)} = %s" for f in fields), qn(pk.column)
    )
    params = [[*(f.get_db_prep_save(f.pre_save(o, False), connection) for f in fields), o.pk] for o in objs]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
