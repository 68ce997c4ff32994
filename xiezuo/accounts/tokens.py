"""API tokens (DESIGN.md D11): hashed, expiring, revocable, acting with the user's current grants.

A token is ``xz_`` + 43 URL-safe characters, shown once when made. Only its SHA-256 hex digest is
stored (``ApiToken.key_hash``) with its first 8 characters (``prefix``) to tell tokens apart in
lists. A token carries no scope of its own: every request computes the scope from the user's
grants as they are then (``xiezuo.core.scope.scope_for``), so an expired grant ends its reach.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xiezuo.accounts.models import ApiToken
from xiezuo.core import audit
from xiezuo.core.scope import ScopeError, SystemActor

TOKEN_PREFIX = "xz_"
PREFIX_LENGTH = 8
# last_used_at is written at most this often per token, so reads do not turn into writes.
LAST_USED_RESOLUTION = dt.timedelta(seconds=60)


def hash_token(raw: str) -> str:
    """SHA-256 hex digest of a token string.

    >>> hash_token("xz_abc")[:16]
    '3f7450d9bd88a49a'
    """
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _check_actor(actor: Any, user: Any) -> None:
    """Users manage their own tokens; the system (command line) manages anyone's."""
    if isinstance(actor, SystemActor):
        return
    if getattr(actor, "pk", None) is None or actor.pk != user.pk:
        raise ScopeError("out of scope")


def _audit(actor: Any, action: str, token: ApiToken, changes: dict[str, list[Any]], via: str) -> None:
    audit.record(
        actor=actor, action=action, object_type="api_token", object_id=token.pk,
        object_repr=f"{token.prefix}… ({token.name}) of {token.user.get_username()}",
        changes=changes, via=via,
    )  # fmt: skip


def create_token(
    *, actor: Any, user: Any, name: str, days: int | None = None, via: str = "web"
) -> tuple[ApiToken, str]:
    """Make a token for ``user``; returns the stored row and the token string (shown once).

    ``days`` defaults to ``settings.XIEZUO_TOKEN_DAYS`` and may not exceed it.
    """
    name = (name or "").strip()
    limit = settings.XIEZUO_TOKEN_DAYS
    days = limit if days is None else days
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("A name is required.")]
    elif len(name) > ApiToken._meta.get_field("name").max_length:  # type: ignore[operator]
        errors["name"] = [_("The name is too long.")]
    if not 1 <= days <= limit:
        errors["days"] = [_("A token lasts from 1 to {n} days.").format(n=limit)]
    if errors:
        raise ValidationError(errors)
    if not user.is_active:
        raise ValidationError({"user": [_("The user is not active.")]})
    _check_actor(actor, user)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=raw[:PREFIX_LENGTH],
            key_hash=hash_token(raw),
            expires_at=timezone.now() + dt.timedelta(days=days),
        )
        after = audit.snapshot(token, ["user_id", "name", "prefix", "expires_at"])
        _audit(actor, "create", token, audit.diff({}, after), via)
    return token, raw


def verify_token(raw: str | None) -> ApiToken | None:
    """The live token for a token string (not revoked, not expired, its user active), or None.

    Records when it was last used (at most once a minute).
    """
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=hash_token(raw)).first()
    now = timezone.now()
    if token is None or token.revoked_at is not None or token.expires_at <= now or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def revoke_token(*, actor: Any, token: ApiToken, via: str = "web") -> ApiToken:
    """Revoke a token now; revoking a revoked token changes nothing."""
    _check_actor(actor, token.user)
    if token.revoked_at is not None:
        return token
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        _audit(actor, "revoke", token, {"revoked_at": [None, str(token.revoked_at)]}, via)
    return token
