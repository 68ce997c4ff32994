"""Users and grants (三员分立): the system administrator creates accounts, the security
administrator grants and revokes roles. Both read the list; everyone else gets 404."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xiezuo.accounts.models import Grant
from xiezuo.accounts.roles import ROLES
from xiezuo.accounts.services import create_user, grant_role, revoke_grant
from xiezuo.core.scope import ScopeError, can, get_or_404
from xiezuo.regions.models import Region, full_code
from xiezuo.regions.rules import level_of_short


def _require(request: HttpRequest, kind: str, action: str) -> None:
    if not can(request.user, kind, action):
        raise Http404


@login_required
def user_list(request: HttpRequest) -> HttpResponse:
    _require(request, "user", "view")
    grants = Grant.objects.select_related("region").order_by("role", "region__code")
    users = User.objects.order_by("username").prefetch_related(Prefetch("grants", queryset=grants))
    return render(
        request,
        "web/accounts/users.html",
        {
            "users": users,
            "roles": sorted(ROLES.items()),
            "may_create": can(request.user, "user", "change"),
            "may_grant": can(request.user, "grant", "change"),
            "today": dt.date.today(),
        },
    )


@login_required
@require_POST
def user_create(request: HttpRequest) -> HttpResponse:
    _require(request, "user", "change")
    username = request.POST.get("username", "").strip()
    password = request.POST.get("password", "")
    try:
        if not username or len(password) < 10:
            raise ValidationError(_("A user name and a password of at least 10 characters are required."))
        create_user(actor=request.user, username=username, password=password)
        messages.success(request, _("User {name} created.").format(name=username))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect("web:users")


def _region(code: str) -> Region | None:
    code = code.strip()
    if not code:
        return None
    try:
        return Region.objects.get(code=full_code(code), level=level_of_short(code))
    except (ValueError, KeyError, Region.DoesNotExist):
        raise ValidationError(_("Unknown region code: {code}").format(code=code)) from None


@login_required
@require_POST
def grant_add(request: HttpRequest) -> HttpResponse:
    _require(request, "grant", "change")
    user = get_or_404(User.objects.all(), pk=request.POST.get("user") or 0)
    try:
        expires = request.POST.get("expires_on", "").strip()
        grant_role(
            actor=request.user,
            user=user,
            role=request.POST.get("role", ""),
            region=_region(request.POST.get("region", "")),
            expires_on=dt.date.fromisoformat(expires) if expires else None,
        )
        messages.success(request, _("Role granted to {name}.").format(name=user.username))
    except ValueError:
        messages.error(request, _("The expiry date is not a date."))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    except ScopeError:
        raise Http404 from None
    return redirect("web:users")


@login_required
@require_POST
def grant_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "grant", "change")
    grant = get_or_404(Grant.objects.select_related("user", "region"), pk=pk)
    try:
        revoke_grant(actor=request.user, grant=grant)
    except ScopeError:
        raise Http404 from None
    messages.success(request, _("Grant revoked."))
    return redirect("web:users")
