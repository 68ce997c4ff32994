"""Every write of organisations and pairings: validated, scope-checked inside the transaction, audited."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from stdnum.cn import uscc as uscc_std
from stdnum.exceptions import ValidationError as StdnumError

from xiezuo.core import audit
from xiezuo.core.codelists import lookup
from xiezuo.core.scope import ScopeError, require, scope_for
from xiezuo.pairings import rules
from xiezuo.pairings.models import Organisation, Pairing, PairingDocument, PairingSide
from xiezuo.regions.models import Region

SideMember = Region | Organisation


def _code_or_error(list_key: str, value: str, field: str) -> str:
    entry = lookup(list_key, value)
    if entry is None:
        raise ValidationError({field: _("Unknown code: {value}").format(value=value)})
    return entry.code


def clean_uscc(value: str | None) -> str | None:
    """Validate a unified social credit code (统一社会信用代码); blank becomes None."""
    if not value or not value.strip():
        return None
    try:
        return str(uscc_std.validate(value))
    except StdnumError:
        raise ValidationError({"uscc": _("The unified social credit code is not valid.")}) from None


def create_organisation(
    *, actor: Any, kind: str, name: str, region: Region, uscc: str | None = None, via: str = "web"
) -> Organisation:
    with transaction.atomic():
        org = Organisation(
            kind=_code_or_error("org_kind", kind, "kind"),
            name=name.strip(),
            uscc=clean_uscc(uscc),
            region=region,
            region_code=region.code,
        )
        # Scope first: a refused writer learns nothing about data outside their scope.
        require(scope_for(actor, "organisation", "change"), [region.code])
        if not org.name:
            raise ValidationError({"name": _("A name is required.")})
        if org.uscc and Organisation.objects.filter(uscc=org.uscc).exists():
            raise ValidationError({"uscc": _("An organisation with this code already exists.")})
        org.save()
        audit.record(
            actor=actor,
            action="create",
            object_type="organisation",
            object_id=org.pk,
            object_repr=org.name,
            region_code=org.region_code,
            changes=audit.diff({}, audit.snapshot(org)),
            via=via,
        )
    return org


def _member(obj: SideMember) -> rules.Member:
    if isinstance(obj, Organisation):
        return rules.Member(obj.region.code, obj.region.level, obj.pk)
    return rules.Member(obj.code, obj.level)


def _candidate(pairing: Pairing) -> rules.Candidate:
    helper: set[rules.Member] = set()
    helped: set[rules.Member] = set()
    for s in pairing.sides.all():
        m = rules.Member(s.region_code, s.region_level, s.organisation_id)
        (helper if s.side == PairingSide.HELPER else helped).add(m)
    return rules.Candidate(
        pairing.programme,
        pairing.level,
        pairing.start_year,
        pairing.end_year,
        frozenset(helper),
        frozenset(helped),
    )


def pairing_name(helper: Sequence[SideMember], helped: Sequence[SideMember]) -> str:
    """Display name such as 奉化区+宁海县 → 安图县."""
    return "{} → {}".format("+".join(m.name for m in helper), "+".join(m.name for m in helped))


def save_pairing(
    *,
    actor: Any,
    programme: str,
    level: str,
    start_year: int,
    end_year: int | None,
    helper: Sequence[SideMember],
    helped: Sequence[SideMember],
    parent: Pairing | None = None,
    source: str = "",
    pairing: Pairing | None = None,
    via: str = "web",
) -> Pairing:
    """Create a pairing, or replace the fields and sides of ``pairing``.

    Raises ValidationError with every rule that fails, and ScopeError when the writer may not
    change the pairing before or after the write (nothing is then changed).
    """
    programme = _code_or_error("programme", programme, "programme")
    level = _code_or_error("pairing_level", level, "level")
    candidate = rules.Candidate(
        programme,
        level,
        start_year,
        end_year,
        frozenset(_member(m) for m in helper),
        frozenset(_member(m) for m in helped),
    )
    with transaction.atomic():
        scope = scope_for(actor, "pairing", "change")
        others = Pairing.objects.filter(programme=programme, level=level).prefetch_related("sides")
        if pairing is not None:
            require(scope, pairing.sides.values_list("region_code", flat=True))
            others = others.exclude(pk=pairing.pk)
        # Scope before the rules: a refused writer learns nothing (e.g. that a hidden pairing exists).
        require(scope, [m.region_code for m in candidate.helper | candidate.helped])
        errors = rules.validate(
            candidate,
            parent=_candidate(parent) if parent is not None else None,
            others=[_candidate(o) for o in others],
        )
        if errors:
            raise ValidationError([_(e) for e in errors])
        before = audit.snapshot(pairing) if pairing is not None else {}
        before_sides = (
            sorted(pairing.sides.values_list("side", "region_code", "organisation_id")) if pairing else []
        )
        obj = pairing or Pairing()
        obj.programme, obj.level, obj.start_year, obj.end_year = programme, level, start_year, end_year
        obj.parent, obj.source, obj.name = parent, source, pairing_name(helper, helped)
        obj.save()
        obj.sides.all().delete()
        for side, members in ((PairingSide.HELPER, helper), (PairingSide.HELPED, helped)):
            for m in members:
                region = m.region if isinstance(m, Organisation) else m
                PairingSide.objects.create(
                    pairing=obj,
                    side=side,
                    region=None if isinstance(m, Organisation) else m,
                    organisation=m if isinstance(m, Organisation) else None,
                    region_code=region.code,
                    region_level=region.level,
                )
        # Re-check after the write: a writer cannot move a pairing out of their own scope.
        codes = list(obj.sides.values_list("region_code", flat=True))
        if not scope.contains_any(codes):
            raise ScopeError("out of scope")
        changes = audit.diff(before, audit.snapshot(obj))
        after_sides = sorted(obj.sides.values_list("side", "region_code", "organisation_id"))
        if after_sides != before_sides:
            changes["sides"] = [[list(s) for s in before_sides], [list(s) for s in after_sides]]
        audit.record(
            actor=actor,
            action="update" if pairing else "create",
            object_type="pairing",
            object_id=obj.pk,
            object_repr=obj.name,
            region_code=codes[0] if codes else None,
            changes=changes,
            via=via,
        )
    return obj


DOCUMENT_TYPES = {".pdf", ".jpg", ".jpeg", ".png", ".doc", ".docx", ".xls", ".xlsx", ".ofd", ".zip"}
DOCUMENT_MAX_BYTES = 50 * 1024 * 1024


def add_document(
    *, actor: Any, pairing: Pairing, title: str, year: int | None, upload: Any, via: str = "web"
) -> PairingDocument:
    """Attach an agreement or other document (帮扶协议, stamped scans) to a pairing; stored privately."""
    import hashlib
    from pathlib import PurePath

    name = PurePath(getattr(upload, "name", "") or "").name
    if PurePath(name).suffix.lower() not in DOCUMENT_TYPES:
        raise ValidationError({"file": _("This type of file is not accepted.")})
    if getattr(upload, "size", 0) > DOCUMENT_MAX_BYTES:
        raise ValidationError({"file": _("The file is larger than 50 MB.")})
    if not title.strip():
        raise ValidationError({"title": _("A title is required.")})
    with transaction.atomic():
        require(scope_for(actor, "pairing", "change"), pairing.sides.values_list("region_code", flat=True))
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        doc = PairingDocument(
            pairing=pairing,
            title=title.strip(),
            year=year,
            sha256=digest.hexdigest(),
            uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        doc.file.save(name, upload, save=False)
        doc.save()
        audit.record(
            actor=actor,
            action="create",
            object_type="pairing_document",
            object_id=doc.pk,
            object_repr=doc.title,
            region_code=pairing.sides.values_list("region_code", flat=True).first(),
            changes={"pairing": [None, pairing.pk], "sha256": [None, doc.sha256]},
            via=via,
        )
    return doc
