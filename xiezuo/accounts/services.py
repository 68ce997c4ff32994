"""Writes of users and grants (三员分立: the system administrator manages accounts, the security
administrator grants roles). Every write is audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from xiezuo.accounts.models import Grant
from xiezuo.accounts.roles import ROLES
from xiezuo.core import audit
from xiezuo.core.scope import require, scope_for
from xiezuo.regions.models import Region


def create_user(*, actor: Any, username: str, password: str | None, via: str = "web") -> User:
    with transaction.atomic():
        require(scope_for(actor, "user", "change"), [None])
        if User.objects.filter(username=username).exists():
            raise ValidationError({"username": _("This user name is taken.")})
        user = User.objects.create_user(username=username, password=password)
        audit.record(
            actor=actor, action="create", object_type="user", object_id=user.pk, object_repr=username, via=via
        )
    return user


def grant_role(
    *,
    actor: Any,
    user: User,
    role: str,
    region: Region | None,
    expires_on: dt.date | None = None,
    via: str = "web",
) -> Grant:
    """Give ``user`` a role over a region subtree (None = whole country), within the actor's own scope."""
    if role not in ROLES:
        raise ValidationError({"role": _("Unknown role: {role}").format(role=role)})
    with transaction.atomic():
        require(scope_for(actor, "grant", "change"), [region.code if region else None])
        grant, created = Grant.objects.update_or_create(
            user=user,
            role=role,
            region=region,
            defaults={"expires_on": expires_on, "granted_by": _user_or_none(actor)},
        )
        audit.record(
            actor=actor,
            action="grant" if created else "update",
            object_type="grant",
            object_id=grant.pk,
            object_repr=f"{user.username}:{role}",
            region_code=region.code if region else None,
            changes={"role": [None, role], "expires_on": [None, str(expires_on) if expires_on else None]},
            via=via,
        )
    return grant


def revoke_grant(*, actor: Any, grant: Grant, via: str = "web") -> None:
    with transaction.atomic():
        code = grant.region.code if grant.region else None
        require(scope_for(actor, "grant", "change"), [code])
        audit.record(
            actor=actor,
            action="revoke",
            object_type="grant",
            object_id=grant.pk,
            object_repr=f"{grant.user.username}:{grant.role}",
            region_code=code,
            via=via,
        )
        grant.delete()


def _user_or_none(actor: Any) -> User | None:
    return actor if isinstance(actor, User) else None
