"""Security headers (DESIGN.md D11): a strict Content-Security-Policy on every response."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.http import HttpRequest, HttpResponse

# No inline scripts or styles anywhere: data reaches scripts through json_script, code lives in
# static files. 'unsafe-inline' is absent on purpose; ECharts draws on canvas.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CSP)
        return response


class LoginRequiredForPagesMiddleware(LoginRequiredMiddleware):
    """Every page needs a signed-in user unless its view is marked ``login_not_required``.

    The API authenticates on its own (token or session, 401 otherwise); static files and the
    language switch are open.
    """

    open_prefixes = ("/api/", "/static/", "/i18n/")

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if request.path.startswith(self.open_prefixes):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class ChineseFirstMiddleware:
    """zh-Hans is the language unless the user chose another with the switch (a cookie): the
    browser's Accept-Language is ignored, so an office PC set to English still shows Chinese.
    Set XIEZUO_BROWSER_LANGUAGE=1 to follow the browser instead. The API answers in English
    unless the client sends Accept-Language (e.g. zh-Hans)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            # API clients get English messages unless they ask for another language.
            request.META.setdefault("HTTP_ACCEPT_LANGUAGE", "en")
        elif not settings.XIEZUO_BROWSER_LANGUAGE:
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
