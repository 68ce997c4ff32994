"""Roles and the scope truth table of DESIGN.md D2, as data.

A grant gives a user one role over one region subtree (or the whole country) until it expires.
What each role may see and change, per kind of object, is the table below; ``xiezuo.core.scope``
turns it into query filters and checks.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

NATIONAL = "national_coordinator"
HELPER = "helper_coordinator"
HELPED = "helped_coordinator"
CLERK = "county_clerk"
ASSESSOR = "assessor"
VIEWER = "viewer"
SYSADMIN = "system_admin"
SECADMIN = "security_admin"
AUDITOR = "auditor"

ROLES: dict[str, object] = {
    NATIONAL: _("national coordinator"),
    HELPER: _("helper coordinator"),
    HELPED: _("helped coordinator"),
    CLERK: _("county clerk"),
    ASSESSOR: _("assessor"),
    VIEWER: _("viewer"),
    SYSADMIN: _("system administrator"),
    SECADMIN: _("security administrator"),
    AUDITOR: _("auditor"),
}

BUSINESS = frozenset({NATIONAL, HELPER, HELPED, CLERK, ASSESSOR, VIEWER})

# object kind -> action -> roles whose grants' regions give that right.
TRUTH_TABLE: dict[str, dict[str, frozenset[str]]] = {
    # Reference data: every signed-in user reads regions; flags are maintained by coordinators.
    "region": {
        "view": BUSINESS | {SYSADMIN, SECADMIN, AUDITOR},
        "change": frozenset({NATIONAL, HELPER, HELPED}),
    },
    "organisation": {"view": BUSINESS, "change": frozenset({NATIONAL, HELPER, HELPED, CLERK})},
    # A pairing is seen by users whose grants contain its helper side's or helped side's region.
    "pairing": {"view": BUSINESS, "change": frozenset({NATIONAL, HELPER, HELPED})},
    # The registry is the helped side's, by region only; helpers see verification results only.
    # Unmasking personal data is a separate right, exercised in scope and logged (D3).
    "registry": {
        "view": frozenset({NATIONAL, HELPED, CLERK, ASSESSOR, VIEWER}),
        "change": frozenset({HELPED, CLERK}),
        "unmask": frozenset({HELPED, CLERK}),
    },
    # Cooperation ledgers: seen by both sides of a pairing, written by the side whose place the
    # record concerns; approval steps are taken per flows.yaml (xiezuo.ledgers.flows).
    "ledger": {"view": BUSINESS, "change": frozenset({NATIONAL, HELPER, HELPED, CLERK})},
    "job": {"view": BUSINESS | {SYSADMIN}, "change": BUSINESS - {VIEWER, ASSESSOR} | {SYSADMIN}},
    "audit": {"view": frozenset({AUDITOR, SECADMIN}), "change": frozenset()},
    "user": {"view": frozenset({SYSADMIN, SECADMIN}), "change": frozenset({SYSADMIN})},
    "grant": {"view": frozenset({SYSADMIN, SECADMIN}), "change": frozenset({SECADMIN})},
}


def roles_for(kind: str, action: str) -> frozenset[str]:
    """Roles that may do ``action`` on objects of ``kind``.

    >>> sorted(roles_for("audit", "view"))
    ['auditor', 'security_admin']
    """
    return TRUTH_TABLE[kind][action]
