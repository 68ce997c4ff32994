"""Top-level URLs: pages (web) and the REST API; WhiteNoise serves /static/ (ADR 0017)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

from xiezuo.api.api import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("xiezuo.web.urls")),
]
