"""Region and pairing browser URLs (views in views_regions.py and views_pairings.py)."""

from __future__ import annotations

from django.urls import URLPattern, path, re_path

from xiezuo.web import views_pairings, views_regions

# A region is named by its 2/4/6/9/12-digit short code; the length decides the level.
REGION = r"(?P<code>\d{2}|\d{4}|\d{6}|\d{9}|\d{12})"

urlpatterns: list[URLPattern] = [
    path("regions/", views_regions.region_index, name="regions"),
    re_path(rf"^regions/{REGION}/$", views_regions.region_detail, name="region"),
    re_path(rf"^regions/{REGION}/children/$", views_regions.region_children, name="region_children"),
    re_path(rf"^regions/{REGION}/flags/$", views_regions.region_flag, name="region_flag"),
    path("pairings/", views_pairings.pairing_list, name="pairings"),
    path("pairings/map/", views_pairings.pairing_map, name="pairing_map"),
    path("pairings/new/", views_pairings.pairing_create, name="pairing_create"),
    path("pairings/<int:pk>/", views_pairings.pairing_detail, name="pairing"),
    path("pairings/<int:pk>/edit/", views_pairings.pairing_edit, name="pairing_edit"),
    path("pairings/<int:pk>/documents/", views_pairings.document_upload, name="pairing_document_upload"),
    path("pairings/<int:pk>/documents/<int:doc>/", views_pairings.document_download, name="pairing_document"),
]
