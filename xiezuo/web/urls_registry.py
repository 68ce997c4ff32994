"""Registry page URLs (views in views_registry.py)."""

from __future__ import annotations

from django.urls import URLPattern, path

from xiezuo.web import views_registry

urlpatterns: list[URLPattern] = [
    path("registry/", views_registry.household_list, name="households"),
    path("registry/export.xlsx", views_registry.household_export, name="households_export"),
    path("registry/households/<int:pk>/", views_registry.household_page, name="household"),
    path("registry/members/<int:pk>/unmask/", views_registry.member_unmask, name="member_unmask"),
    path("registry/import/", views_registry.registry_import, name="registry_import"),
    path(
        "registry/import/<int:job_id>/errors/",
        views_registry.registry_import_errors,
        name="registry_import_errors",
    ),
    path("registry/template.xlsx", views_registry.registry_template, name="registry_template"),
    path("registry/monitoring/import/", views_registry.monitoring_import, name="monitoring_import"),
    path(
        "registry/monitoring/import/<int:job_id>/errors/",
        views_registry.monitoring_import_errors,
        name="monitoring_import_errors",
    ),
    path("registry/monitoring/template.xlsx", views_registry.monitoring_template, name="monitoring_template"),
]
