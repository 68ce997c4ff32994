"""Writes and audited reads of the registry (DESIGN.md D2, D3, D10).

Unmasking personal data is a right of its own (``registry``/``unmask``), exercised in scope and
logged: the audit entry names the member by id and masked ID, never the clear ID or name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from xiezuo.core import audit
from xiezuo.core.crypto import get_cipher
from xiezuo.core.scope import ScopeError, scope_for
from xiezuo.registry.models import Member


@dataclass(frozen=True)
class Unmasked:
    """The clear ID number and name of a member. Show once; never log or store."""

    member_id: int
    id_number: str
    name: str

    def __repr__(self) -> str:  # keep clear values out of tracebacks and logs
        return f"Unmasked(member_id={self.member_id})"


def unmask_member(*, actor: Any, member_id: int, via: str = "web") -> Unmasked:
    """Decrypt a member's ID number and name for ``actor``, with an audit entry "unmask".

    Raises ScopeError when the member is missing or outside the actor's unmask scope (the caller
    answers both with the same "not found").
    """
    scope = scope_for(actor, "registry", "unmask")
    if scope.is_empty:
        raise ScopeError("out of scope")
    member = Member.objects.filter(scope.q("region_code"), pk=member_id).first()
    if member is None or not scope.contains(member.region_code):
        raise ScopeError("out of scope")
    cipher = get_cipher()
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="unmask",
            object_type="member",
            object_id=member.pk,
            object_repr=member.id_masked,
            region_code=member.region_code,
            batch={"fields": ["id_number", "name"], "household": member.household_id},
            via=via,
        )
    return Unmasked(
        member_id=member.pk,
        id_number=cipher.decrypt(member.id_cipher),
        name=cipher.decrypt(member.name_cipher),
    )
