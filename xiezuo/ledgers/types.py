"""Ledger types: what an area app declares so that the shared machinery serves its records.

An area app (``xiezuo.labour`` …) defines models subclassing :class:`xiezuo.ledgers.models.LedgerRecord`
and, in its ``ledgers.py``, registers one :class:`LedgerType` per record kind::

    register(LedgerType(key="placements", model=Placement, spec=PLACEMENTS, area="labour", ...))

From that one declaration come the import (``xiezuo import placements FILE``), the template
(``xiezuo template placements``), the export, the form, the list, detail and approval pages, the
REST endpoints and their OpenAPI schema, the registry checks of the people named, period locking
and the pairing roll-up.

Conventions between the spec and the model (checked by :func:`check_type` at start-up):

- every spec column maps to the model field of the same key, except the common columns
  (:data:`COMMON_KEYS`: 结对关系, 归属年度, 行政区划代码 — stored in the base fields) and person columns
  (ID numbers: never stored on the record, only as :class:`~xiezuo.ledgers.models.PersonCheck`);
- money columns have keys ending in ``_fen`` and are ``BigIntegerField`` s (D4);
- organisation columns (``orgs``) are foreign keys to ``pairings.Organisation``: the sheet gives a
  name or a unified social credit code, an unknown name is registered in the record's region;
- region columns (``regions``) hold 12-digit codes (``BigIntegerField``), given as codes or names.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import models

from xiezuo.core.tabular.spec import Column, Spec

HELPER, HELPED, BOTH = "helper", "helped", "both"

AREAS: dict[str, tuple[str, str]] = {
    "engagement": ("组织领导", "leadership and engagement"),
    "talent": ("人才支援", "talent support"),
    "funds": ("资金支持", "funds"),
    "projects": ("帮扶项目", "projects"),
    "industry": ("产业合作", "industrial cooperation"),
    "labour": ("劳务协作", "labour cooperation"),
    "consumption": ("消费帮扶", "consumption assistance"),
}

PAIRING = Column("pairing", "结对关系", aliases=("结对", "结对关系编号", "结对编号", "帮扶关系"), width=30)
YEAR = Column("year", "归属年度", kind="year", aliases=("年度", "统计年度", "所属年度"), required=True)
REGION = Column("region_code", "行政区划代码", aliases=("区划代码", "所在地区划代码", "地区代码"), width=14)
COMMON_COLUMNS = (PAIRING, YEAR, REGION)
COMMON_KEYS = frozenset(c.key for c in COMMON_COLUMNS)

CheckFn = Callable[[Mapping[str, Any]], list[tuple[str, str, str]]]
"""Cross-field checks of one row: ``[(column key or "", message zh, message en), …]``."""


@dataclass(frozen=True)
class PersonField:
    """A column naming a person by ID number, and how the registry check applies to it.

    ``verify``: poor labourers and beneficiaries are checked (True); cadres and professionals are
    kept by hash only (False). ``date_column`` is the column whose date counts (e.g. a placement's
    start); without one, 31 December of the record's year. ``accept_exited``: a person whose
    household had exited (已脱贫) on that date still matches (脱贫不脱政策), with the reason noted.
    """

    column: str
    verify: bool = True
    date_column: str | None = None
    accept_exited: bool = True
    required: bool = True


@dataclass(frozen=True)
class Metric:
    """One figure of the pairing roll-up.

    ``kind``: ``count`` of records, ``sum`` of ``field``, or ``people``: distinct persons whose
    registry check matched. ``where`` filters the records (field lookups); ``split`` names a
    code field whose values get a line each (funds by source level); ``target`` is the agreement
    target item (code list ``target_item``) the figure is measured against. ``unit`` is how the
    page shows it: ``money`` (fen, shown in 万元), or a counting word (人, 个, 次 …).
    """

    key: str
    zh: str
    en: str
    kind: str = "count"
    field: str | None = None
    unit: str = "个"
    where: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    split: str | None = None
    target: str | None = None


@dataclass(frozen=True)
class LedgerType:
    """One kind of ledger record (see the module docstring)."""

    key: str
    model: Any  # a LedgerRecord subclass
    spec: Spec
    area: str
    zh: str
    en: str
    side: str
    """The side that enters records: helper, helped, or both (the record's place decides)."""
    natural_key: tuple[str, ...]
    people: tuple[PersonField, ...] = ()
    orgs: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """Organisation column key → kind (code list org_kind) given to organisations it registers."""
    org_regions: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """Organisation column key → region column key whose place an unknown organisation is registered
    in (e.g. an employer in its workplace's region); default the record's own region."""
    regions: tuple[str, ...] = ()
    check: CheckFn | None = None
    confirm_side: str | None = None
    """The side that confirms records (e.g. the helped side's finance office confirms arrival)."""
    date_column: str | None = None
    """The date that places a record in a quarter or month, for flows with such periods."""
    metrics: tuple[Metric, ...] = ()
    list_columns: tuple[str, ...] = ()
    filters: tuple[str, ...] = ()
    """Code columns offered as list filters."""
    order: int = 100

    @property
    def columns(self) -> tuple[Column, ...]:
        """The full column list: the common columns first, then the ledger's own."""
        return (*COMMON_COLUMNS, *self.spec.columns)

    @property
    def full_spec(self) -> Spec:
        return _full_specs.setdefault(self.key, Spec(self.spec.name, self.columns))

    @property
    def person_columns(self) -> frozenset[str]:
        return frozenset(p.column for p in self.people)

    def field_columns(self) -> tuple[Column, ...]:
        """Spec columns stored as model fields of the same key."""
        return tuple(c for c in self.spec.columns if c.key not in self.person_columns)

    @property
    def area_zh(self) -> str:
        return AREAS[self.area][0]

    @property
    def sides(self) -> tuple[str, ...]:
        """The sides that enter records: one, or both for ledgers each side keeps (visits, meetings)."""
        return (HELPER, HELPED) if self.side == BOTH else (self.side,)


_full_specs: dict[str, Spec] = {}
_types: dict[str, LedgerType] = {}


def register(ltype: LedgerType) -> LedgerType:
    check_type(ltype)
    _types[ltype.key] = ltype
    return ltype


def get(key: str) -> LedgerType:
    """The ledger type of ``key``; ``KeyError`` for an unknown ledger."""
    return _types[key]


def all_types() -> list[LedgerType]:
    return sorted(_types.values(), key=lambda t: (list(AREAS).index(t.area), t.order, t.key))


def by_model(model: type[models.Model]) -> LedgerType:
    for t in _types.values():
        if t.model is model:
            return t
    raise KeyError(model)


def check_type(t: LedgerType) -> None:
    """Fail at start-up when a declaration and its model disagree (see the module docstring)."""
    errors: list[str] = []
    if t.area not in AREAS:
        errors.append(f"unknown area {t.area!r}")
    if t.side not in (HELPER, HELPED, BOTH) or (t.confirm_side not in (None, HELPER, HELPED)):
        errors.append("side is 'helper', 'helped' or 'both'; confirm_side 'helper' or 'helped'")
    keys = {c.key for c in t.spec.columns}
    if keys & COMMON_KEYS:
        errors.append(f"the common columns {sorted(keys & COMMON_KEYS)} are added by the framework")
    names = {f.name: f for f in t.model._meta.get_fields()}
    for c in t.field_columns():
        f = names.get(c.key)
        if f is None:
            errors.append(f"column {c.key} has no model field")
            continue
        if c.kind == "money" and not (c.key.endswith("_fen") and isinstance(f, models.BigIntegerField)):
            errors.append(f"money column {c.key} must end in _fen and be a BigIntegerField")
        if c.key in t.orgs and not (
            isinstance(f, models.ForeignKey)
            and getattr(f.related_model, "_meta", None) is not None
            and f.related_model._meta.label == "pairings.Organisation"  # type: ignore[union-attr]
        ):
            errors.append(f"organisation column {c.key} must be a ForeignKey to pairings.Organisation")
    for org, reg in t.org_regions.items():
        if org not in t.orgs or reg not in t.regions:
            errors.append(f"org_regions: {org} must be an organisation column and {reg} a region column")
    for p in t.people:
        if p.column not in keys or t.spec.column(p.column).kind != "raw":
            errors.append(f"person column {p.column} must be a spec column of kind 'raw'")
    for k in (*t.natural_key, *t.list_columns, *t.filters):
        if k not in keys | COMMON_KEYS:
            errors.append(f"{k} is not a column")
    for m in t.metrics:
        if m.kind not in ("count", "sum", "people") or (m.kind == "sum") != (m.field is not None):
            errors.append(f"metric {m.key}: kind count/people without field, sum with one")
    if errors:
        raise ValueError(f"ledger {t.key}: " + "; ".join(errors))


def autodiscover() -> None:
    """Import ``<app>.ledgers`` of every installed xiezuo app, which registers its ledger types."""
    for config in apps.get_app_configs():
        if not config.name.startswith("xiezuo.") or config.name == "xiezuo.ledgers":
            continue
        try:
            importlib.import_module(f"{config.name}.ledgers")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.ledgers":
                raise
