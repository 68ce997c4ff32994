"""The command line after the demo (issue 17 item 8), in real subprocesses.

``xiezuo demo`` leaves its settings in ``<data dir>/settings.env``; every later command reads them
without extra variables. A missing or wrong setting stops a command with one line naming the
variable and ``.env.example``, never a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from xiezuo.env import ConfigError, read_settings_file, write_settings_file

REPO = Path(__file__).resolve().parent.parent
XIEZUO = [sys.executable, "-m", "xiezuo.cli"]
SETTINGS = ("DEBUG", "XIEZUO_DEMO", "SECRET_KEY", "XIEZUO_HMAC_KEY", "XIEZUO_AES_KEY", "DATABASE_URL")


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a newcomer's shell: no setting of ours but the data folder."""
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS and not k.startswith("DJANGO_")}
    env.update({"XIEZUO_DATA_DIR": str(data_dir), **extra})
    return env


def _run(args: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*XIEZUO, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=300, input=stdin
    )


@pytest.mark.parametrize(
    ("extra", "line"),
    [
        (
            {},
            "xiezuo: SECRET_KEY is required when DEBUG and XIEZUO_DEMO are off: set it in the environment "
            "(see .env.example), or run `bin/xiezuo demo` for a demo",
        ),
        (
            {"DEBUG": "maybe"},
            "xiezuo: DEBUG must be one of 1/0/true/false/yes/no, not 'maybe' (see .env.example)",
        ),
        (
            {"DEBUG": "1", "XIEZUO_LOGIN_MAX_FAILURES": "five"},
            "xiezuo: XIEZUO_LOGIN_MAX_FAILURES must be an integer, not 'five' (see .env.example)",
        ),
        (
            {"DEBUG": "1", "DATABASE_URL": "mysqlx://u:secret@h/db"},
            "xiezuo: DATABASE_URL must be a postgres:// or sqlite:// URL, not mysqlx:// (see .env.example)",
        ),
    ],
)
def test_a_missing_or_wrong_setting_is_one_line_naming_it(
    tmp_path: Path, extra: dict[str, str], line: str
) -> None:
    run = _run(["serve", "--help"], _env(tmp_path, **extra))
    assert (run.returncode, run.stderr.splitlines(), run.stdout) == (2, [line], "")
    assert "secret" not in run.stderr


def test_every_command_works_after_the_demo_without_extra_variables(tmp_path: Path) -> None:
    # What `xiezuo demo` writes before anything else (see the demo smoke test, which runs it for real).
    write_settings_file({"XIEZUO_DEMO": "1", "XIEZUO_SERVE_STATIC": "1"}, note="test", folder=tmp_path)
    env = _env(tmp_path)
    for args in (["serve", "--help"], ["import", "placements", "--help"], ["users", "create", "--help"]):
        run = _run(args, env)
        assert (run.returncode, run.stderr) == (0, ""), args
        assert run.stdout.startswith(f"usage: xiezuo {args[0]}"), run.stdout[:200]
    assert _run(["manage", "migrate", "-v", "0"], env).returncode == 0
    created = _run(["users", "create", "newbie", "--role", "national_coordinator", "--password-stdin"], env,
                   stdin="a-long-password-1\n")  # fmt: skip
    assert (created.returncode, created.stdout.strip(), created.stderr) == (
        0,
        "newbie: national_coordinator @ 全国",
        "",
    )
    token = _run(["tokens", "create", "--user", "newbie", "--name", "cli"], env)
    assert token.returncode == 0 and token.stdout.startswith("xz_")
    assert token.stderr.startswith("token xz_") and "for newbie, expires" in token.stderr
    # the keys the commands used are the demo's own, made once in the data folder
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".json", ".env")) == [
        "dev-keys.json",
        "settings.env",
    ]


def test_the_environment_wins_over_the_settings_file(tmp_path: Path) -> None:
    write_settings_file({"XIEZUO_DEMO": "1"}, note="test", folder=tmp_path)
    write_settings_file({"TIME_ZONE": "Asia/Urumqi"}, note="test", folder=tmp_path)
    assert read_settings_file(tmp_path / "settings.env") == {"XIEZUO_DEMO": "1", "TIME_ZONE": "Asia/Urumqi"}
    env = _env(tmp_path, XIEZUO_DEMO="0")
    run = _run(["serve", "--help"], env)
    assert run.returncode == 2 and run.stderr.startswith("xiezuo: SECRET_KEY is required")
    shown = _run(["manage", "shell", "-c", "from django.conf import settings; print(settings.TIME_ZONE)"],
                 _env(tmp_path))  # fmt: skip
    assert shown.stdout.strip().splitlines()[-1] == "Asia/Urumqi"


def test_a_malformed_settings_file_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "settings.env").write_text("XIEZUO_DEMO=1\nthis is not a setting\n")
    with pytest.raises(ConfigError, match=r"settings.env, line 2: expected NAME=value \(see .env.example\)"):
        read_settings_file(tmp_path / "settings.env")
    run = _run(["serve", "--help"], _env(tmp_path))
    assert run.returncode == 2 and run.stderr.splitlines() == [
        f"xiezuo: {tmp_path / 'settings.env'}, line 2: expected NAME=value (see .env.example)"
    ]
