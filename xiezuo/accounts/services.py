"""Writes of users and grants (三员分立: the system administrator manages accounts, the security
administrator grants roles). Every write is audited.

:func:`grant_role` is the one place grants are made (the users page, ``xiezuo users create``, the
test world and the demo), so the 三员分立 rule lives here: nobody holds two of the three
administration roles (system administrator, security administrator, auditor). A grant that would
give a second one is refused; an expired grant no longer counts, and renewing it is a new grant
checked the same way."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from xiezuo.accounts.models import Grant
from xiezuo.accounts.roles import AUDITOR, ROLES, SECADMIN, SYSADMIN
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
        # Lock the user's row: two grants at once must not both pass the check below.
        list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk"))
        _require_separate_admin(user, role)
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


ADMIN_ROLES = (SYSADMIN, SECADMIN, AUDITOR)


def _require_separate_admin(user: User, role: str) -> None:
    """三员分立: refuse a second administration role (any region, while unexpired)."""
    if role not in ADMIN_ROLES:
        return
    today = timezone.localdate()
    held = (
        Grant.objects.filter(user=user, role__in=[r for r in ADMIN_ROLES if r != role])
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today))
        .values_list("role", flat=True)
        .order_by("role")
        .first()
    )
    if held is not None:
        raise ValidationError(
            {
                "role": _(
                    "{user} already holds the role {held}: the system administrator, the security "
                    "administrator and the auditor must be three different people."
                ).format(user=user.username, held=ROLES[held])
            }
        )


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
