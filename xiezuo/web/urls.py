"""Page URLs. Each part of the site keeps its views in its own module and its URL list in its own file."""

from __future__ import annotations

from django.urls import path

from xiezuo.web import auth, urls_browse, urls_labour, urls_ledgers, urls_registry, views, views_accounts

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("jobs/", views.jobs, name="jobs"),
    path("jobs/<int:job_id>/", views.job_detail, name="job"),
    path("jobs/<int:job_id>/row/", views.job_row, name="job_row"),
    path("audit/", views.audit, name="audit"),
    path("public/", views.public, name="public"),
    path("users/", views_accounts.user_list, name="users"),
    path("users/new/", views_accounts.user_create, name="user_create"),
    path("users/grants/", views_accounts.grant_add, name="grant_add"),
    path("users/grants/<int:pk>/revoke/", views_accounts.grant_revoke, name="grant_revoke"),
    *urls_browse.urlpatterns,
    *urls_registry.urlpatterns,
    *urls_ledgers.urlpatterns,
    *urls_labour.urlpatterns,
]
