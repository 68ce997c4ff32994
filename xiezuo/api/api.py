"""The REST API (django-ninja); OpenAPI document at /api/openapi.json."""

from __future__ import annotations

from ninja import NinjaAPI

api = NinjaAPI(title="xiezuo API", version="1", urls_namespace="api")
