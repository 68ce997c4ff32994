"""Login and logout with throttling (DESIGN.md D11).

After ``LOGIN_MAX_FAILURES`` failed attempts within ``LOGIN_FAILURE_WINDOW`` seconds for the same
username or from the same client address, further attempts are refused, even with the right
password, until the window has passed. Failures live in ``accounts.LoginFailure``; a successful
login clears its username's failures. Logins, logouts and lockouts go to the audit log.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model, login, logout
from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from xiezuo.accounts.models import LoginFailure
from xiezuo.core import audit

USERNAME_MAX = 150


def client_ip(request: HttpRequest) -> str | None:
    """The client address. Behind a reverse proxy listed in XIEZUO_TRUSTED_PROXIES, the last
    address the proxy appended to X-Forwarded-For; otherwise REMOTE_ADDR (a client could fake the
    header, so it is only believed from a trusted proxy)."""
    remote = request.META.get("REMOTE_ADDR") or None
    if remote and remote in settings.XIEZUO_TRUSTED_PROXIES:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if forwarded:
            return forwarded[-1]
    return remote


def _window_start() -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW)


def failures(*, username: str, ip: str | None) -> tuple[int, int]:
    """Recent failures for this username and for this address."""
    recent = LoginFailure.objects.filter(at__gte=_window_start())
    by_user = recent.filter(username__iexact=username).count() if username else 0
    by_ip = recent.filter(ip=ip).count() if ip else 0
    return by_user, by_ip


def is_locked(*, username: str, ip: str | None) -> bool:
    by_user, by_ip = failures(username=username, ip=ip)
    return max(by_user, by_ip) >= settings.LOGIN_MAX_FAILURES


def _user_id(username: str) -> Any:
    user = get_user_model()._default_manager.filter(username=username).only("pk").first()
    return user.pk if user is not None else ""


def record_failure(*, username: str, ip: str | None) -> None:
    """Store a failed attempt; the attempt that reaches the limit starts a lockout, which is audited."""
    limit = settings.LOGIN_MAX_FAILURES
    with transaction.atomic():
        LoginFailure.objects.create(username=username, ip=ip)
        by_user, by_ip = failures(username=username, ip=ip)
        reasons = [name for name, n in (("username", by_user), ("ip", by_ip)) if n == limit]
        if reasons:
            audit.record(
                actor=username or "anonymous",
                action="lockout",
                object_type="user",
                object_id=_user_id(username),
                object_repr=username,
                batch={"ip": ip, "by": reasons, "failures": limit, "window_s": settings.LOGIN_FAILURE_WINDOW},
                via="web",
            )


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@login_not_required
@never_cache
@csrf_protect
@require_http_methods(["GET", "HEAD", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if request.method == "GET" and request.user.is_authenticated:
        return redirect(_next_url(request))
    error = ""
    username = ""
    status = 200
    if request.method == "POST":
        username = request.POST.get("username", "").strip()[:USERNAME_MAX]
        password = request.POST.get("password", "")
        ip = client_ip(request)
        if is_locked(username=username, ip=ip):
            error = _("Too many failed attempts. Try again later.")
            status = 429
        else:
            user = authenticate(request, username=username, password=password) if username else None
            if user is None:
                record_failure(username=username, ip=ip)
                error = _("Wrong username or password.")
            else:
                with transaction.atomic():
                    login(request, user)
                    LoginFailure.objects.filter(username__iexact=username).delete()
                    audit.record(actor=user, action="login", object_type="user", object_id=user.pk, via="web")
                return HttpResponseRedirect(_next_url(request))
    return render(
        request,
        "web/login.html",
        {
            "error": error,
            "username": username,
            "next": request.POST.get("next") or request.GET.get("next", ""),
        },
        status=status,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_authenticated:
        audit.record(actor=user, action="logout", object_type="user", object_id=user.pk, via="web")
    logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)
