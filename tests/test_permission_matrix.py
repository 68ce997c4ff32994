"""The permission matrix (DESIGN.md D2): every page and API endpoint × every account × in/out of scope.

Each route is listed once with the rule that decides who may use it, written from the scope
function (``xiezuo.core.scope``), not from the views, so a view that forgets its check fails here.
Refused writes must change nothing: the tables they could touch are compared before and after.
A route that exists but is missing from the matrix fails ``test_every_route_is_in_the_matrix``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.world import World
from xiezuo.accounts.models import ApiToken, Grant
from xiezuo.accounts.roles import AUDITOR, SECADMIN
from xiezuo.accounts.tokens import create_token
from xiezuo.api.api import api
from xiezuo.assessment.models import Run, Score
from xiezuo.core.crypto import get_cipher
from xiezuo.core.models import AuditEntry, Job
from xiezuo.core.scope import can, scope_for, user_roles
from xiezuo.ledgers.models import Attachment, PersonCheck
from xiezuo.pairings.models import Organisation, Pairing, PairingDocument, PairingSide
from xiezuo.pairings.selectors import pairings_for
from xiezuo.regions.models import RegionFlag
from xiezuo.registry.models import Dataset, Household, Member
from xiezuo.synth.foundation import WORLD_ACCOUNTS, region

pytestmark = pytest.mark.django_db

ACCOUNTS = [a.username for a in WORLD_ACCOUNTS]
WHERE = ["in", "out"]


def target_pairing(where: str) -> Pairing:
    """In: 东丽区 → 承德县 (seen by 天津, 东丽, 承德 … accounts). Out: 北京市 → 内蒙古自治区."""
    code = region("130821").code if where == "in" else region("15").code
    return Pairing.objects.filter(sides__side="helped", sides__region_code=code).order_by("level").last()  # type: ignore[return-value]


def target_region(where: str) -> str:
    return "130821" if where == "in" else "150102"


def signed_in(user: User | None) -> bool:
    return user is not None


def page_rule(ok: Callable[[User, str], bool]) -> Callable[[User | None, str], int]:
    """Pages: anonymous → login redirect; allowed → 200; otherwise 404 (never 403)."""

    def rule(user: User | None, where: str) -> int:
        if user is None:
            return 302
        return 200 if ok(user, where) else 404

    return rule


def api_rule(ok: Callable[[User, str], bool], success: int = 200) -> Callable[[User | None, str], int]:
    def rule(user: User | None, where: str) -> int:
        if user is None:
            return 401
        return success if ok(user, where) else 404

    return rule


def sees_pairing(user: User, where: str) -> bool:
    return pairings_for(user).filter(pk=target_pairing(where).pk).exists()


def changes_pairing(user: User, where: str) -> bool:
    return pairings_for(user, "change").filter(pk=target_pairing(where).pk).exists()


def moves_pairing(user: User, where: str) -> bool:
    """May change the pairing as it is and as the write leaves it (北辰区 → the target region):
    a write that would move it out of the writer's scope is refused (DESIGN.md D2)."""
    after = [region("120113").code, region(target_region(where)).code]
    return changes_pairing(user, where) and scope_for(user, "pairing", "change").contains_any(after)


def changes_region(user: User, where: str) -> bool:
    return scope_for(user, "region", "change").contains(region(target_region(where)).code)


def changes_org_in(user: User, where: str) -> bool:
    return scope_for(user, "organisation", "change").contains(region(target_region(where)).code)


def reads_audit(user: User, where: str) -> bool:
    return bool(user_roles(user) & {AUDITOR, SECADMIN})


HOUSEHOLD_REGION = {"in": 130821100201, "out": 130881100022}  # 承德县 / 平泉市 (inside 承德市 still)


def household(where: str) -> Household:
    return Household.objects.get(number=f"M-{where}")


def member(where: str) -> Member:
    return Member.objects.get(household__number=f"M-{where}")


def registry_right(action: str) -> Callable[[User, str], bool]:
    def ok(user: User, where: str) -> bool:
        return scope_for(user, "registry", action).contains(HOUSEHOLD_REGION[where])

    return ok


def assessment_run(where: str) -> Run:
    """A run whose only result is the target pairing's: seen exactly by those who see the pairing."""
    run, _ = Run.objects.get_or_create(year=2019, snapshot=f"matrix-{where}", defaults={"frameworks": []})
    Score.objects.get_or_create(
        run=run,
        framework="ew-2017-east",
        pairing_id=target_pairing(where).pk,
        side="helper",
        defaults={"level": "county-county", "total": 0, "grade": "较差", "rank": 1},
    )
    return run


def import_job() -> Job:
    return Job.objects.get(kind="registry.import", created_by__username="chengdexian")


def job_of(username: str) -> Job:
    return Job.objects.get(created_by__username=username, kind="regions.load")


def sees_job(user: User, where: str) -> bool:
    """Own jobs; national coordinators and system administrators see every job."""
    return user.username in ("chengdexian", "national", "sysadmin")


def anyone(user: User, where: str) -> bool:
    return True


@dataclass(frozen=True)
class Route:
    name: str  # URL name (web:…) or API operation "METHOD /api/v1/…"
    method: str
    url: Callable[[str], str]
    expect: Callable[[User | None, str], int]
    body: Callable[[str], dict[str, Any]] | None = None
    api: bool = False
    token: bool = True  # API routes: bearer token, or the browser session when False
    multipart: bool = False
    users: tuple[str | None, ...] | None = None  # None: every account; else only these (and only "in")


def pairing_form(where: str) -> dict[str, Any]:
    p = target_pairing(where)
    return {
        "programme": p.programme,
        "level": p.level,
        "start_year": p.start_year,
        "end_year": "2020",
        "helper": "120113",
        "helped": target_region(where),
        "source": "changed by the matrix test",
        "parent": "",
    }


def pairing_json(where: str) -> dict[str, Any]:
    return {
        "programme": "hand_in_hand",
        "level": "county-county",
        "start_year": 2018,
        "end_year": 2020,
        "helper": [{"region": "120113"}],
        "helped": [{"region": target_region(where)}],
    }


# --- cooperation ledgers (issue #4) -----------------------------------------------------------
# Two ledgers carry the full matrix: placements (entered by the helped side, people checked,
# quarterly periods) and fiscal funds (entered by the helper side, confirmed by the helped side).
# Every other ledger's endpoints come from the same code (xiezuo.api.ledgers._routes); they are
# covered for authentication and for refusing what is not there.
FULL = ("placements", "fiscal_funds")


def side_codes(where: str, side: str) -> list[int]:
    return sorted(
        PairingSide.objects.filter(pairing=target_pairing(where), side=side).values_list(
            "region_code", flat=True
        )
    )


def sees_ledger(user: User, where: str) -> bool:
    scope = scope_for(user, "ledger", "view")
    return scope.contains_any(side_codes(where, "helper") + side_codes(where, "helped"))


def ledger_viewer(user: User, where: str) -> bool:
    return can(user, "ledger", "view")


def changes_ledger_side(side: str) -> Callable[[User, str], bool]:
    def ok(user: User, where: str) -> bool:
        return scope_for(user, "ledger", "change").contains_any(side_codes(where, side))

    return ok


def enters_some(side: str) -> Callable[[User, str], bool]:
    def ok(user: User, where: str) -> bool:
        scope = scope_for(user, "ledger", "change")
        if scope.is_empty:
            return False
        return scope.national or PairingSide.objects.filter(scope.q("region_code"), side=side).exists()

    return ok


def ledger_types_get(key: str) -> Any:
    from xiezuo.ledgers import types as ledger_types

    return ledger_types.get(key)


def ledger_record(key: str, where: str) -> Any:
    from xiezuo.ledgers import types as ledger_types

    return ledger_types.get(key).model.objects.get(source="demo", pairing=target_pairing(where))


# Who may take the first step of the placements period (county clerk of 承德县 or the national
# coordinator), per flows.yaml: written out, not derived from the code under test.
FIRST_STEP = {"in": {"national", "chengdexian"}, "out": {"national"}}
# Who takes any step of it (the 承德市 coordinator approves).
STEP_TAKERS = {"in": {"national", "chengdexian", "chengde"}, "out": {"national"}}


# Four eyes (issue 21): the fixture has the national coordinator submit the 2019 training-session
# period of each target pairing. The review is then 承德市's coordinator's for the in pairing; the
# national coordinator may take it by role but took the step before, so is refused with 403.
REVIEWERS = {"in": {"chengde"}, "out": set()}
SUBMITTER = "national"


def four_eyes_rule(allowed: int, anonymous: int) -> Callable[[User | None, str], int]:
    def rule(user: User | None, where: str) -> int:
        if user is None:
            return anonymous
        if user.username in REVIEWERS[where]:
            return allowed
        return 403 if user.username == SUBMITTER else 404

    return rule


def review_body(where: str) -> dict[str, Any]:
    return {
        "ledger": "training_sessions",
        "side": "helped",
        "pairing": target_pairing(where).pk,
        "year": 2019,
    }


# The generic ledger endpoints run for an account that may write, one that may only read elsewhere,
# one without business rights, and anonymous: the full matrix of the two ledgers above covers the rest.
GENERIC_USERS: tuple[str | None, ...] = ("chengdexian", "dongli", "sysadmin", None)


def ledger_routes() -> list[Route]:
    rec = ledger_record
    out = [
        Route("web:ledgers", "GET", lambda w: "/ledgers/", page_rule(ledger_viewer)),
        Route("web:ledger_list", "GET", lambda w: "/ledgers/placements/", page_rule(ledger_viewer)),
        Route(
            "web:ledger_new", "GET", lambda w: "/ledgers/placements/new/", page_rule(enters_some("helped"))
        ),
        Route(
            "web:ledger_import",
            "GET",
            lambda w: "/ledgers/fiscal_funds/import/",
            page_rule(enters_some("helper")),
        ),
        Route(
            "web:ledger_import_errors",
            "GET",
            lambda w: f"/ledgers/placements/import/{Job.objects.get(kind='ledger.import').pk}/errors/",
            page_rule(lambda u, w: u.username == "chengdexian"),
        ),
        Route("web:ledger_template", "GET", lambda w: "/ledgers/placements/template.xlsx", page_rule(anyone)),
        Route(
            "web:ledger_export", "GET", lambda w: "/ledgers/placements/export.xlsx", page_rule(ledger_viewer)
        ),
        Route(
            "web:ledger_record",
            "GET",
            lambda w: f"/ledgers/placements/{rec('placements', w).pk}/",
            page_rule(sees_ledger),
        ),
        Route(
            "web:ledger_edit",
            "GET",
            lambda w: f"/ledgers/placements/{rec('placements', w).pk}/edit/",
            page_rule(changes_ledger_side("helped")),
        ),
        Route(
            "web:ledger_delete",
            "POST",
            lambda w: f"/ledgers/placements/{rec('placements', w).pk}/delete/",
            lambda u, w: 302 if u is None or changes_ledger_side("helped")(u, w) else 404,
        ),
        Route(
            "web:ledger_confirm",
            "POST",
            lambda w: f"/ledgers/fiscal_funds/{rec('fiscal_funds', w).pk}/confirm/",
            lambda u, w: 302 if u is None or changes_ledger_side("helped")(u, w) else 404,
            body=lambda w: {"decision": "confirm"},
        ),
        Route(
            "web:ledger_attach",
            "POST",
            lambda w: f"/ledgers/fiscal_funds/{rec('fiscal_funds', w).pk}/attach/",
            # a CSV is not an attachment type: allowed users get 400 (nothing saved), others 404
            lambda u, w: (
                302
                if u is None
                else (
                    400 if changes_ledger_side("helper")(u, w) or changes_ledger_side("helped")(u, w) else 404
                )
            ),
            body=lambda w: {"kind": "receipt"},
            multipart=True,
        ),
        Route(
            "web:ledger_attachment",
            "GET",
            lambda w: (
                f"/ledgers/attachments/{Attachment.objects.get(record_id=rec('fiscal_funds', w).pk).pk}/"
            ),
            page_rule(sees_ledger),
        ),
        Route("web:ledger_periods", "GET", lambda w: "/ledgers/periods/", page_rule(ledger_viewer)),
        Route(
            "web:ledger_period_action",
            "POST",
            lambda w: "/ledgers/periods/advance/",
            lambda u, w: 302 if u is None or u.username in FIRST_STEP[w] else 404,
            body=lambda w: {
                "ledger": "placements",
                "pairing": target_pairing(w).pk,
                "year": 2019,
                "period_no": 1,
            },
        ),
        Route(
            "web:ledger_period_action",
            "POST",
            lambda w: "/ledgers/periods/advance/",
            four_eyes_rule(302, 302),
            body=review_body,
        ),
        Route(
            "web:ledger_period_attach",
            "POST",
            lambda w: "/ledgers/periods/attach/",
            # those who take a step of the placements flow (a CSV is refused: 400, nothing saved)
            lambda u, w: 302 if u is None else (400 if u.username in STEP_TAKERS[w] else 404),
            body=lambda w: {
                "ledger": "placements",
                "side": "helped",
                "pairing": target_pairing(w).pk,
                "year": 2019,
                "period_no": 1,
            },
            multipart=True,
        ),
        Route(
            "web:pairing_rollup",
            "GET",
            lambda w: f"/pairings/{target_pairing(w).pk}/rollup/2019/",
            page_rule(sees_ledger),
        ),
        Route(
            "web:pairing_rollup_export",
            "GET",
            lambda w: f"/pairings/{target_pairing(w).pk}/rollup/2019/export.xlsx",
            page_rule(sees_ledger),
        ),
        Route(
            "web:labour_match",
            "GET",
            lambda w: (
                f"/labour/postings/{ledger_types_get('postings').model.objects.get(pairing=target_pairing(w)).pk}/match/"
            ),
            # the labour staff of a county on the pairing's helped side (written out: 承德县's clerk,
            # 承德市's coordinator); the out pair's helped side is a province with no county staff
            page_rule(lambda u, w: w == "in" and u.username in {"chengdexian", "chengde"}),
        ),
        Route(
            "POST /api/v1/periods/{action}",
            "POST",
            lambda w: "/api/v1/periods/advance",
            four_eyes_rule(200, 401),
            body=review_body,
            api=True,
        ),
        Route("GET /api/v1/ledgers", "GET", lambda w: "/api/v1/ledgers", api_rule(anyone), api=True),
        Route(
            "GET /api/v1/pairings/{pairing_id}/rollup",
            "GET",
            lambda w: f"/api/v1/pairings/{target_pairing(w).pk}/rollup?year=2019",
            api_rule(sees_ledger),
            api=True,
        ),
        Route(
            "POST /api/v1/periods/{action}",
            "POST",
            lambda w: "/api/v1/periods/advance",
            api_rule(lambda u, w: u.username in FIRST_STEP[w]),
            body=lambda w: {
                "ledger": "placements",
                "pairing": target_pairing(w).pk,
                "year": 2019,
                "period_no": 1,
            },
            api=True,
        ),
    ]
    side_of = {"placements": "helped", "fiscal_funds": "helper"}
    for key in FULL:
        base = f"/api/v1/ledgers/{key}/records"
        side = side_of[key]
        out += [
            Route(f"GET {base}", "GET", lambda w, b=base: b, api_rule(anyone), api=True),
            Route(
                f"GET {base}/{{record_id}}",
                "GET",
                lambda w, b=base, k=key: f"{b}/{rec(k, w).pk}",
                api_rule(sees_ledger),
                api=True,
            ),
            Route(
                f"DELETE {base}/{{record_id}}",
                "DELETE",
                lambda w, b=base, k=key: f"{b}/{rec(k, w).pk}",
                api_rule(changes_ledger_side(side), 204),
                api=True,
            ),
            Route(
                f"PUT {base}/{{record_id}}",
                "PUT",
                lambda w, b=base, k=key: f"{b}/{rec(k, w).pk}",
                api_rule(changes_ledger_side(side)),
                body=lambda w, k=key: ledger_body(k, w),
                api=True,
            ),
            Route(
                f"POST {base}",
                "POST",
                lambda w, b=base: b,
                # a pairing the user cannot see is a bad reference (400); one seen but not theirs, 404
                lambda u, w, s=side: (
                    401
                    if u is None
                    else (201 if changes_ledger_side(s)(u, w) else (404 if sees_ledger(u, w) else 400))
                ),
                body=lambda w, k=key: {**ledger_body(k, w), **NEW_KEY[k]},
                api=True,
            ),
        ]
    for key, confirmer in (("fiscal_funds", "helped"), ("placements", "helper")):
        out.append(
            Route(
                f"POST /api/v1/ledgers/{key}/records/{{record_id}}/confirm",
                "POST",
                lambda w, k=key: f"/api/v1/ledgers/{k}/records/{rec(k, w).pk}/confirm",
                lambda u, w, c=confirmer: (
                    401 if u is None else (200 if changes_ledger_side(c)(u, w) and sees_ledger(u, w) else 404)
                ),
                body=lambda w: {"confirmed": True, "note": ""},
                api=True,
            )
        )
    from xiezuo.ledgers import types as ledger_types

    for t in ledger_types.all_types():
        if t.key in FULL:
            continue
        base = f"/api/v1/ledgers/{t.key}/records"
        missing = f"{base}/{10**9}"
        few = GENERIC_USERS
        out += [
            Route(f"GET {base}", "GET", lambda w, b=base: b, api_rule(anyone), api=True, users=few),
            Route(
                f"GET {base}/{{record_id}}",
                "GET",
                lambda w, m=missing: m,
                api_rule(lambda u, w: False),
                api=True,
                users=few,
            ),
            Route(
                f"DELETE {base}/{{record_id}}",
                "DELETE",
                lambda w, m=missing: m,
                api_rule(lambda u, w: False),
                api=True,
                users=few,
            ),
            # empty bodies are refused before anything is looked up
            Route(
                f"PUT {base}/{{record_id}}",
                "PUT",
                lambda w, m=missing: m,
                lambda u, w: 401 if u is None else 400,
                body=lambda w: {},
                api=True,
                users=few,
            ),
            Route(
                f"POST {base}",
                "POST",
                lambda w, b=base: b,
                lambda u, w: 401 if u is None else 400,
                body=lambda w: {},
                api=True,
                users=few,
            ),
        ]
        if t.confirm_side is not None:
            out.append(
                Route(
                    f"POST {base}/{{record_id}}/confirm",
                    "POST",
                    lambda w, m=missing: f"{m}/confirm",
                    api_rule(lambda u, w: False),
                    body=lambda w: {"confirmed": True},
                    api=True,
                    users=few,
                )
            )
    return out


NEW_KEY = {"placements": {"start": "2019-05-02"}, "fiscal_funds": {"transfer_number": "NEW-1"}}


def ledger_body(key: str, where: str) -> dict[str, Any]:
    pairing = target_pairing(where)
    helped = "130821" if where == "in" else "15"
    if key == "placements":
        return {
            "pairing": pairing.pk,
            "year": 2019,
            "id_number": "130821198005171230",
            "employer": Organisation.objects.get().name,
            "workplace_region": "120110",
            "start": "2019-05-01",
            "arrangement": "organised",
        }
    return {
        "pairing": pairing.pk,
        "year": 2019,
        "transfer_number": f"M-{where}",
        "source_level": "county",
        "target_region_code": helped,
        "allocated_fen": 100,
        "allocated_on": "2019-03-01",
    }


LEDGER_ROUTES = ledger_routes()


ROUTES = [
    Route("web:home", "GET", lambda w: "/", page_rule(anyone)),
    Route("web:login", "GET", lambda w: "/login/", lambda u, w: 200 if u is None else 302),
    Route("web:logout", "POST", lambda w: "/logout/", lambda u, w: 302),
    Route("web:public", "GET", lambda w: "/public/", lambda u, w: 200),
    Route("web:jobs", "GET", lambda w: "/jobs/", page_rule(anyone)),
    Route("web:audit", "GET", lambda w: "/audit/", page_rule(reads_audit)),
    Route("web:regions", "GET", lambda w: "/regions/", page_rule(anyone)),
    Route("web:region", "GET", lambda w: f"/regions/{target_region(w)}/", page_rule(anyone)),
    Route(
        "web:region_children", "GET", lambda w: f"/regions/{target_region(w)}/children/", page_rule(anyone)
    ),
    Route(
        "web:region_flag",
        "POST",
        lambda w: f"/regions/{target_region(w)}/flags/",
        lambda u, w: 302 if u is None else (302 if changes_region(u, w) else 404),
        body=lambda w: {"flag": "deep_county", "value": "", "source": "matrix test"},
    ),
    Route("web:pairings", "GET", lambda w: "/pairings/", page_rule(anyone)),
    Route("web:pairing_map", "GET", lambda w: "/pairings/map/", page_rule(anyone)),
    Route("web:pairing", "GET", lambda w: f"/pairings/{target_pairing(w).pk}/", page_rule(sees_pairing)),
    Route(
        "web:pairing_create",
        "GET",
        lambda w: "/pairings/new/",
        page_rule(lambda u, w: can(u, "pairing", "change")),
    ),
    Route(
        "web:pairing_edit",
        "GET",
        lambda w: f"/pairings/{target_pairing(w).pk}/edit/",
        page_rule(changes_pairing),
    ),
    Route(
        "web:pairing_edit",
        "POST",
        lambda w: f"/pairings/{target_pairing(w).pk}/edit/",
        lambda u, w: 302 if u is None or moves_pairing(u, w) else 404,
        body=pairing_form,
    ),
    Route(
        "GET /api/v1/regions",
        "GET",
        lambda w: "/api/v1/regions?parent=" + target_region(w)[:4],
        api_rule(anyone),
        api=True,
    ),
    Route(
        "GET /api/v1/regions/{code}",
        "GET",
        lambda w: f"/api/v1/regions/{target_region(w)}",
        api_rule(anyone),
        api=True,
    ),
    Route(
        "GET /api/v1/regions/{code}/children",
        "GET",
        lambda w: f"/api/v1/regions/{target_region(w)}/children",
        api_rule(anyone),
        api=True,
    ),
    Route(
        "GET /api/v1/codelists/{key}",
        "GET",
        lambda w: "/api/v1/codelists/programme",
        api_rule(anyone),
        api=True,
    ),
    Route("GET /api/v1/organisations", "GET", lambda w: "/api/v1/organisations", api_rule(anyone), api=True),
    Route(
        "GET /api/v1/organisations/{id}",
        "GET",
        lambda w: f"/api/v1/organisations/{Organisation.objects.get().pk}",
        api_rule(lambda u, w: scope_for(u, "organisation").contains(Organisation.objects.get().region_code)),
        api=True,
    ),
    Route(
        "POST /api/v1/organisations",
        "POST",
        lambda w: "/api/v1/organisations",
        api_rule(changes_org_in, 201),
        body=lambda w: {"kind": "enterprise", "name": f"矩阵测试企业{w}", "region": target_region(w)},
        api=True,
    ),
    Route("GET /api/v1/pairings", "GET", lambda w: "/api/v1/pairings", api_rule(anyone), api=True),
    Route(
        "GET /api/v1/pairings/{id}",
        "GET",
        lambda w: f"/api/v1/pairings/{target_pairing(w).pk}",
        api_rule(sees_pairing),
        api=True,
    ),
    Route(
        "GET /api/v1/assessment/runs/{id}",
        "GET",
        lambda w: f"/api/v1/assessment/runs/{assessment_run(w).pk}",
        api_rule(sees_pairing),
        api=True,
    ),
    Route(
        "POST /api/v1/pairings",
        "POST",
        lambda w: "/api/v1/pairings",
        api_rule(
            lambda u, w: scope_for(u, "pairing", "change").contains_any(
                [region("120113").code, region(target_region(w)).code]
            ),
            201,
        ),
        body=pairing_json,
        api=True,
    ),
    Route(
        "PUT /api/v1/pairings/{id}",
        "PUT",
        lambda w: f"/api/v1/pairings/{target_pairing(w).pk}",
        api_rule(moves_pairing),
        body=pairing_json,
        api=True,
    ),
    Route("GET /api/v1/tokens", "GET", lambda w: "/api/v1/tokens", api_rule(anyone), api=True),
    Route(
        "DELETE /api/v1/tokens/{id}",
        "DELETE",
        lambda w: f"/api/v1/tokens/{ApiToken.objects.get(name='other').pk}",
        api_rule(lambda u, w: u.username == "national", 204),
        api=True,
    ),
    Route(
        "POST /api/v1/tokens",
        "POST",
        lambda w: "/api/v1/tokens",
        api_rule(anyone, 201),
        body=lambda w: {"name": "matrix " + w},
        api=True,
        token=False,
    ),
    Route(
        "web:pairing_document_upload",
        "POST",
        lambda w: f"/pairings/{target_pairing(w).pk}/documents/",
        lambda u, w: 302 if u is None or changes_pairing(u, w) else 404,
        body=lambda w: {
            "title": "帮扶协议",
            "year": "2019",
            "file": SimpleUploadedFile("协议.pdf", b"%PDF-1.4 test"),
        },
    ),
    Route(
        "web:pairing_document",
        "GET",
        lambda w: f"/pairings/{target_pairing(w).pk}/documents/{target_pairing(w).documents.get().pk}/",
        page_rule(sees_pairing),
    ),
    Route(
        "web:users",
        "GET",
        lambda w: "/users/",
        page_rule(lambda u, w: u.username in ("sysadmin", "secadmin")),
    ),
    Route(
        "web:user_create",
        "POST",
        lambda w: "/users/new/",
        lambda u, w: 302 if u is None or u.username == "sysadmin" else 404,
        body=lambda w: {"username": f"new-{w}", "password": "a-long-password-9"},
    ),
    Route(
        "web:grant_add",
        "POST",
        lambda w: "/users/grants/",
        lambda u, w: 302 if u is None or u.username == "secadmin" else 404,
        body=lambda w: {
            "user": User.objects.get(username="viewer").pk,
            "role": "viewer",
            "region": target_region(w),
        },
    ),
    Route(
        "web:grant_revoke",
        "POST",
        lambda w: f"/users/grants/{Grant.objects.get(user__username='viewer').pk}/revoke/",
        lambda u, w: 302 if u is None or u.username == "secadmin" else 404,
    ),
    Route("web:households", "GET", lambda w: "/registry/", page_rule(anyone)),
    Route(
        "web:households_export",
        "GET",
        lambda w: "/registry/export.xlsx",
        page_rule(lambda u, w: can(u, "registry", "change")),
    ),
    Route(
        "web:household",
        "GET",
        lambda w: f"/registry/households/{household(w).pk}/",
        page_rule(registry_right("view")),
    ),
    Route(
        "web:member_unmask",
        "POST",
        lambda w: f"/registry/members/{member(w).pk}/unmask/",
        lambda u, w: 302 if u is None else (200 if registry_right("unmask")(u, w) else 404),
    ),
    Route(
        "web:registry_import",
        "GET",
        lambda w: "/registry/import/",
        page_rule(lambda u, w: can(u, "registry", "change")),
    ),
    Route(
        "web:registry_import_errors",
        "GET",
        lambda w: f"/registry/import/{import_job().pk}/errors/",
        page_rule(lambda u, w: u.username == "chengdexian"),
    ),
    Route("web:registry_template", "GET", lambda w: "/registry/template.xlsx", page_rule(anyone)),
    Route(
        "web:monitoring_import",
        "GET",
        lambda w: "/registry/monitoring/import/",
        page_rule(lambda u, w: can(u, "registry", "change")),
    ),
    Route(
        "web:monitoring_import_errors",
        "GET",
        lambda w: f"/registry/monitoring/import/{Job.objects.get(kind='monitoring.import').pk}/errors/",
        page_rule(lambda u, w: u.username == "chengdexian"),
    ),
    Route(
        "web:monitoring_template", "GET", lambda w: "/registry/monitoring/template.xlsx", page_rule(anyone)
    ),
    Route(
        "GET /api/v1/registry/households",
        "GET",
        lambda w: "/api/v1/registry/households",
        api_rule(anyone),
        api=True,
    ),
    Route(
        "GET /api/v1/registry/households/{id}",
        "GET",
        lambda w: f"/api/v1/registry/households/{household(w).pk}",
        api_rule(registry_right("view")),
        api=True,
    ),
    Route(
        "POST /api/v1/registry/imports",
        "POST",
        lambda w: "/api/v1/registry/imports",
        api_rule(lambda u, w: can(u, "registry", "change"), 202),
        body=lambda w: {"data_year": "2019", "as_of": "2019-12-31"},
        api=True,
        multipart=True,
    ),
    Route(
        "GET /api/v1/registry/imports/{job_id}",
        "GET",
        lambda w: f"/api/v1/registry/imports/{import_job().pk}",
        api_rule(lambda u, w: u.username == "chengdexian"),
        api=True,
    ),
    Route("web:job", "GET", lambda w: f"/jobs/{job_of('chengdexian').pk}/", page_rule(sees_job)),
    Route("web:job_row", "GET", lambda w: f"/jobs/{job_of('chengdexian').pk}/row/", page_rule(sees_job)),
    *LEDGER_ROUTES,
]


def state() -> dict[str, Any]:
    """What a refused write must not change."""
    return {
        "pairings": sorted(
            Pairing.objects.values_list("id", "programme", "level", "start_year", "end_year", "source")
        ),
        "sides": sorted(
            PairingSide.objects.values_list("pairing_id", "side", "region_code", "organisation_id")
        ),
        "organisations": sorted(Organisation.objects.values_list("id", "name", "region_code")),
        "flags": sorted(RegionFlag.objects.values_list("region_id", "flag", "value", "source")),
        "tokens": sorted(ApiToken.objects.values_list("id", "revoked_at")),
        "users": sorted(User.objects.values_list("username", flat=True)),
        "grants": sorted(Grant.objects.values_list("user_id", "role", "region_id", "expires_on")),
        "jobs": Job.objects.count(),
        "documents": sorted(PairingDocument.objects.values_list("id", "pairing_id", "sha256")),
        "households": sorted(Household.objects.values_list("id", "status", "region_code")),
        "ledgers": ledger_state(),
        "audit": AuditEntry.objects.filter(
            action__in=["create", "update", "delete", "revoke", "flag"]
        ).count(),
    }


def ledger_state() -> list[Any]:
    from xiezuo.ledgers import types as ledger_types
    from xiezuo.ledgers.models import Period

    out: list[Any] = []
    for key in FULL:
        model = ledger_types.get(key).model
        out.append(sorted(model.objects.values_list("id", "key", "confirmation", "updated_at")))
    out.append(sorted(Period.objects.values_list("id", "state", "step", "locked")))
    out.append(PersonCheck.objects.count())
    out.append(Attachment.objects.count())
    return out


def client_for(user: User | None, api: bool) -> tuple[Client, dict[str, str]]:
    client = Client()
    headers: dict[str, str] = {}
    if user is not None and api:
        _, token = create_token(actor=user, user=user, name="matrix")
        headers["Authorization"] = f"Bearer {token}"
    elif user is not None:
        client.force_login(user)
    return client, headers


def run(
    route: Route, user: User | None, where: str, client: Client, headers: dict[str, str]
) -> tuple[int, int]:
    expected = route.expect(user, where)
    body = route.body(where) if route.body else None
    if route.multipart:
        upload = SimpleUploadedFile("registry.csv", "户编号,姓名\n".encode(), content_type="text/csv")
        response = client.post(route.url(where), {**(body or {}), "file": upload}, headers=headers)
    elif route.api:
        data = json.dumps(body) if body is not None else None
        response = client.generic(
            route.method, route.url(where), data or "", content_type="application/json", headers=headers
        )
    elif route.method == "POST":
        response = client.post(route.url(where), body or {})
    else:
        response = client.get(route.url(where))
    return expected, response.status_code


@pytest.fixture
def other_token(world: World) -> None:
    national = world.user("national")
    create_token(actor=national, user=national, name="other")
    Job.objects.create(
        kind="regions.load", params={"level": "township"}, created_by=world.user("chengdexian")
    )
    for where in WHERE:
        doc = PairingDocument(pairing=target_pairing(where), title="协议", year=2019, sha256="0" * 64)
        doc.file.save("agreement.pdf", ContentFile(b"%PDF-1.4"), save=True)
    dataset = Dataset.objects.create(
        data_year=2019, as_of=dt.date(2019, 12, 31), file_name="m.csv", file_sha256="0" * 64
    )
    cipher = get_cipher()
    for where, code in HOUSEHOLD_REGION.items():
        h = Household.objects.create(
            number=f"M-{where}", region_code=code, status="poor", first_dataset=dataset, last_dataset=dataset
        )
        Member.objects.create(
            household=h,
            id_hmac=cipher.hmac(where),
            id_cipher=cipher.encrypt("130821197001010011"),
            id_masked="130821**********11",
            name_cipher=cipher.encrypt("测试"),
            name_hmac=cipher.hmac("测试"),
            name_masked="测*",
            birth_date=dt.date(1970, 1, 1),
            sex="1",
            region_code=code,
            last_dataset=dataset,
        )
    from xiezuo.core.scope import SYSTEM
    from xiezuo.ledgers import services as ledger_services
    from xiezuo.ledgers import types as ledger_types

    for where in WHERE:
        for key in FULL:
            ledger_services.save_record(
                ledger_types.get(key), actor=SYSTEM, values=ledger_body(key, where), via="demo"
            )
        ledger_services.save_record(
            ledger_types.get("postings"),
            actor=SYSTEM,
            values={
                "pairing": target_pairing(where).pk,
                "year": 2019,
                "employer": Organisation.objects.get().name,
                "workplace_region": "120110",
                "title": "普工",
                "positions": 5,
                "valid_from": dt.date(2019, 3, 1),
            },
            via="demo",
        )
        att = Attachment(
            ledger="fiscal_funds",
            record_id=ledger_record("fiscal_funds", where).pk,
            kind="receipt",
            title="凭证",
            sha256="0" * 64,
        )
        att.file.save("receipt.pdf", ContentFile(b"%PDF-1.4"), save=True)
    from xiezuo.ledgers import periods

    for where in WHERE:
        periods.take_action(
            "advance",
            actor=national,
            ltype=ledger_types.get("training_sessions"),
            pairing=target_pairing(where),
            side="helped",
            year=2019,
            period_no=0,
            via="demo",
        )
    folder = Path(settings.MEDIA_ROOT) / "imports" / "matrix"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "registry.csv").write_text("户编号\n", encoding="utf-8")
    (folder / "errors.xlsx").write_bytes(b"PK")
    Job.objects.create(
        kind="ledger.import",
        status="done",
        created_by=world.user("chengdexian"),
        params={"file": "imports/matrix/registry.csv", "ledger": "placements"},
        result={"errors_file": "errors.xlsx", "counts": {"read": 1}},
    )
    Job.objects.create(
        kind="registry.import",
        status="done",
        created_by=world.user("chengdexian"),
        params={"file": "imports/matrix/registry.csv", "data_year": 2019, "as_of": "2019-12-31"},
        result={"errors_file": "errors.xlsx", "counts": {"read": 1}},
    )
    Job.objects.create(
        kind="monitoring.import",
        status="done",
        created_by=world.user("chengdexian"),
        params={"kind": "monitoring", "file": "imports/matrix/registry.csv"},
        result={"errors_file": "errors.xlsx", "counts": {"read": 1}},
    )


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r.method} {r.name}" for r in ROUTES])
def test_matrix(route: Route, world: World, other_token: None) -> None:
    mismatches = []
    for username in route.users if route.users is not None else [*ACCOUNTS, None]:
        for where in WHERE if route.users is None else ["in"]:
            # Each account starts from the same data: its writes are rolled back afterwards.
            with transaction.atomic():
                user = User.objects.get(username=username) if username else None
                client, headers = client_for(user, route.api and route.token)
                before = state()
                expected, got = run(route, user, where, client, headers)
                after = state()
                transaction.set_rollback(True)
            if got != expected:
                mismatches.append((username, where, expected, got))
            if route.method != "GET" and got >= 400:
                changed = [k for k in before if before[k] != after[k]]
                if changed:
                    mismatches.append((username, where, "refused write changed", changed))
    assert mismatches == []


def _web_names(patterns: list[Any], prefix: str = "") -> set[str]:
    names: set[str] = set()
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{prefix}{p.namespace}:" if p.namespace else prefix
            names |= _web_names(p.url_patterns, ns)
        elif isinstance(p, URLPattern) and p.name and prefix.startswith("web:"):
            names.add(prefix + p.name)
    return names


def test_every_route_is_in_the_matrix() -> None:
    covered = {r.name for r in ROUTES}
    schema = api.get_openapi_schema()
    operations = {f"{method.upper()} {path}" for path, ops in schema["paths"].items() for method in ops}
    assert _web_names(get_resolver().url_patterns) - covered == set()
    assert operations - covered == set()
