"""Set-based writes of model instances for the ledger write (docs/adr/0015-ledger-writes-in-batches.md).

Rows go through ``xiezuo.core.bulk.insert_rows`` (COPY on PostgreSQL, one ``executemany`` on
SQLite) and updates through one ``executemany``: one statement per table per batch whatever its
size. Django's ``bulk_create`` / ``bulk_update`` would split a batch into statements of at most 999
parameters on SQLite, so their number would grow with the batch. Values are prepared by the
model's own fields (``pre_save`` for ``auto_now``, ``get_db_prep_save`` for the database), except
plain integers, text, booleans and foreign keys, which the database drivers take as they are.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models import Model

from xiezuo.core.bulk import insert_rows

# Field classes whose Python value is what the database gets (exact classes: subclasses such as
# ByteOrderCharField may prepare values their own way).
PLAIN = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BigIntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.PositiveBigIntegerField,
    models.BooleanField,
)


def _fields(model: type[Model], exclude: Sequence[str] = ()) -> list[Any]:
    return [f for f in model._meta.concrete_fields if not f.primary_key and f.name not in exclude]


def _getters(fields: Sequence[Any], add: bool) -> list[Callable[[Model], Any]]:
    from django.utils import timezone

    conn = connections[DEFAULT_DB_ALIAS]
    now = timezone.now()
    out: list[Callable[[Model], Any]] = []
    for f in fields:
        if isinstance(f, models.DateTimeField) and (f.auto_now or (f.auto_now_add and add)):
            # One moment for the whole batch, set on the objects as pre_save would.
            out.append(functools.partial(_stamped, f.attname, now, f.get_db_prep_save(now, conn)))
        elif type(f) in PLAIN or isinstance(f, models.ForeignKey):
            out.append(operator.attrgetter(f.attname))
        else:
            out.append(functools.partial(_prepared, f, add, conn))
    return out


def _stamped(attname: str, now: Any, prepared: Any, obj: Model) -> Any:
    setattr(obj, attname, now)
    return prepared


def _prepared(field: Any, add: bool, conn: Any, obj: Model) -> Any:
    return field.get_db_prep_save(field.pre_save(obj, add), conn)


def insert(model: type[Model], objs: Sequence[Model]) -> int:
    """Insert ``objs`` (their primary keys are not set: see :func:`set_pks`)."""
    if not objs:
        return 0
    fields = _fields(model)
    getters = _getters(fields, True)
    return insert_rows(model, [f.column for f in fields], ([g(o) for g in getters] for o in objs))


def set_pks(model: type[Model], objs: Sequence[Any], key: str = "key") -> None:
    """Give freshly inserted ``objs`` their primary keys, found by their unique ``key``: one query."""
    if not objs:
        return
    wanted = [getattr(o, key) for o in objs]
    ids = dict(model._default_manager.filter(**{f"{key}__in": wanted}).values_list(key, "pk"))
    alias = connections[DEFAULT_DB_ALIAS].alias
    for o in objs:
        o.pk = ids[getattr(o, key)]
        o._state.adding = False
        o._state.db = alias


def update(model: type[Model], objs: Sequence[Model], exclude: Sequence[str] = ()) -> None:
    """Write every concrete field (except ``exclude`` and the primary key) of ``objs``."""
    if not objs:
        return
    conn = connections[DEFAULT_DB_ALIAS]
    fields = _fields(model, exclude)
    getters = _getters(fields, False)
    qn = conn.ops.quote_name
    pk = model._meta.pk
    assert pk is not None
    sql = "UPDATE {} SET {} WHERE {} = %s".format(
        qn(model._meta.db_table), ", ".join(f"{qn(f.column)} = %s" for f in fields), qn(pk.column)
    )
    params = [[*(g(o) for g in getters), o.pk] for o in objs]
    with conn.cursor() as cursor:
        cursor.executemany(sql, params)


CHECK_COLUMNS = (
    "ledger",
    "record_id",
    "field",
    "id_hmac",
    "id_masked",
    "verify",
    "ok",
    "reason",
    "on_date",
    "member_id",
    "household_id",
    "dataset_id",
)


def insert_checks(rows: Iterable[tuple[Any, ...]]) -> int:
    """Insert person checks given as tuples in the order of :data:`CHECK_COLUMNS` (thousands per
    batch: no model instance each), ``checked_at`` now."""
    from django.utils import timezone

    from xiezuo.ledgers.models import PersonCheck

    conn = connections[DEFAULT_DB_ALIAS]
    now = conn.ops.adapt_datetimefield_value(timezone.now())
    date = conn.ops.adapt_datefield_value
    return insert_rows(
        PersonCheck,
        [*CHECK_COLUMNS, "checked_at"],
        ((*row[:8], date(row[8]), *row[9:], now) for row in rows),
    )
