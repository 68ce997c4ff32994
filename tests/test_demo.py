"""The demo tier in one smoke test: `xiezuo demo --no-serve` on a fresh SQLite database, twice."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

REPO = Path(__file__).resolve().parent.parent
XIEZUO = [sys.executable, "-m", "xiezuo.cli"]


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DEBUG")}
    env.update({"XIEZUO_DATA_DIR": str(data_dir), **extra})
    return env


def _counts(db: Path) -> dict[str, int]:
    tables = [
        "regions_region",
        "pairings_pairing",
        "auth_user",
        "accounts_grant",
        "registry_member",
        "registry_household",
    ]
    with sqlite3.connect(db) as con:
        return {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}


@pytest.mark.slow
@pytest.mark.django_db
def test_demo_sets_up_once_and_refuses_other_databases(tmp_path: Path) -> None:
    if connection.vendor == "postgresql":
        # On the PostgreSQL run: the demo refuses a PostgreSQL database unless forced, touching nothing.
        url = os.environ["DATABASE_URL"]
        run = subprocess.run([*XIEZUO, "demo", "--no-serve"], env=_env(tmp_path, DATABASE_URL=url),
                             cwd=REPO, capture_output=True, text=True, timeout=120)  # fmt: skip
        assert run.returncode != 0
        assert "The demo runs on SQLite" in run.stderr
        return
    first = subprocess.run([*XIEZUO, "demo", "--no-serve"], env=_env(tmp_path), cwd=REPO,
                           capture_output=True, text=True, timeout=600)  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert "national     national_coordinator" in first.stdout
    assert "[demo] registry: 8000 rows read, 7953 accepted, 47 rejected (planted)" in first.stdout
    db = tmp_path / "xiezuo.sqlite3"
    after_first = _counts(db)
    assert after_first == {
        # counties and above (31 + 342 + 2,978) + the ten demo counties' 236 townships and 3,419 villages
        "regions_region": 3351 + 236 + 3419,
        "pairings_pairing": 31 + 5 + 3,
        "auth_user": 12,
        "accounts_grant": 12,
        "registry_member": 7953,
        "registry_household": after_first["registry_household"],
    }
    second = subprocess.run([*XIEZUO, "demo", "--no-serve"], env=_env(tmp_path), cwd=REPO,
                            capture_output=True, text=True, timeout=600)  # fmt: skip
    assert second.returncode == 0, second.stderr
    assert _counts(db) == after_first
    # After the demo every other command works with no extra variable: the demo left its settings
    # in the data folder (issue 17 item 8).
    plain = {k: v for k, v in _env(tmp_path).items() if k not in ("XIEZUO_DEMO", "SECRET_KEY")}
    assert "XIEZUO_DEMO=1" in (tmp_path / "settings.env").read_text()
    for args in (
        ["serve", "--help"],
        ["users", "create", "newcomer", "--role", "county_clerk", "--region", "130821"],
    ):
        run = subprocess.run(
            [*XIEZUO, *args], env=plain, cwd=REPO, capture_output=True, text=True, timeout=120
        )
        assert (run.returncode, run.stderr) == (0, ""), args
    assert "newcomer: county_clerk @ 承德县" in run.stdout
    # A database with users that is not a demo database is refused.
    other = tmp_path / "other"
    other.mkdir()
    subprocess.run(
        [*XIEZUO, "manage", "migrate", "-v", "0"],
        env=_env(other, DEBUG="1"),
        cwd=REPO,
        check=True,
        timeout=300,
    )
    subprocess.run([*XIEZUO, "codes", "load"], env=_env(other, DEBUG="1"), cwd=REPO, check=True, timeout=300)
    subprocess.run([*XIEZUO, "manage", "shell", "-c", "from django.contrib.auth.models import User; "
                    "User.objects.create_user('real', password='a-real-password-1')"],
                   env=_env(other, DEBUG="1"), cwd=REPO, check=True, timeout=120)  # fmt: skip
    refused = subprocess.run([*XIEZUO, "demo", "--no-serve"], env=_env(other), cwd=REPO,
                             capture_output=True, text=True, timeout=120)  # fmt: skip
    assert refused.returncode != 0 and "not demo data" in refused.stderr
