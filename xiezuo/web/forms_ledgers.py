"""Ledger records on pages: cells of the list and record pages (figures through
``xiezuo.core.figures``, regions by name, codes as labels) and the record form built from a
ledger's column spec (ISO dates, masked ID numbers kept, region pickers within the user's scope).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import Q
from django.utils.html import format_html
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from xiezuo.core import figures
from xiezuo.core.codelists import label as code_label
from xiezuo.core.scope import scope_for
from xiezuo.core.tabular.spec import Column
from xiezuo.core.tabular.values import MONEY_UNITS
from xiezuo.ledgers import services, types
from xiezuo.ledgers.models import LedgerRecord, PersonCheck
from xiezuo.web.forms_pairings import code_choices
from xiezuo.web.templatetags.xiezuo_tags import short_region_code


def money_unit(column: Column) -> str:
    """The unit a money column's header names (金额（万元） → 万元), else the column's default."""
    return figures.declared_unit(column.header, column.unit)


def display(column: Column, value: Any) -> str:
    """A stored value as the page shows it: money through ``figures`` in the unit the column's
    header declares (the export and the API's figures go the same way), codes as labels."""
    if value is None or value == "":
        return ""
    if column.kind == "money":
        return figures.money(value, money_unit(column))
    if column.kind == "int" and isinstance(value, int):
        return figures.count(value)
    if column.kind == "code" and column.code_list:
        return code_label(column.code_list, value, get_language() or "zh-hans")
    if column.kind == "bool":
        return _("yes") if value else _("no")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def region_cell(code: int | None, names: dict[int, str]) -> str:
    """A region by its name, the 12-digit code on hover (the code alone when the name is unknown)."""
    if not code:
        return ""
    name = names.get(int(code))
    if not name:
        return str(code)
    return format_html('<span title="{}" data-region="{}">{}</span>', code, code, name)


def region_codes(ltype: types.LedgerType, records: list[LedgerRecord]) -> set[int]:
    codes = {r.region_code for r in records}
    for r in records:
        codes.update(int(v) for v in (getattr(r, k) for k in ltype.regions) if v)
    return codes


def record_cell(
    ltype: types.LedgerType,
    record: LedgerRecord,
    key: str,
    people: list[PersonCheck],
    names: dict[int, str] | None = None,
) -> str:
    if key == "pairing":
        return record.pairing.name
    if key == "year":
        return str(record.year)
    if key == "region_code":
        return region_cell(record.region_code, names or {})
    if key in ltype.person_columns:
        checks = [c for c in people if c.field == key]
        return ", ".join(code_label("verify_reason", c.reason, get_language() or "zh-hans") for c in checks)
    value = getattr(record, key)
    if key in ltype.orgs:
        return value.name if value is not None else ""
    if key in ltype.regions:
        return region_cell(value, names or {})
    return display(ltype.full_spec.column(key), value)


# --- the form built from the spec ---------------------------------------------------------------


class RecordForm(forms.Form):
    """Fields from the ledger's columns; money typed in the unit its label names.

    Editing a record, a person column shows the stored ID number masked and keeps it when left
    empty (``services.KEEP_PERSON``); a typed number replaces it.
    """

    def __init__(
        self,
        ltype: types.LedgerType,
        user: Any,
        *args: Any,
        stored_people: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.ltype = ltype
        self.stored_people = stored_people or {}
        pairings = (
            services.visible_pairings(user)
            .filter(pk__in=changeable_pairing_ids(user, ltype))
            .order_by("level", "name")[:500]
        )
        self.fields["pairing"] = forms.ChoiceField(
            label=types.PAIRING.header, choices=[("", "—"), *[(str(p.pk), p.name) for p in pairings]]
        )
        self.fields["year"] = forms.IntegerField(label=types.YEAR.header, min_value=1996, max_value=2100)
        self.fields["region_code"] = forms.CharField(
            label=types.REGION.header,
            required=False,
            max_length=100,
            widget=forms.TextInput(attrs=REGION_PICKER),
            help_text=gettext_lazy("Leave empty for the pairing's own region"),
        )
        for c in ltype.spec.columns:
            self.fields[c.key] = _form_field(c, ltype)
            if c.key in ltype.regions:
                self.fields[c.key].widget.attrs.update(REGION_PICKER)
            masked = self.stored_people.get(c.key)
            if masked is not None:
                field = self.fields[c.key]
                field.required = False
                field.widget.attrs["placeholder"] = masked
                field.help_text = _(
                    "Stored: {masked}. Leave empty to keep it; type a number to replace it."
                ).format(masked=masked)

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        for key in self.stored_people:
            if not (data.get(key) or "").strip():
                data[key] = services.KEEP_PERSON
        for c in self.ltype.spec.columns:
            if c.kind == "money" and data.get(c.key) is not None:
                # typed in the unit the label names; kept in fen (D4)
                data[c.key] = int(Decimal(data[c.key]) * 100 * MONEY_UNITS[money_unit(c)])
            if c.kind == "bool":
                data[c.key] = {"yes": True, "no": False}.get(data.get(c.key) or "")
        return data


def _form_field(c: Column, ltype: types.LedgerType) -> forms.Field:
    label = c.header
    req = c.required
    if c.kind == "code":
        assert c.code_list is not None
        return forms.ChoiceField(label=label, required=req, choices=code_choices(c.code_list, blank="—"))
    if c.kind == "date":
        # a date input takes ISO dates only, whatever the page's language (zh-Hans would render
        # 2019/08/11, which the browser shows as empty and the next save loses)
        return forms.DateField(
            label=label, required=req, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
        )
    if c.kind in ("int", "year"):
        return forms.IntegerField(
            label=label, required=req, min_value=0 if c.non_negative or c.kind == "year" else None
        )
    if c.kind == "money":
        unit = money_unit(c)
        return forms.DecimalField(
            label=label if unit in label else f"{label}（{unit}）",
            required=req,
            max_digits=20,
            # whole fen only: 2 decimals in 元, 6 in 万元, 10 in 亿元
            decimal_places={"元": 2, "万元": 6, "亿元": 10}[unit],
            min_value=0 if c.non_negative else None,
        )
    if c.kind == "decimal":
        return forms.DecimalField(label=label, required=req, max_digits=18, decimal_places=4)
    if c.kind == "bool":
        return forms.ChoiceField(
            label=label, required=req, choices=[("", "—"), ("yes", _("yes")), ("no", _("no"))]
        )
    if c.key in ltype.person_columns:
        return forms.CharField(
            label=label, required=req, max_length=24, widget=forms.TextInput(attrs={"autocomplete": "off"})
        )
    if c.key in ltype.regions:
        return forms.CharField(label=label, required=req, max_length=100)
    return forms.CharField(label=label, required=req, max_length=500)


REGION_PICKER = {"list": "xz-regions", "autocomplete": "off", "data-region-picker": ""}
REGION_OPTIONS = 1500


def region_options(user: Any, pairing_ids: list[int]) -> list[tuple[str, str]]:
    """What a region field offers, by name with its short code: the user's change scope down to
    townships (provinces and prefectures for a national grant), and the counties of both sides
    of the pairings the user enters records for (workplaces, places of origin)."""
    from xiezuo.pairings.models import PairingSide
    from xiezuo.regions.models import Region, subtree_range

    scope = scope_for(user, "ledger", "change")
    current = Region.objects.filter(valid_to__isnull=True)
    found: dict[int, str] = {}
    mine = current.filter(level__lte=2) if scope.national else current.filter(scope.q("code"), level__lte=4)
    for code, name in mine.order_by("code", "level").values_list("code", "name")[:REGION_OPTIONS]:
        found.setdefault(code, name)
    side_codes = set(
        PairingSide.objects.filter(pairing_id__in=pairing_ids[:500]).values_list("region_code", flat=True)
    )
    sides = Q()
    for region in current.filter(code__in=side_codes).only("code", "level"):
        low, high = subtree_range(region.code, region.level)
        sides |= Q(code__gte=low, code__lt=high)
    if side_codes and sides:
        near = current.filter(sides, level__lte=3).order_by("code", "level").values_list("code", "name")
        for code, name in near[:REGION_OPTIONS]:
            found.setdefault(code, name)
    return [(short_region_code(code), name) for code, name in sorted(found.items())[: 2 * REGION_OPTIONS]]


def changeable_pairing_ids(user: Any, ltype: types.LedgerType) -> list[int]:
    """Pairings whose entering side has a region in the user's ledger change scope."""
    from xiezuo.pairings.models import PairingSide

    scope = scope_for(user, "ledger", "change")
    if scope.is_empty:
        return []
    sides = PairingSide.objects.filter(side__in=ltype.sides)
    if not scope.national:
        sides = sides.filter(scope.q("region_code"))
    return list(sides.values_list("pairing_id", flat=True).distinct()[:2000])


def initial_values(ltype: types.LedgerType, record: LedgerRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "pairing": str(record.pairing_id),
        "year": record.year,
        "region_code": short_region_code(record.region_code),
    }
    for c in ltype.spec.columns:
        if c.key in ltype.person_columns:
            continue
        value = getattr(record, c.key)
        if c.key in ltype.orgs:
            value = value.name if value is not None else ""
        elif c.key in ltype.regions:
            value = short_region_code(value) if value else ""
        elif c.kind == "money" and value is not None:
            value = figures.money_amount(value, money_unit(c))
        elif c.kind == "bool":
            value = {True: "yes", False: "no"}.get(value, "")
        out[c.key] = value
    return out
