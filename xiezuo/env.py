"""Typed helpers that read settings from environment variables and fail loudly.

>>> import os; os.environ["XZ_DOCTEST_FLAG"] = "yes"; env_bool("XZ_DOCTEST_FLAG", False)
True
"""

from __future__ import annotations

import os


class ConfigError(RuntimeError):
    """A required setting is missing or malformed."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None:
        if default is None:
            raise ConfigError(f"environment variable {name} is required")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    low = value.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ConfigError(f"{name} must be one of 1/0/true/false/yes/no, not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, not {value!r}") from exc


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
    value = os.environ.get(name)
    if value is None:
        return default
    return [part.strip() for part in value.split(",") if part.strip()]
