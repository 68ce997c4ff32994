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
from xiezuo.core.crypto import get_cipher
from xiezuo.core.models import AuditEntry, Job
from xiezuo.core.scope import can, scope_for, user_roles
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
        "audit": AuditEntry.objects.filter(
            action__in=["create", "update", "delete", "revoke", "flag"]
        ).count(),
    }


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
    folder = Path(settings.MEDIA_ROOT) / "imports" / "matrix"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "registry.csv").write_text("户编号\n", encoding="utf-8")
    (folder / "errors.xlsx").write_bytes(b"PK")
    Job.objects.create(
        kind="registry.import",
        status="done",
        created_by=world.user("chengdexian"),
        params={"file": "imports/matrix/registry.csv", "data_year": 2019, "as_of": "2019-12-31"},
        result={"errors_file": "errors.xlsx", "counts": {"read": 1}},
    )


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r.method} {r.name}" for r in ROUTES])
def test_matrix(route: Route, world: World, other_token: None) -> None:
    mismatches = []
    for username in [*ACCOUNTS, None]:
        for where in WHERE:
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
