"""People-facing labels (issue 17 item 4, for ledgers and the audit log): names, not codes.

Audit actions, objects and channels show as Chinese labels (English in the English UI); every
action the code writes has a label; ledger lists name each column once; the periods page names
the side (帮扶方/受帮扶方) each period belongs to.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.test import Client

from tests.world import World
from xiezuo.core import audit
from xiezuo.core.scope import SYSTEM
from xiezuo.ledgers import flows, services, types

SOURCE = Path(__file__).resolve().parent.parent / "xiezuo"
AUDIT_CODES = yaml.safe_load((SOURCE / "core" / "codes" / "audit.yaml").read_text(encoding="utf-8"))


def _cells(page: str, marker: str) -> list[list[str]]:
    body = page.split(marker, 1)[1].split("</table>", 1)[0]
    return [
        [
            html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body.split("<tbody>", 1)[1], re.S)
    ]


def _labelled(list_key: str) -> set[str]:
    return {entry[0] for entry in AUDIT_CODES[list_key]["codes"]}


def test_every_audit_action_and_channel_the_code_writes_has_a_label() -> None:
    written: set[str] = set()
    vias: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        written.update(re.findall(r'\baction="([a-z_.]+)"', text))
        written.update(re.findall(r'^[A-Z_]+_ACTION = "([a-z_.]+)"', text, re.M))
        vias.update(re.findall(r'\bvia="([a-z_]+)"', text))
    written -= {"store_true", "append", "store_false", "count", "version"}
    # the period steps are written as period.<step action> (ledgers.services._period_action)
    every_flow = [flows.flow_for(t.key, side) for t in types.all_types() for side in t.sides]
    steps = {s.action for f in every_flow for s in f.steps} | {"return", "unlock", "unlock_request"}
    written |= {f"period.{a}" for a in steps}
    written -= {"return", "unlock", "unlock_request"}  # only ever passed to _period_action
    assert sorted(written - _labelled("audit_action")) == []
    assert sorted(vias - _labelled("audit_via")) == []


def test_the_auditor_reads_actions_objects_and_channels_as_labels(world: World) -> None:
    system: Any = SYSTEM
    pair = world.pairing("120110", "130821")
    record = services.save_record(
        types.get("agreement_targets"),
        actor=world.user("dongli"),
        values={
            "pairing": pair.pk,
            "year": 2019,
            "target_item": "fiscal_funds",
            "target_fen": 290_000_000,
            "signed_on": dt.date(2019, 2, 1),
        },
        via="web",
    )
    audit.record(actor=system, action="export", object_type="user", object_id=1, via="cli")
    client = Client()
    client.force_login(world.user("auditor"))
    rows = _cells(client.get("/audit/").content.decode(), "xz-audit")
    newest, created = rows[0], rows[1]
    assert (newest[3], newest[4], newest[6]) == ("导出", "用户 #1", "命令行")
    assert (created[3], created[4], created[6]) == (
        "新增",
        f"协议目标任务 #{record.pk} 协议目标任务 #{record.pk}",
        "网页",
    )
    client.post("/i18n/setlang/", {"language": "en", "next": "/audit/"})
    rows = _cells(client.get("/audit/").content.decode(), "xz-audit")
    assert (rows[0][3], rows[0][4], rows[0][6]) == ("export", "user #1", "command line")
    assert (rows[1][3], rows[1][6]) == ("create", "web")
    assert settings.LANGUAGE_CODE == "zh-hans"


def test_ledger_lists_name_each_column_once(world: World) -> None:
    pair = world.pairing("120110", "130821")
    services.save_record(
        types.get("agreement_targets"),
        actor=world.user("dongli"),
        values={
            "pairing": pair.pk,
            "year": 2019,
            "target_item": "fiscal_funds",
            "target_fen": 80_000_000,
            "signed_on": dt.date(2019, 2, 1),
        },
        via="web",
    )
    client = Client()
    client.force_login(world.user("dongli"))
    page = client.get("/ledgers/agreement_targets/").content.decode()
    head = page.split("data-records", 1)[1].split("</thead>", 1)[0]
    headers = [
        html.unescape(re.sub(r"<[^>]+>", "", h)).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", head)
    ]
    assert headers == [
        "#",
        "结对关系",
        "归属年度",
        "目标项目",
        "目标金额（万元）",
        "目标数量",
        "签订日期",
        "协议文号",
        "状态",
    ]
    assert _cells(page, "data-records")[0][4] == "80.00"


def test_periods_name_their_side(world: World) -> None:
    pair = world.pairing("120110", "130821")
    client = Client()
    client.force_login(world.user("dongli"))
    page = client.get(f"/ledgers/periods/?pairing={pair.pk}&year=2019").content.decode()
    sides = re.findall(r'<td data-side="(\w+)">(.*?)</td>', page)
    assert {s for s in sides} == {("helper", "帮扶方"), ("helped", "受帮扶方")}
    assert '<th scope="col">填报方</th>' in page
