"""The REST API (django-ninja) under /api/v1/; OpenAPI document at /api/openapi.json.

Errors have one shape, ``{"detail": "...", "errors": [{"field": ..., "message": ...}]}``: bad
input is 400 (never 500), no or a dead token 401, and out of scope is the very same 404 as a
missing id (DESIGN.md D2). No docs page: Swagger UI would load from a CDN (D14, CSP).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from xiezuo.api import assessment, ledgers, organisations, pairings, regions, registry, tokens
from xiezuo.api.auth import AUTH
from xiezuo.core.scope import ScopeError

api = NinjaAPI(
    title="xiezuo API",
    version="1",
    description="East–West cooperation and paired assistance (东西部协作 / 对口帮扶).",
    urls_namespace="api",
    auth=AUTH,
    docs_url=None,
    openapi_url="/openapi.json",
)

for module in (regions, organisations, pairings, registry, tokens, assessment):
    api.add_router("/v1/", module.router)
api.add_router("/v1/", ledgers.build())


def _error(
    request: HttpRequest, status: int, detail: str, errors: list[dict[str, str]] | None = None
) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "errors": errors or []}, status=status)


def _not_found(request: HttpRequest, exc: Any) -> HttpResponse:
    # Missing and out of scope answer alike: no message tells them apart.
    return _error(request, 404, _("Not found."))


def _field(loc: Any) -> str:
    """``("query", "limit")`` → ``query.limit``; ninja's top-level payload name is dropped."""
    parts = [str(p) for p in loc]
    if len(parts) >= 2 and parts[0] == "body" and parts[1] == "payload":
        parts = [parts[0], *parts[2:]]
    return ".".join(parts)


def _ninja_validation(request: HttpRequest, exc: Any) -> HttpResponse:
    errors = [{"field": _field(e.get("loc", ())), "message": str(e.get("msg", ""))} for e in exc.errors]
    return _error(request, 400, _("The request is not valid."), errors)


def _django_validation(request: HttpRequest, exc: Any) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        errors = [
            {"field": "" if field == "__all__" else field, "message": str(m)}
            for field, messages in exc.message_dict.items()
            for m in messages
        ]
    else:
        errors = [{"field": "", "message": str(m)} for m in exc.messages]
    return _error(request, 400, _("The request is not valid."), errors)


def _value_error(request: HttpRequest, exc: Any) -> HttpResponse:
    # A value the database or a parser cannot take (e.g. a NUL character): bad input, not a crash.
    return _error(request, 400, _("The request is not valid."), [{"field": "", "message": str(exc)}])


def _http_error(request: HttpRequest, exc: Any) -> HttpResponse:
    if isinstance(exc, AuthenticationError):
        detail = _("Authentication required: a valid bearer token or a signed-in session.")
    elif exc.status_code == 400:
        detail = _("The request body is not valid JSON.")
    elif exc.status_code == 403:
        detail = _("Forbidden (CSRF check failed).")
    else:
        detail = exc.message
    return _error(request, exc.status_code, detail)


api.add_exception_handler(Http404, _not_found)
api.add_exception_handler(ScopeError, _not_found)
api.add_exception_handler(NinjaValidationError, _ninja_validation)
api.add_exception_handler(DjangoValidationError, _django_validation)
api.add_exception_handler(ValueError, _value_error)
api.add_exception_handler(HttpError, _http_error)
