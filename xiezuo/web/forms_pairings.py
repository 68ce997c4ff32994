"""Forms of the pairing browser: the list filter and the create/edit form (parsing only; rules
live in xiezuo.pairings.rules and the write in xiezuo.pairings.services)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from xiezuo.core.codelists import entries
from xiezuo.pairings.models import Organisation, Pairing
from xiezuo.regions.models import Region
from xiezuo.regions.selectors import region_by_short_code

SIDE_CHOICES = [
    ("", gettext_lazy("either side")),
    ("helper", gettext_lazy("helper")),
    ("helped", gettext_lazy("helped")),
]
YEARS = (1996, 2100)


def code_choices(list_key: str, *, blank: str | None = None) -> list[tuple[str, str]]:
    """Choices from a code list, labelled in the active language."""
    language = get_language() or "zh-hans"
    choices = [(e.code, e.label(language)) for e in entries(list_key)]
    return [("", blank), *choices] if blank is not None else choices


def set_choices(form: forms.Form, name: str, choices: list[tuple[str, str]]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


class PairingFilterForm(forms.Form):
    """GET filters of the pairing list; every field optional."""

    q = forms.CharField(label=gettext_lazy("Search"), required=False, max_length=100)
    programme = forms.ChoiceField(label=gettext_lazy("Programme"), required=False)
    level = forms.ChoiceField(label=gettext_lazy("Level"), required=False)
    year = forms.IntegerField(
        label=gettext_lazy("Active in year"), required=False, min_value=YEARS[0], max_value=YEARS[1]
    )
    region = forms.CharField(
        label=gettext_lazy("Region code"),
        required=False,
        max_length=12,
        help_text=gettext_lazy("2, 4, 6, 9 or 12 digits; pairings with a side in its subtree"),
    )
    side = forms.ChoiceField(label=gettext_lazy("Side"), required=False, choices=SIDE_CHOICES)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "programme", code_choices("programme", blank=_("any programme")))
        set_choices(self, "level", code_choices("pairing_level", blank=_("any level")))

    def clean_region(self) -> Region | None:
        code = "".join(self.cleaned_data.get("region", "").split())
        if not code:
            return None
        region = region_by_short_code(Region.objects.all(), code)
        if region is None:
            raise forms.ValidationError(_("No region has this code."))
        return region


class MapFilterForm(forms.Form):
    programme = forms.ChoiceField(label=gettext_lazy("Programme"), required=False)
    year = forms.IntegerField(
        label=gettext_lazy("Active in year"), required=False, min_value=YEARS[0], max_value=YEARS[1]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "programme", code_choices("programme", blank=_("any programme")))


_TOKEN = re.compile(r"[\s,，;；+、]+")


def parse_members(text: str, organisations: QuerySet[Organisation]) -> list[Region | Organisation]:
    """Side members from text: region codes (3302, 522323) and organisations as ``org:<id>``.

    Raises ValidationError naming every token that is not a known region or visible organisation.
    """
    members: list[Region | Organisation] = []
    unknown: list[str] = []
    for token in filter(None, _TOKEN.split(text.strip())):
        member: Region | Organisation | None = None
        if token.lower().startswith("org:") and token[4:].isdigit():
            member = organisations.filter(pk=int(token[4:])).first()
        else:
            member = region_by_short_code(Region.objects.all(), token)
        if member is None:
            unknown.append(token)
        elif member not in members:
            members.append(member)
    if unknown:
        raise forms.ValidationError(
            _("Unknown region code or organisation: {tokens}").format(tokens=", ".join(unknown))
        )
    return members


def members_text(members: list[Any]) -> str:
    """The text form of side members, for editing: region short codes and org:<id>."""
    return " ".join(f"org:{m.pk}" if isinstance(m, Organisation) else m.short_code for m in members)


class PairingForm(forms.Form):
    """Create or edit a pairing. Sides are entered as region codes or ``org:<id>``."""

    programme = forms.ChoiceField(label=gettext_lazy("Programme"))
    level = forms.ChoiceField(label=gettext_lazy("Level"))
    start_year = forms.IntegerField(label=gettext_lazy("Start year"), min_value=YEARS[0], max_value=YEARS[1])
    end_year = forms.IntegerField(
        label=gettext_lazy("End year"),
        required=False,
        min_value=YEARS[0],
        max_value=YEARS[1],
        help_text=gettext_lazy("Leave empty while the pairing is active."),
    )
    helper = forms.CharField(
        label=gettext_lazy("Helper side"),
        max_length=500,
        help_text=gettext_lazy("Region codes (e.g. 3302) or org:<id>, separated by spaces or +"),
    )
    helped = forms.CharField(
        label=gettext_lazy("Helped side"),
        max_length=500,
        help_text=gettext_lazy("Region codes (e.g. 2224) or org:<id>, separated by spaces or +"),
    )
    parent = forms.IntegerField(
        label=gettext_lazy("Parent pairing (number)"),
        required=False,
        min_value=1,
        help_text=gettext_lazy("The pairing this one belongs to, e.g. a county pair's provincial pair."),
    )
    source = forms.CharField(
        label=gettext_lazy("Source"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(
        self, *args: Any, organisations: QuerySet[Organisation], pairings: QuerySet[Pairing], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.organisations = organisations
        self.pairings = pairings
        set_choices(self, "programme", code_choices("programme"))
        set_choices(self, "level", code_choices("pairing_level"))

    def clean_helper(self) -> list[Region | Organisation]:
        return parse_members(self.cleaned_data["helper"], self.organisations)

    def clean_helped(self) -> list[Region | Organisation]:
        return parse_members(self.cleaned_data["helped"], self.organisations)

    def clean_parent(self) -> Pairing | None:
        pk = self.cleaned_data.get("parent")
        if pk is None:
            return None
        parent = self.pairings.filter(pk=pk).first()
        if parent is None:  # missing and out of scope read alike
            raise forms.ValidationError(_("No pairing with this number."))
        return parent
