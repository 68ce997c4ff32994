"""The zh-Hans catalogue: complete, in step with the source and the committed .mo, true to the glossary.

Fix a failure with ``python -m xiezuo.devtools.i18n update``, translate the new entries in
``xiezuo/locale/zh_Hans/LC_MESSAGES/django.po``, then ``python -m xiezuo.devtools.i18n compile``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.utils import translation

from xiezuo.devtools import i18n

PO = i18n.po_path()
MO = i18n.mo_path()
FIX = "run `python -m xiezuo.devtools.i18n update`, translate, then `python -m xiezuo.devtools.i18n compile`"

# DOMAIN.md §1 as a rule over translations: (English term in a msgid, Chinese the translation must
# contain, Chinese it must not contain). A term matches as a word, case-insensitive, plural "s" too.
GLOSSARY: list[tuple[str, str, str | None]] = [
    ("arrived", "到位", "到达"),  # funds arrived (资金到位), never 到达
    ("placement", "转移就业", "安置"),  # labour placement; 安置 is resettlement
    ("pairing", "结对", "配对"),
    ("helper", "帮扶", "助手"),
    ("helped", "帮扶", None),  # 受帮扶方 / 被帮扶方
    ("assessment", "考核", None),
    ("self-assessment", "自评", None),
    ("cross-check", "交叉核查", None),
    ("assessor", "考核", None),
    ("registry", "建档立卡", None),
    ("registered poor", "建档立卡", None),
    ("poverty cause", "致贫原因", None),
    ("household attribute", "贫困户属性", None),
    ("monitoring", "监测", None),
    ("return to poverty", "返贫", None),
    ("delisted", "摘帽", None),
    ("as-of date", "数据截止日期", None),
    ("person-times", "人次", None),
    ("joint meeting", "联席会议", None),
    ("seconded", "挂职", None),
    ("business leader", "致富带头人", None),
    ("fiscal aid", "财政援助", None),
    ("consumption", "消费", None),
    ("audit log", "审计日志", None),
    ("demo", "演示", None),
]


def _catalogue() -> polib.POFile:
    return polib.pofile(str(PO))


def _translations(entry: polib.POEntry) -> list[str]:
    return list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]


def test_the_catalogue_is_chinese_with_one_plural_form() -> None:
    po = _catalogue()
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert po.metadata["Language"] == "zh_Hans"
    assert po.metadata["Plural-Forms"] == "nplurals=1; plural=0;"
    assert not po.metadata_is_fuzzy
    assert len(po) > 0


def test_every_entry_is_translated_not_fuzzy_and_keeps_its_placeholders() -> None:
    problems = i18n.problems(_catalogue())
    assert problems == [], f"{len(problems)} entries to fix ({FIX}):\n" + "\n".join(problems)


def test_every_msgid_in_the_source_is_in_the_catalogue(tmp_path: Path) -> None:
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        pytest.fail("GNU gettext (xgettext, msgmerge) is needed to extract msgids; bin/check installs it")
    copy = tmp_path / "xiezuo"
    shutil.copytree(i18n.PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo"))
    proc = i18n.make_messages(copy, data_dir=tmp_path / "data")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    fresh = {(e.msgctxt, e.msgid) for e in polib.pofile(str(i18n.po_path(copy)))}
    committed = {(e.msgctxt, e.msgid) for e in _catalogue() if not e.obsolete}
    missing = sorted(msgid for _, msgid in fresh - committed)
    stale = sorted(msgid for _, msgid in committed - fresh)
    assert missing == [], f"msgids missing from the catalogue ({FIX}):\n" + "\n".join(missing)
    assert stale == [], f"msgids no longer in the source ({FIX}):\n" + "\n".join(stale)


def test_the_committed_mo_holds_exactly_the_translations_of_the_po() -> None:
    differences = i18n.mo_differences(PO, MO)
    assert differences == [], "the .mo is out of step; run `python -m xiezuo.devtools.i18n compile`:\n" + (
        "\n".join(differences)
    )


def test_compiling_in_memory_gives_the_committed_catalogue() -> None:
    compiled = polib.mofile(_catalogue().to_binary())
    assert i18n.catalogue(compiled) == i18n.catalogue(polib.mofile(str(MO)))


@pytest.mark.parametrize(("term", "required", "forbidden"), GLOSSARY, ids=[g[0] for g in GLOSSARY])
def test_translations_follow_the_glossary(term: str, required: str, forbidden: str | None) -> None:
    word = re.compile(r"(?<![\w-])" + re.escape(term) + r"s?(?![\w-])", re.IGNORECASE)
    wrong = []
    for entry in _catalogue():
        if entry.obsolete or not (word.search(entry.msgid) or word.search(entry.msgid_plural or "")):
            continue
        for text in _translations(entry):
            if required not in text or (forbidden is not None and forbidden in text):
                wrong.append(f"{entry.msgid!r} -> {text!r}")
    rule = f"{term!r} must be {required}" + (f", never {forbidden}" if forbidden else "")
    assert wrong == [], f"{rule}:\n" + "\n".join(wrong)


def test_gettext_answers_in_chinese_by_default_and_in_english_on_request() -> None:
    with translation.override("zh-hans"):
        assert translation.gettext("Demo data") == "演示数据"
        assert translation.gettext("Pairings") == "结对关系"
        assert translation.ngettext("%(n)s region found", "%(n)s regions found", 3) % {"n": 3} == (
            "找到 3 个行政区划"
        )
    with translation.override("en"):
        assert translation.gettext("Demo data") == "Demo data"
        assert translation.ngettext("%(n)s region found", "%(n)s regions found", 3) % {"n": 3} == (
            "3 regions found"
        )


PAGES = ["/", "/pairings/", "/regions/"]
NAV_ZH = [">首页<", ">行政区划<", ">结对关系<", ">后台任务<", ">退出<"]
NAV_EN = [">Home<", ">Regions<", ">Pairings<", ">Jobs<", ">Log out<"]


def _signed_in(**headers: str) -> Client:
    client = Client(**headers)
    client.force_login(User.objects.get(username="national"))
    return client


def _page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("url", PAGES)
def test_pages_are_in_chinese_by_default(url: str) -> None:
    html = _page(_signed_in(), url)
    assert [label for label in NAV_ZH if label not in html] == []
    assert [label for label in NAV_EN if label in html] == []
    assert '<html lang="zh-hans">' in html


@pytest.mark.django_db
def test_choosing_english_switches_the_pages_to_english() -> None:
    client = _signed_in()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/pairings/"})
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    for url in PAGES:
        html = _page(client, url)
        assert [label for label in NAV_EN if label not in html] == [], url
        assert [label for label in NAV_ZH if label in html] == [], url


@pytest.mark.django_db
def test_chinese_is_the_default_even_for_a_browser_asking_for_english() -> None:
    """zh-Hans first: only the user's own choice (the language switch) gives English pages."""
    html = _page(_signed_in(HTTP_ACCEPT_LANGUAGE="en"), "/pairings/")
    assert ">结对关系<" in html
    assert ">Pairings<" not in html


def test_the_helper_check_passes() -> None:
    assert i18n.main(["check"]) == 0


@pytest.mark.django_db
def test_the_api_answers_in_english_unless_asked_for_chinese() -> None:
    from django.contrib.auth.models import User
    from django.test import Client

    client = Client()
    client.force_login(User.objects.get(username="national"))
    assert client.get("/api/v1/pairings/999999").json()["detail"] == "Not found."
    chinese = client.get("/api/v1/pairings/999999", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese.json()["detail"] == "未找到。"
