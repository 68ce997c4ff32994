"""API tokens: the service (hash, expiry, revocation, audit) and bearer authentication."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from xiezuo.accounts.models import ApiToken
from xiezuo.accounts.tokens import create_token, revoke_token, verify_token
from xiezuo.core.models import AuditEntry
from xiezuo.core.scope import SYSTEM, ScopeError

pytestmark = pytest.mark.django_db
URL = "/api/v1/tokens"


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}", "Accept-Language": "en"}


@pytest.fixture
def alice() -> User:
    return User.objects.create_user("tok_alice", password="alice-pass-123")


def test_a_token_is_stored_only_as_its_hash_and_its_creation_is_audited(alice: User) -> None:
    token, raw = create_token(actor=alice, user=alice, name="nightly export", days=30)
    assert raw.startswith("xz_") and len(raw) == 46
    assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert token.prefix == raw[:8]
    assert not ApiToken.objects.filter(key_hash=raw).exists()
    assert round((token.expires_at - token.created_at).total_seconds()) == 30 * 86400
    entry = AuditEntry.objects.get(object_type="api_token", object_id=str(token.pk))
    assert (entry.action, entry.actor_name) == ("create", "tok_alice")
    assert sorted(entry.changes) == ["expires_at", "name", "prefix", "user_id"]
    assert raw not in str(entry.changes) and token.key_hash not in str(entry.changes)


def test_the_default_lifetime_comes_from_settings(alice: User, settings: object) -> None:
    settings.XIEZUO_TOKEN_DAYS = 7  # type: ignore[attr-defined]
    token, _ = create_token(actor=alice, user=alice, name="x")
    assert round((token.expires_at - token.created_at).total_seconds()) == 7 * 86400
    with pytest.raises(ValidationError) as err:
        create_token(actor=alice, user=alice, name="x", days=8)
    assert err.value.message_dict == {"days": ["令牌有效期为 1 至 7 天。"]}


def test_a_user_cannot_make_or_revoke_tokens_of_another_user(alice: User) -> None:
    bob = User.objects.create_user("tok_bob")
    with pytest.raises(ScopeError):
        create_token(actor=bob, user=alice, name="x")
    token, _ = create_token(actor=SYSTEM, user=alice, name="x")
    with pytest.raises(ScopeError):
        revoke_token(actor=bob, token=token)
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_verify_records_last_use(alice: User) -> None:
    token, raw = create_token(actor=alice, user=alice, name="x")
    assert token.last_used_at is None
    assert verify_token(raw) == token
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None
    assert verify_token(raw + "x") is None
    assert verify_token("not-a-token") is None


def test_a_live_token_authenticates(alice: User) -> None:
    token, raw = create_token(actor=alice, user=alice, name="x")
    response = Client().get(URL, headers=bearer(raw))
    assert response.status_code == 200
    assert [t["prefix"] for t in response.json()] == [token.prefix]


def test_no_token_is_401(alice: User) -> None:
    response = Client().get(URL, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Authentication required: a valid bearer token or a signed-in session.",
        "errors": [],
    }


def test_an_expired_token_is_401(alice: User) -> None:
    token, raw = create_token(actor=alice, user=alice, name="x")
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert Client().get(URL, headers=bearer(raw)).status_code == 401


def test_a_revoked_token_is_401_and_revocation_is_audited(alice: User) -> None:
    token, raw = create_token(actor=alice, user=alice, name="x")
    revoke_token(actor=alice, token=token)
    assert Client().get(URL, headers=bearer(raw)).status_code == 401
    actions = list(
        AuditEntry.objects.filter(object_type="api_token", object_id=str(token.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "revoke"]


def test_a_token_of_an_inactive_user_is_401(alice: User) -> None:
    _, raw = create_token(actor=alice, user=alice, name="x")
    User.objects.filter(pk=alice.pk).update(is_active=False)
    assert Client().get(URL, headers=bearer(raw)).status_code == 401


def test_revoking_through_the_api_only_reaches_your_own_tokens(alice: User) -> None:
    bob = User.objects.create_user("tok_bob")
    _, alice_raw = create_token(actor=alice, user=alice, name="a")
    bob_token, _ = create_token(actor=bob, user=bob, name="b")
    response = Client().delete(f"{URL}/{bob_token.pk}", headers=bearer(alice_raw))
    assert response.status_code == 404
    assert ApiToken.objects.get(pk=bob_token.pk).revoked_at is None
    own = ApiToken.objects.get(user=alice)
    assert Client().delete(f"{URL}/{own.pk}", headers=bearer(alice_raw)).status_code == 204
    assert Client().get(URL, headers=bearer(alice_raw)).status_code == 401


def test_tokens_are_made_from_a_session_with_csrf_not_from_a_token(alice: User) -> None:
    _, raw = create_token(actor=alice, user=alice, name="a")
    by_token = Client().post(URL, {"name": "b"}, content_type="application/json", headers=bearer(raw))
    assert by_token.status_code == 401
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    no_csrf = browser.post(URL, {"name": "b"}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert no_csrf.status_code == 403
    csrf = "k" * 32  # an unmasked CSRF secret, as the cookie and the header carry it
    browser.cookies["csrftoken"] = csrf
    made = browser.post(URL, {"name": "b", "days": 5}, content_type="application/json", HTTP_X_CSRFTOKEN=csrf)
    assert made.status_code == 201
    body = made.json()
    assert (body["name"], body["prefix"]) == ("b", body["token"][:8])
    assert Client().get(URL, headers=bearer(body["token"])).status_code == 200
    assert ApiToken.objects.filter(user=alice).count() == 2


def test_the_tokens_create_command_prints_the_token_once(alice: User) -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command("tokens_create", user="tok_alice", name="etl", days=3, stdout=out, stderr=err)
    raw = out.getvalue().strip()
    token = verify_token(raw)
    assert token is not None and token.name == "etl" and token.user == alice
    entry = AuditEntry.objects.get(object_type="api_token", object_id=str(token.pk))
    assert (entry.actor_name, entry.via) == ("system", "cli")
