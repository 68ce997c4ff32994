"""API authentication: bearer tokens (hashed, expiring, revocable) or the browser session with CSRF.

Both return the user; the scope is computed per request from the user's current grants, so a
token reaches exactly what its user may reach today (DESIGN.md D11).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer

from xiezuo.accounts.tokens import verify_token


class TokenAuth(HttpBearer):
    """``Authorization: Bearer xz_…``."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        api_token = verify_token(token)
        if api_token is None:
            return None
        request.user = api_token.user
        request.api_token = api_token  # type: ignore[attr-defined]
        return api_token.user


class SessionAuth(APIKeyCookie):
    """The signed-in browser session; unsafe methods need the CSRF token (X-CSRFToken header).

    Anonymous requests are refused before the CSRF check, so "not signed in" is always 401.
    """

    param_name: str = settings.SESSION_COOKIE_NAME

    def __call__(self, request: HttpRequest) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return request.user if request.user.is_authenticated else None


token_auth = TokenAuth()
session_auth = SessionAuth()
# Every endpoint accepts either, unless it says otherwise.
AUTH = [token_auth, session_auth]


def user_of(request: HttpRequest) -> Any:
    """The user the request authenticated as (by token or session)."""
    return request.auth  # type: ignore[attr-defined]
