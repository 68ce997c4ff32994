"""xiezuo check-deploy: is this installation configured for production? (ADR 0017)

Django's ``check --deploy`` and xiezuo's own rules: the keys given and all different from one
another (a SECRET_KEY reused as the HMAC key would let anyone holding one forge the other's use),
DEBUG and the demo off, the host names set, HTTPS cookies, the redirect and HSTS on, the proxy's
X-Forwarded-Proto believed (``xiezuo serve`` speaks plain http behind nginx), the map approval
number (审图号) set and the static files collected. One line per problem, in Chinese and English,
naming the setting; exit code 1 on any problem, 0 when there is none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core import checks
from django.core.management.base import BaseCommand
from django.utils import translation
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from xiezuo.core.crypto import parse_hex_key, parse_key_ring
from xiezuo.env import setting

# Django's deployment checks that a rule below states in both languages, naming the setting.
COVERED = {
    "security.W004",  # SECURE_HSTS_SECONDS
    "security.W008",  # SECURE_SSL_REDIRECT
    "security.W009",  # SECRET_KEY
    "security.W012",  # SESSION_COOKIE_SECURE
    "security.W016",  # CSRF_COOKIE_SECURE
    "security.W018",  # DEBUG
    "security.W020",  # ALLOWED_HOSTS
}
# .env.example's placeholders, and the one its map approval number carries
KEY_PLACEHOLDER = re.compile(r"replace-with|change-me")
MAP_PLACEHOLDER = re.compile(r"XX|待配置")


@dataclass(frozen=True)
class Problem:
    setting: str
    message: Promise | str

    def line(self) -> str:
        if not isinstance(self.message, Promise):
            return f"{self.setting}: {self.message}"
        with translation.override("zh-hans"):
            zh = str(self.message)
        with translation.override("en"):
            en = str(self.message)
        return f"{self.setting}: {zh} / {en}"


def _django_problems() -> list[Problem]:
    found = checks.run_checks(include_deployment_checks=True)
    return [
        Problem(m.id or "django", f"{m.msg}{f' ({m.hint})' if m.hint else ''}")
        for m in found
        if m.level >= checks.WARNING and not m.is_silenced() and m.id not in COVERED
    ]


def _key_problems() -> list[Problem]:
    problems: list[Problem] = []
    secret = str(settings.SECRET_KEY)
    if len(secret) < 50 or len(set(secret)) < 5 or KEY_PLACEHOLDER.search(secret):
        problems.append(
            Problem(
                "SECRET_KEY", _("is a placeholder or too short: generate one of 64 random hex characters")
            )
        )
    keys: dict[str, str] = {"SECRET_KEY": secret.strip().lower()}
    for name in ("XIEZUO_HMAC_KEY", "XIEZUO_AES_KEY"):
        value = str(getattr(settings, name))
        try:
            keys[name] = parse_hex_key(value, name=name).hex()
        except ValueError:
            problems.append(Problem(name, _("is not 64 hex characters (32 random bytes)")))
    try:
        for key_id, key in parse_key_ring(str(settings.XIEZUO_AES_OLD_KEYS)).items():
            keys[f"XIEZUO_AES_OLD_KEYS[{key_id}]"] = key.hex()
    except ValueError:
        problems.append(Problem("XIEZUO_AES_OLD_KEYS", _("is not written key_id:hex, separated by commas")))
    names = list(keys)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            if keys[first] == keys[second]:
                problems.append(
                    Problem(
                        second,
                        format_lazy(
                            _("is the same key as {other}: every key must be generated separately"),
                            other=first,
                        ),
                    )
                )
    return problems


def _web_problems() -> list[Problem]:
    problems: list[Problem] = []
    if settings.DEBUG:
        problems.append(Problem("DEBUG", _("is on: it shows internal details on error pages; set DEBUG=0")))
    if settings.DEMO:
        problems.append(
            Problem(
                "XIEZUO_DEMO", _("is on: the demo makes its own keys; set XIEZUO_DEMO=0 and give the keys")
            )
        )
    hosts = settings.ALLOWED_HOSTS
    if setting("ALLOWED_HOSTS") is None or not hosts:
        problems.append(Problem("ALLOWED_HOSTS", _("is not set: give the site's host name")))
    elif "*" in hosts:
        problems.append(Problem("ALLOWED_HOSTS", _("must name the site's host names, not *")))
    if not settings.SESSION_COOKIE_SECURE:
        problems.append(
            Problem("SESSION_COOKIE_SECURE", _("is off: the sign-in cookie would travel over plain http"))
        )
    if not settings.CSRF_COOKIE_SECURE:
        problems.append(
            Problem("CSRF_COOKIE_SECURE", _("is off: the form cookie would travel over plain http"))
        )
    if not settings.SECURE_SSL_REDIRECT:
        problems.append(
            Problem("SECURE_SSL_REDIRECT", _("is off: requests over plain http are not sent to HTTPS"))
        )
    if settings.SECURE_HSTS_SECONDS < 86_400:
        problems.append(
            Problem(
                "SECURE_HSTS_SECONDS",
                _("is below one day: browsers are not told to keep to HTTPS (31536000)"),
            )
        )
    if not settings.XIEZUO_PROXY_SSL_HEADER:
        problems.append(
            Problem(
                "XIEZUO_PROXY_SSL_HEADER",
                _(
                    "is off: behind nginx every request would look like plain http (redirected for ever); "
                    "set it to 1 when nginx sends X-Forwarded-Proto"
                ),
            )
        )
    return problems


def _site_problems() -> list[Problem]:
    problems: list[Problem] = []
    approval = str(settings.XIEZUO_MAP_APPROVAL).strip()
    if (
        approval == settings.MAP_APPROVAL_PLACEHOLDER
        or not re.search(r"\d", approval)
        or MAP_PLACEHOLDER.search(approval)
    ):
        problems.append(
            Problem(
                "XIEZUO_MAP_APPROVAL", _("is not set: give the map approval number (审图号) of the base map")
            )
        )
    has_manifest = getattr(staticfiles_storage, "has_manifest", None)
    if has_manifest is not None and not has_manifest():
        problems.append(
            Problem(
                "STATIC_ROOT",
                _("holds no collected static files: run `xiezuo manage collectstatic --noinput`"),
            )
        )
    return problems


def problems() -> list[Problem]:
    return _key_problems() + _web_problems() + _site_problems() + _django_problems()


class Command(BaseCommand):
    help = "Check the configuration for production: Django's check --deploy and xiezuo's own rules."
    requires_system_checks: list[str] = []  # run below, with the deployment checks

    def handle(self, *args: Any, **opts: Any) -> None:
        found = problems()
        for problem in found:
            self.stdout.write(problem.line())
        if found:
            self.stderr.write(f"xiezuo check-deploy: {len(found)} problem(s)")
            raise SystemExit(1)
        self.stdout.write("xiezuo check-deploy: OK")
