"""Pure validation rules of pairings (no Django imports).

A side is a set of members; each member is a region subtree (12-digit code and level) or an
organisation located in a region. Messages are English msgids, translated where shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from xiezuo.regions.models import subtree_range


def _(text: str) -> str:
    """Marks a message for translation (extracted by makemessages); callers translate it when shown."""
    return text


@dataclass(frozen=True)
class Member:
    region_code: int
    region_level: int
    organisation_id: int | None = None

    @property
    def range(self) -> tuple[int, int]:
        return subtree_range(self.region_code, self.region_level)

    def within(self, other: Member) -> bool:
        """Whether this member lies inside the other (same organisation, or inside its region)."""
        if other.organisation_id is not None:
            return self.organisation_id == other.organisation_id
        low, high = other.range
        return low <= self.region_code < high


@dataclass(frozen=True)
class Candidate:
    programme: str
    level: str
    start_year: int
    end_year: int | None
    helper: frozenset[Member]
    helped: frozenset[Member]


def overlaps(a: Member, b: Member) -> bool:
    """Regions overlap when one contains the other; organisations when they are the same.

    >>> gz, zy = Member(520000000000, 1), Member(520300000000, 2)
    >>> overlaps(gz, zy), overlaps(zy, gz), overlaps(gz, Member(330000000000, 1))
    (True, True, False)
    """
    if a.organisation_id is not None or b.organisation_id is not None:
        return a.organisation_id is not None and a.organisation_id == b.organisation_id
    return a.within(b) or b.within(a)


def years_overlap(a_start: int, a_end: int | None, b_start: int, b_end: int | None) -> bool:
    """>>> years_overlap(2016, 2020, 2021, None), years_overlap(2016, None, 2020, 2020)
    (False, True)
    """
    return a_start <= (b_end if b_end is not None else 9999) and b_start <= (
        a_end if a_end is not None else 9999
    )


def validate(
    candidate: Candidate,
    *,
    parent: Candidate | None = None,
    others: Sequence[Candidate] = (),
) -> list[str]:
    """Every problem with a pairing, as English messages (empty list = valid).

    Rules: both sides have members; years are ordered; a side cannot help itself; a child pairing
    lies inside its parent's sides and years; no two pairings of the same programme, level, helper
    and helped sides overlap in years.
    """
    errors: list[str] = []
    if not candidate.helper:
        errors.append(_("The helper side needs at least one region or organisation."))
    if not candidate.helped:
        errors.append(_("The helped side needs at least one region or organisation."))
    if candidate.end_year is not None and candidate.end_year < candidate.start_year:
        errors.append(_("The end year is before the start year."))
    if any(overlaps(h, r) for h in candidate.helper for r in candidate.helped):
        errors.append(_("A side cannot help itself: the helper and helped sides overlap."))
    if parent is not None:
        if not all(any(m.within(p) for p in parent.helper) for m in candidate.helper):
            errors.append(_("The helper side must lie inside the parent pairing's helper side."))
        if not all(any(m.within(p) for p in parent.helped) for m in candidate.helped):
            errors.append(_("The helped side must lie inside the parent pairing's helped side."))
        if candidate.start_year < parent.start_year or (
            parent.end_year is not None
            and (candidate.end_year is None or candidate.end_year > parent.end_year)
        ):
            errors.append(_("The years must lie inside the parent pairing's years."))
    for other in others:
        if (
            other.programme == candidate.programme
            and other.level == candidate.level
            and other.helper == candidate.helper
            and other.helped == candidate.helped
            and years_overlap(candidate.start_year, candidate.end_year, other.start_year, other.end_year)
        ):
            errors.append(_("The same pairing already exists for overlapping years."))
            break
    return errors
