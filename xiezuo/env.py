"""Typed helpers that read settings from environment variables and fail loudly.

A value comes from the process environment or, when not set there, from the settings file
``<data dir>/settings.env`` where ``xiezuo demo`` writes the demo's settings, so that every
command after the demo finds them (``XIEZUO_DEMO=1``) without extra variables. The data dir is
``XIEZUO_DATA_DIR``, default ``<repository>/var``. A missing or malformed setting is a
:class:`ConfigError` whose message is one line naming the variable and ``.env.example``.

>>> import os; os.environ["XZ_DOCTEST_FLAG"] = "yes"; env_bool("XZ_DOCTEST_FLAG", False)
True
"""

from __future__ import annotations

import os
from pathlib import Path

SETTINGS_FILE = "settings.env"
REPO_DIR = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """A required setting is missing or malformed (the message names it and .env.example)."""


def data_dir() -> Path:
    """The data folder: ``XIEZUO_DATA_DIR`` from the environment, else ``<repository>/var``."""
    return Path(os.environ.get("XIEZUO_DATA_DIR") or REPO_DIR / "var").resolve()


def read_settings_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines (``#`` comments, optional double quotes), as ``.env.example`` writes them."""
    out: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        name, sep, value = text.partition("=")
        if not sep or not name.strip().isidentifier():
            raise ConfigError(f"{path}, line {number}: expected NAME=value (see .env.example)")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        out[name.strip()] = value
    return out


def write_settings_file(values: dict[str, str], *, note: str, folder: Path | None = None) -> Path:
    """Write (or update) the settings file in the data folder with ``values``."""
    path = (folder or data_dir()) / SETTINGS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    current = read_settings_file(path) if path.exists() else {}
    current.update(values)
    lines = [f"# {note}", "# Settings read by every xiezuo command when not set in the environment.", ""]
    lines += [f"{k}={v}" for k, v in current.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _file_cache.clear()
    return path


_file_cache: dict[Path, dict[str, str]] = {}


def _from_file(name: str) -> str | None:
    path = data_dir() / SETTINGS_FILE
    if path not in _file_cache:
        _file_cache[path] = read_settings_file(path) if path.is_file() else {}
    return _file_cache[path].get(name)


def setting(name: str) -> str | None:
    """The raw value of a setting: the environment first, then the settings file."""
    value = os.environ.get(name)
    return value if value is not None else _from_file(name)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    value = setting(name)
    if value is None:
        if default is None:
            raise ConfigError(f"{name} is required: set it in the environment (see .env.example)")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = setting(name)
    if value is None:
        return default
    low = value.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ConfigError(f"{name} must be one of 1/0/true/false/yes/no, not {value!r} (see .env.example)")


def env_int(name: str, default: int) -> int:
    value = setting(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, not {value!r} (see .env.example)") from exc


def env_float(name: str, default: float) -> float:
    """A number of seconds and the like.

    >>> import os; os.environ["XZ_DOCTEST_SECONDS"] = "1.5"; env_float("XZ_DOCTEST_SECONDS", 2.0)
    1.5
    """
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, not {value!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    value = setting(name)
    if value is None:
        return default
    return [part.strip() for part in value.split(",") if part.strip()]


def default_web_workers() -> int:
    """gunicorn processes when ``XIEZUO_WEB_WORKERS`` is not set: one per core, at least two.

    Each process serves ``XIEZUO_WEB_THREADS`` requests at once (most of a request's time is spent
    waiting on the database); a second process keeps the site answering while one is busy with a
    heavy page, and the job worker beside them takes the rest of the machine (two cores: two
    processes and the worker).

    >>> default_web_workers() >= 2
    True
    """
    return max(2, os.cpu_count() or 1)
