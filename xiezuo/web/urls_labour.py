"""Labour page URLs (views in views_labour.py); the ledgers' own pages are the framework's /ledgers/."""

from __future__ import annotations

from django.urls import URLPattern, path

from xiezuo.web import views_labour

urlpatterns: list[URLPattern] = [
    path("labour/postings/<int:pk>/match/", views_labour.posting_match, name="labour_match"),
]
