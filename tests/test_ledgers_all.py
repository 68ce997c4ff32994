"""Every ledger, through the same doors: API create/read/replace/delete and the form page, each write
audited (issue #4: "the permission-matrix and audit tests cover every new page and endpoint").

The rows come from each area's synthetic generator over the test registry, so they are the kind
of rows a clerk would enter; they are saved through the one service first (sessions before their
participants, projects before their beneficiaries), then the last row of each ledger is taken out
and put back through the API as the national coordinator.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal
from typing import Any

import pytest
from django.db import models
from django.test import Client

from tests.ledgers_world import People
from tests.world import World
from xiezuo.accounts.tokens import create_token
from xiezuo.core.models import AuditEntry
from xiezuo.core.scope import SYSTEM
from xiezuo.ledgers import services, types
from xiezuo.synth.ledgers import SynthContext, area_generators

pytestmark = pytest.mark.django_db

KEYS = [t.key for t in types.all_types()]


def as_json(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


# Areas whose rows refer to another area's (allocations → projects, and back).
WITH = {"funds": ("funds", "projects"), "projects": ("funds", "projects")}


def synthetic(world: World, key: str) -> tuple[dict[str, Any], Any]:
    """The last synthetic row of ``key`` and the record it saved (only its area's rows are saved)."""
    pair = world.pairing("120110", "130821")
    area = types.get(key).area
    ctx = SynthContext(rng=random.Random(5), year=2019, pairings=[pair], scale=0.25)
    last: tuple[dict[str, Any], Any] | None = None
    for app, generate in area_generators():
        if app not in WITH.get(area, (area,)):
            continue
        for k, values in generate(ctx).items():
            for v in values:
                saved = services.save_record(types.get(k), actor=SYSTEM, values=v, via="demo", upsert=True)
                if k == key:
                    last = (v, saved)
    assert last is not None, key
    return last


@pytest.mark.parametrize("key", KEYS)
def test_each_ledger_by_api_and_pages_is_audited(key: str, world: World, registry_people: People) -> None:
    ltype = types.get(key)
    values, existing = synthetic(world, key)
    check_pages(key, world)
    services.delete_record(ltype, actor=SYSTEM, record=existing, via="demo")
    national = world.user("national")
    _, token = create_token(actor=national, user=national, name="t")
    auth = {"Authorization": f"Bearer {token}"}
    body = {k: as_json(v) for k, v in values.items()}
    c = Client()
    base = f"/api/v1/ledgers/{key}/records"
    created = c.post(base, json.dumps(body), content_type="application/json", headers=auth)
    assert created.status_code == 201, created.content
    rid = created.json()["id"]
    assert (
        AuditEntry.objects.filter(
            action="create", object_type=key, object_id=str(rid), actor=national
        ).count()
        == 1
    )
    assert c.get(f"{base}/{rid}", headers=auth).json()["id"] == rid
    replaced = c.put(f"{base}/{rid}", json.dumps(body), content_type="application/json", headers=auth)
    assert replaced.status_code == 200
    assert AuditEntry.objects.filter(object_type=key, object_id=str(rid)).count() == 1  # unchanged: no entry
    assert c.delete(f"{base}/{rid}", headers=auth).status_code == 204
    assert (
        AuditEntry.objects.filter(
            action="delete", object_type=key, object_id=str(rid), actor=national
        ).count()
        == 1
    )
    assert not ltype.model.objects.filter(pk=rid).exists()


def check_pages(key: str, world: World) -> None:
    ltype = types.get(key)
    record = ltype.model.objects.order_by("id").first()
    client = Client()
    client.force_login(world.user("national"))
    for path in (
        f"/ledgers/{key}/",
        f"/ledgers/{key}/new/",
        f"/ledgers/{key}/{record.pk}/",
        f"/ledgers/{key}/{record.pk}/edit/",
        f"/ledgers/{key}/import/",
    ):
        assert client.get(path).status_code == 200, path
    listing = client.get(f"/ledgers/{key}/?year=2019").content.decode()
    assert f'data-total="{ltype.model.objects.filter(year=2019).count()}"' in listing
    template = client.get(f"/ledgers/{key}/template.xlsx")
    assert template.status_code == 200 and template.content[:2] == b"PK"
    export = client.get(f"/ledgers/{key}/export.xlsx?year=2019")
    assert export.status_code == 200 and export.content[:2] == b"PK"
    assert AuditEntry.objects.filter(action="export", object_type=key).count() == 1
