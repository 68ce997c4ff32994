"""Template filters shared by every page: code-list labels, short region codes, role names, figures.

``{% load xiezuo_tags %}`` then ``{{ pairing.programme|code_label:"programme" }}`` or
``{{ entry.region_code|region_code }}``.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language

from xiezuo.accounts.roles import ROLES
from xiezuo.core import codelists, figures
from xiezuo.core.scope import active_grants, can
from xiezuo.regions.models import LEVEL_DIGITS

register = template.Library()


@register.filter
def code_label(code: Any, list_key: str) -> str:
    """The label of a stored code in the current language; the code itself if it is unknown."""
    if code is None or code == "":
        return ""
    try:
        return codelists.label(list_key, str(code), get_language() or "zh-hans")
    except KeyError:  # unknown list: show the raw code rather than break the page
        return str(code)


def short_region_code(code: int | None) -> str:
    """The shortest 2/4/6/9/12-digit form of a 12-digit code.

    >>> short_region_code(520000000000), short_region_code(522732000000), short_region_code(None)
    ('52', '522732', '')
    >>> short_region_code(522732100201)
    '522732100201'
    """
    if code is None:
        return ""
    text = str(code)
    for width in sorted(LEVEL_DIGITS.values()):
        if text[width:].strip("0") == "":
            return text[:width]
    return text


@register.filter
def region_code(code: Any) -> str:
    """Show a 12-digit region code the way people write it (``522732`` for a county)."""
    if code in (None, ""):
        return ""
    try:
        return short_region_code(int(code))
    except (TypeError, ValueError):
        return str(code)


@register.filter
def money(fen: Any, unit: str = "元") -> str:
    """Fen as text in ``unit`` through the one formatting path (``xiezuo.core.figures``):
    ``{{ posting.wage_min_fen|money:"元" }}`` → ``3,500.00``."""
    if fen in (None, ""):
        return ""
    return figures.money(int(fen), unit)


@register.filter
def count(n: Any) -> str:
    """A count with thousands separators (``xiezuo.core.figures.count``)."""
    if n in (None, ""):
        return ""
    return figures.count(int(n))


@register.filter
def role_label(role: str) -> str:
    """The display name of a role from ``accounts.roles.ROLES``."""
    return str(ROLES.get(role, role))


@register.simple_tag(takes_context=True)
def shell_info(context: template.Context) -> dict[str, Any]:
    """What the page frame shows about the signed-in user: grants (role, region) and menu rights.

    ``{% shell_info as shell %}`` in base.html; grants are cached on the user by the scope module.
    """
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"grants": [], "can_audit": False, "can_users": False}
    grants = sorted(active_grants(user), key=lambda g: (g.region.code if g.region else 0, g.role))
    return {
        "grants": [{"role": ROLES.get(g.role, g.role), "region": g.region} for g in grants],
        "can_audit": can(user, "audit", "view"),
        "can_users": can(user, "user", "view"),
    }
