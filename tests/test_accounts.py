"""Users and grants pages (三员分立): accounts by the system administrator, roles by the security
administrator, each change audited, and a new grant taking effect at once."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.world import World
from xiezuo.accounts.models import Grant
from xiezuo.core.models import AuditEntry
from xiezuo.pairings.selectors import pairings_for

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_sysadmin_creates_a_user_and_secadmin_grants_a_role(world: World) -> None:
    response = signed_in(world.user("sysadmin")).post(
        "/users/new/", {"username": "pingquan", "password": "a-long-password-7"}
    )
    assert response.status_code == 302
    user = User.objects.get(username="pingquan")
    assert pairings_for(user).count() == 0
    # The system administrator may not grant roles (三员分立): refused, nothing granted.
    assert (
        signed_in(world.user("sysadmin"))
        .post("/users/grants/", {"user": user.pk, "role": "county_clerk", "region": "130881"})
        .status_code
        == 404
    )
    assert not Grant.objects.filter(user=user).exists()
    secadmin = signed_in(world.user("secadmin"))
    assert (
        secadmin.post(
            "/users/grants/",
            {"user": user.pk, "role": "county_clerk", "region": "130881", "expires_on": "2030-12-31"},
        ).status_code
        == 302
    )
    grant = Grant.objects.get(user=user)
    assert (grant.role, grant.region.short_code, str(grant.expires_on)) == (
        "county_clerk",
        "130881",
        "2030-12-31",
    )
    assert sorted(pairings_for(User.objects.get(pk=user.pk)).values_list("name", flat=True)) == [
        "西青区 → 平泉市"
    ]
    assert list(
        AuditEntry.objects.filter(object_repr__startswith="pingquan").values_list("action", "actor_name")
    ) == [
        ("grant", "secadmin"),
        ("create", "sysadmin"),
    ]
    secadmin.post(f"/users/grants/{grant.pk}/revoke/")
    assert not Grant.objects.filter(user=user).exists()
    assert AuditEntry.objects.filter(action="revoke", object_repr="pingquan:county_clerk").count() == 1


def test_bad_grant_input_is_explained_and_changes_nothing(world: World) -> None:
    secadmin = signed_in(world.user("secadmin"))
    before = Grant.objects.count()
    response = secadmin.post(
        "/users/grants/",
        {"user": world.user("viewer").pk, "role": "no_such_role", "region": "999999"},
        follow=True,
    )
    assert Grant.objects.count() == before
    assert "未知的行政区划代码：999999" in response.content.decode()
