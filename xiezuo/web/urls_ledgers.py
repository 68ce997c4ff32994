"""Ledger page URLs (views in views_ledgers.py): one set for every ledger type."""

from __future__ import annotations

from django.urls import URLPattern, path

from xiezuo.web import views_ledgers as v

urlpatterns: list[URLPattern] = [
    path("ledgers/", v.ledger_index, name="ledgers"),
    path("ledgers/periods/", v.periods, name="ledger_periods"),
    path("ledgers/periods/attach/", v.period_attach, name="ledger_period_attach"),
    path("ledgers/periods/<str:action>/", v.period_action, name="ledger_period_action"),
    path("ledgers/attachments/<int:pk>/", v.attachment_download, name="ledger_attachment"),
    path("ledgers/<str:key>/", v.record_list, name="ledger_list"),
    path("ledgers/<str:key>/new/", v.record_edit, name="ledger_new"),
    path("ledgers/<str:key>/import/", v.ledger_import, name="ledger_import"),
    path(
        "ledgers/<str:key>/import/<int:job_id>/errors/", v.ledger_import_errors, name="ledger_import_errors"
    ),
    path("ledgers/<str:key>/template.xlsx", v.ledger_template, name="ledger_template"),
    path("ledgers/<str:key>/export.xlsx", v.ledger_export, name="ledger_export"),
    path("ledgers/<str:key>/<int:pk>/", v.record_detail, name="ledger_record"),
    path("ledgers/<str:key>/<int:pk>/edit/", v.record_edit, name="ledger_edit"),
    path("ledgers/<str:key>/<int:pk>/delete/", v.record_delete, name="ledger_delete"),
    path("ledgers/<str:key>/<int:pk>/confirm/", v.record_confirm, name="ledger_confirm"),
    path("ledgers/<str:key>/<int:pk>/attach/", v.record_attach, name="ledger_attach"),
    path("pairings/<int:pk>/rollup/<int:year>/", v.pairing_rollup, name="pairing_rollup"),
    path(
        "pairings/<int:pk>/rollup/<int:year>/export.xlsx",
        v.pairing_rollup_export,
        name="pairing_rollup_export",
    ),
]
