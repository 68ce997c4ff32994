"""The test harness itself: the suite runs on the database DATABASE_URL names (D13)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.db import connection

from xiezuo.devtools import pgcluster
from xiezuo.devtools.pgcluster import ClusterError, pg_cluster

if TYPE_CHECKING:
    from playwright.sync_api import Page


def _expected_vendor() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"


def test_database_vendor_matches_database_url() -> None:
    assert connection.vendor == _expected_vendor()


@pytest.mark.django_db
def test_database_version() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version_num")
            assert int(cursor.fetchone()[0]) >= 150000
        else:
            cursor.execute("SELECT sqlite_version()")
            assert tuple(int(p) for p in cursor.fetchone()[0].split(".")[:2]) >= (3, 35)


def test_pg_cluster_starts_and_is_removed() -> None:
    with pg_cluster(database="harness") as cluster:
        root = Path(cluster.root)
        assert cluster.url.endswith(f":{cluster.port}/harness")
        assert cluster.server_version().startswith("15.")
        assert cluster.psql("SHOW fsync").strip() == "off"
        assert cluster.psql("SELECT current_database()").strip() == "harness"
    assert not root.exists()


def test_pg_cluster_fails_loudly_with_the_server_log(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pgcluster, "SERVER_OPTIONS", ("-c no_such_setting=1",))
    with pytest.raises(ClusterError, match="no_such_setting") as failure, pg_cluster():
        pass
    assert "server log" in str(failure.value)


@pytest.mark.browser
def test_live_server_login(page: Page, login: Callable[[Page, str], Page], live_server_url: str) -> None:
    """The shared live site answers, serves its static files and lets a test-world user sign in."""
    response = page.goto(f"{live_server_url}/login/")
    assert response is not None and response.status == 200
    assert page.evaluate("document.documentElement.lang").lower().startswith("zh")
    login(page, "national")
    assert "/login/" not in page.url
