"""Page URLs. Each part of the site keeps its views in its own module."""

from __future__ import annotations

from django.urls import path

from xiezuo.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
]
