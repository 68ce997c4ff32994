"""Registry pages: the household list (scope, filters, keyset pages), the household page (masked),
unmask (in scope, audited), the import page and its job, the error report and the template.

Households are made directly in each test inside the test world's villages of 承德县 (130821) and
平泉市 (130881); the import test writes a small CSV and runs the queued job.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.world import World
from xiezuo.core.crypto import get_cipher, mask_id, mask_name
from xiezuo.core.jobs import claim_next, run
from xiezuo.core.models import AuditEntry, Job
from xiezuo.regions.models import Region
from xiezuo.registry.models import Dataset, Household, HouseholdIncome, HouseholdStatus, Member, Monitoring

pytestmark = pytest.mark.django_db

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(address: str, birth: dt.date, seq: int) -> str:
    """A valid 18-character ID number (GB 11643-1999 check character)."""
    body = f"{address}{birth:%Y%m%d}{seq:03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11]


def test_id_number_check_character() -> None:
    assert id_number("110105", dt.date(1949, 12, 31), 2) == "11010519491231002X"


def villages(county: str) -> list[int]:
    low = int(county) * 10**6
    return list(
        Region.objects.filter(level=5, code__gte=low, code__lt=low + 10**6)
        .order_by("code")
        .values_list("code", flat=True)
    )


def dataset() -> Dataset:
    return Dataset.objects.create(
        data_year=2019, as_of=dt.date(2019, 12, 31), file_name="test.csv", file_sha256="0" * 64
    )


def make_household(
    number: str,
    village: int,
    ds: Dataset,
    *,
    status: str = "poor",
    attribute: str = "1",
    main_cause: str = "1",
    monitored: bool = False,
    exit_year: int | None = None,
    people: list[tuple[str, str, dt.date]] = (),  # type: ignore[assignment]
) -> Household:
    h = Household.objects.create(
        number=number,
        region_code=village,
        status=status,
        attribute=attribute,
        main_cause=main_cause,
        monitored=monitored,
        exit_year=exit_year,
        registered_year=2015,
        size=len(people),
        first_dataset=ds,
        last_dataset=ds,
    )
    cipher = get_cipher()
    for i, (ident, name, birth) in enumerate(people):
        Member.objects.create(
            household=h,
            id_hmac=cipher.hmac(ident),
            id_cipher=cipher.encrypt(ident),
            id_masked=mask_id(ident),
            name_cipher=cipher.encrypt(name),
            name_hmac=cipher.hmac(name),
            name_masked=mask_name(name),
            birth_date=birth,
            sex="1",
            relation="01" if i == 0 else "03",
            region_code=village,
            last_dataset=ds,
        )
    return h


def client_for(world: World, username: str) -> Client:
    client = Client()
    client.force_login(world.user(username))
    return client


def listed(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'data-household="(\d+)"', html)]


def total(html: str) -> int:
    found = re.search(r'data-total="(\d+)"', html)
    assert found is not None
    return int(found.group(1))


@pytest.fixture
def few(world: World) -> dict[str, Any]:
    """Three households in 承德县, one in 平泉市 (both under 承德市)."""
    ds = dataset()
    cdx, pq = villages("130821"), villages("130881")
    return {
        "poor": make_household("H-CDX-1", cdx[0], ds, status="poor", main_cause="1"),
        "exited": make_household(
            "H-CDX-2", cdx[1], ds, status="exited", exit_year=2018, attribute="2", main_cause="2"
        ),
        "monitored": make_household(
            "H-CDX-3", cdx[2], ds, status="exited", exit_year=2019, monitored=True, main_cause="1"
        ),
        "pingquan": make_household("H-PQ-1", pq[0], ds, status="poor"),
    }


def test_list_shows_exactly_the_households_in_scope(world: World, few: dict[str, Household]) -> None:
    url = reverse("web:households")
    cdx = {few["poor"].pk, few["exited"].pk, few["monitored"].pk}
    html = client_for(world, "chengdexian").get(url).content.decode()
    assert set(listed(html)) == cdx and total(html) == 3
    html = client_for(world, "chengde").get(url).content.decode()
    assert set(listed(html)) == cdx | {few["pingquan"].pk} and total(html) == 4
    for username in ("weichang", "tianjin", "auditor"):
        response = client_for(world, username).get(url)
        assert response.status_code == 200
        assert listed(response.content.decode()) == [] and total(response.content.decode()) == 0


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "exited"}, {"exited", "monitored"}),
        ({"status": "poor"}, {"poor"}),
        ({"attribute": "2"}, {"exited"}),
        ({"main_cause": "1"}, {"poor", "monitored"}),
        ({"monitored": "yes"}, {"monitored"}),
        ({"monitored": "no"}, {"poor", "exited"}),
        ({"exit_year": "2018"}, {"exited"}),
        ({"region": "130821"}, {"poor", "exited", "monitored"}),
        ({"region": "130881"}, set()),  # 平泉 is outside the clerk's scope
        ({"region": "1308", "status": "exited", "monitored": "no"}, {"exited"}),
    ],
)
def test_filters_give_exact_counts(
    world: World, few: dict[str, Household], query: dict[str, str], expected: set[str]
) -> None:
    html = client_for(world, "chengdexian").get(reverse("web:households"), query).content.decode()
    assert set(listed(html)) == {few[k].pk for k in expected}
    assert total(html) == len(expected)


def test_status_breakdown_comes_from_one_aggregate(world: World, few: dict[str, Household]) -> None:
    html = client_for(world, "chengdexian").get(reverse("web:households")).content.decode()
    counts = dict(re.findall(r'data-status="(\w+)" data-count="(\d+)"', html))
    assert counts == {"exited": "2", "poor": "1"}


def test_keyset_pages_walk_every_row_once(world: World) -> None:
    ds = dataset()
    cdx = villages("130821")
    made = {make_household(f"K-{i:03d}", cdx[i % 7], ds).pk for i in range(120)}
    client = client_for(world, "chengdexian")
    seen: list[int] = []
    url = reverse("web:households")
    params: dict[str, str] = {}
    pages = 0
    while True:
        html = client.get(url, params).content.decode()
        pages += 1
        rows = listed(html)
        seen.extend(rows)
        assert total(html) == 120
        nxt = re.search(r'data-next="([^"]+)"', html)
        if nxt is None:
            break
        params = {"after": nxt.group(1)}
    assert pages == 3
    assert len(seen) == 120 and set(seen) == made
    # Order is (village code, id) throughout.
    codes = dict(Household.objects.filter(pk__in=made).values_list("pk", "region_code"))
    assert seen == sorted(seen, key=lambda pk: (codes[pk], pk))


def test_list_uses_no_offset(world: World, few: dict[str, Household]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(world, "chengdexian")
    with CaptureQueriesContext(connection) as ctx:
        client.get(reverse("web:households"), {"after": f"{few['poor'].region_code}:{few['poor'].pk}"})
    household_sql = [q["sql"] for q in ctx.captured_queries if "registry_household" in q["sql"]]
    assert household_sql and not any("OFFSET" in sql.upper() for sql in household_sql)


@pytest.fixture
def family(world: World) -> dict[str, Any]:
    ds = dataset()
    village = villages("130821")[0]
    head_id = id_number("130821", dt.date(1975, 3, 9), 11)
    child_id = id_number("130821", dt.date(2005, 7, 21), 22)
    h = make_household(
        "F-1",
        village,
        ds,
        status="exited",
        exit_year=2019,
        monitored=True,
        people=[(head_id, "王建国", dt.date(1975, 3, 9)), (child_id, "王小花", dt.date(2005, 7, 21))],
    )
    HouseholdStatus.objects.create(
        household=h, status="poor", start=dt.date(2015, 1, 1), end=dt.date(2019, 12, 1), dataset=ds
    )
    HouseholdStatus.objects.create(household=h, status="exited", start=dt.date(2019, 12, 1), dataset=ds)
    HouseholdIncome.objects.create(household=h, year=2019, net_per_capita_fen=512300)
    mon = Monitoring.objects.create(household=h, kind="unstable", identified_on=dt.date(2020, 6, 1))
    mon.measures.create(channel="employment", started_on=dt.date(2020, 7, 1))
    return {"household": h, "head_id": head_id, "child_id": child_id}


def test_household_page_shows_masked_ids_and_ages_never_clear_data(
    world: World, family: dict[str, Any]
) -> None:
    from django.utils import timezone

    from xiezuo.core.crypto import age_on

    h = family["household"]
    html = client_for(world, "chengdexian").get(reverse("web:household", args=[h.pk])).content.decode()
    head = Member.objects.get(household=h, relation="01")
    assert mask_id(family["head_id"]) in html and head.name_masked in html
    assert f'data-age="{age_on(dt.date(1975, 3, 9), timezone.localdate())}"' in html
    for secret in (family["head_id"], family["child_id"], "王建国", "王小花", "1975-03-09", "19750309"):
        assert secret not in html
    assert "data-help-received" in html and "data-monitoring" in html and "data-statuses" in html
    assert "unmask" in html  # the clerk may unmask in scope


def test_household_out_of_scope_is_not_found(world: World, family: dict[str, Any]) -> None:
    url = reverse("web:household", args=[family["household"].pk])
    for username in ("weichang", "tianjin"):
        assert client_for(world, username).get(url).status_code == 404
    assert client_for(world, "chengdexian").get(reverse("web:household", args=[10**12])).status_code == 404
    # The viewer sees the page but gets no unmask button.
    response = client_for(world, "viewer").get(url)
    assert response.status_code == 200 and b"/unmask/" not in response.content


def test_unmask_by_the_clerk_shows_the_clear_id_once_and_is_audited(
    world: World, family: dict[str, Any]
) -> None:
    head = Member.objects.get(household=family["household"], relation="01")
    before = AuditEntry.objects.count()
    response = client_for(world, "chengdexian").post(reverse("web:member_unmask", args=[head.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert family["head_id"] in html and "王建国" in html
    assert response["Cache-Control"] == "no-store"
    assert AuditEntry.objects.count() == before + 1
    entry = AuditEntry.objects.get(action="unmask")
    assert (entry.actor_name, entry.object_type, entry.object_id, entry.region_code) == (
        "chengdexian",
        "member",
        str(head.pk),
        head.region_code,
    )
    logged = f"{entry.object_repr}{entry.changes}{entry.batch}"
    assert family["head_id"] not in logged and "王建国" not in logged


@pytest.mark.parametrize("username", ["viewer", "weichang", "tianjin", "auditor"])
def test_unmask_without_the_right_in_scope_is_not_found_and_unlogged(
    world: World, family: dict[str, Any], username: str
) -> None:
    head = Member.objects.get(household=family["household"], relation="01")
    response = client_for(world, username).post(reverse("web:member_unmask", args=[head.pk]))
    assert response.status_code == 404
    assert family["head_id"].encode() not in response.content
    assert not AuditEntry.objects.filter(action="unmask").exists()


def test_unmask_is_post_only(world: World, family: dict[str, Any]) -> None:
    head = Member.objects.get(household=family["household"], relation="01")
    assert (
        client_for(world, "chengdexian").get(reverse("web:member_unmask", args=[head.pk])).status_code == 405
    )


# --- import ------------------------------------------------------------------------------------

HEADER = "户编号,行政区划代码,姓名,证件号码,与户主关系,贫困户属性,主要致贫原因,识别年度,贫困状态,脱贫年度\n"


def registry_csv(path: Path) -> Path:
    """Three households, five good member rows and one row with a wrong check character."""
    cdx = villages("130821")
    rows = [
        (
            "I-1",
            cdx[0],
            "张三",
            id_number("130821", dt.date(1960, 1, 2), 11),
            "户主",
            "一般贫困户",
            "因病",
            2015,
            "贫困",
            "",
        ),
        (
            "I-1",
            cdx[0],
            "李四",
            id_number("130821", dt.date(1962, 2, 3), 22),
            "配偶",
            "一般贫困户",
            "因病",
            2015,
            "贫困",
            "",
        ),
        (
            "I-2",
            cdx[1],
            "王五",
            id_number("130821", dt.date(1970, 3, 4), 31),
            "户主",
            "低保贫困户",
            "因残",
            2016,
            "已脱贫",
            2019,
        ),
        (
            "I-2",
            cdx[1],
            "赵六",
            id_number("130821", dt.date(2001, 4, 5), 42),
            "之子",
            "低保贫困户",
            "因残",
            2016,
            "已脱贫",
            2019,
        ),
        (
            "I-3",
            cdx[2],
            "钱七",
            id_number("130821", dt.date(1955, 5, 6), 51),
            "户主",
            "一般贫困户",
            "缺资金",
            2014,
            "贫困",
            "",
        ),
    ]
    bad = id_number("130821", dt.date(1980, 6, 7), 61)
    bad = bad[:-1] + ("0" if bad[-1] != "0" else "1")
    rows.append(("I-3", cdx[2], "孙八", bad, "配偶", "一般贫困户", "缺资金", 2014, "贫困", ""))
    text = HEADER + "".join(",".join(str(c) for c in r) + "\n" for r in rows)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "files"
    return Path(settings.MEDIA_ROOT)


def upload(client: Client, csv_path: Path, **extra: Any) -> Any:
    with csv_path.open("rb") as fh:
        return client.post(
            reverse("web:registry_import"),
            {"file": fh, "data_year": "2019", "as_of": "2019-12-31", **extra},
        )


def test_import_page_is_for_registry_changers_only(world: World, media: Path) -> None:
    assert client_for(world, "chengdexian").get(reverse("web:registry_import")).status_code == 200
    assert client_for(world, "chengde").get(reverse("web:registry_import")).status_code == 200
    for username in ("viewer", "tianjin", "national", "auditor"):
        assert client_for(world, username).get(reverse("web:registry_import")).status_code == 404


def test_upload_enqueues_a_job_and_the_job_imports_exactly(world: World, media: Path, tmp_path: Path) -> None:
    client = client_for(world, "chengdexian")
    response = upload(client, registry_csv(tmp_path / "承德县 2019.csv"))
    job = Job.objects.get(kind="registry.import")
    assert response.status_code == 302 and response["Location"] == reverse("web:job", args=[job.pk])
    assert job.created_by == world.user("chengdexian") and job.status == "queued"
    assert job.region_code == 130821000000
    stored = media / job.params["file"]
    assert stored.is_file() and stored.parent.parent == media / "imports"
    assert job.params["data_year"] == 2019 and job.params["as_of"] == "2019-12-31"
    assert not Household.objects.filter(number__startswith="I-").exists()

    claimed = claim_next("t")
    assert claimed is not None and claimed.pk == job.pk
    done = run(claimed)
    assert done.status == "done", done.error
    assert done.result["counts"] == {
        "read": 6,
        "accepted": 5,
        "rejected": 1,
        "created": 5,
        "updated": 0,
        "unchanged": 0,
    }
    assert done.result["households"] == {"created": 3, "updated": 0, "without_head": 0, "several_heads": 0}
    assert done.result["errors_file"] == "errors.xlsx" and done.result["dry_run"] is False
    assert set(Household.objects.filter(number__startswith="I-").values_list("number", flat=True)) == {
        "I-1",
        "I-2",
        "I-3",
    }
    assert (stored.parent / "errors.xlsx").is_file()

    # The error report: the creator downloads it (audited); anyone else gets 404.
    url = reverse("web:registry_import_errors", args=[job.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert b"".join(response.streaming_content)[:2] == b"PK"
    entry = AuditEntry.objects.get(action="download", object_type="registry_import_errors")
    assert (entry.actor_name, entry.object_id) == ("chengdexian", str(job.pk))
    for username in ("chengde", "weichang", "national", "viewer"):
        assert client_for(world, username).get(url).status_code == 404
    assert AuditEntry.objects.filter(action="download").count() == 1

    # The import page lists the job with its report.
    html = client.get(reverse("web:registry_import")).content.decode()
    assert f'data-import="{job.pk}"' in html and url in html


def test_dry_run_writes_nothing(world: World, media: Path, tmp_path: Path) -> None:
    upload(client_for(world, "chengdexian"), registry_csv(tmp_path / "r.csv"), dry_run="on")
    job = claim_next("t")
    assert job is not None and job.params["dry_run"] is True
    done = run(job)
    assert done.status == "done" and done.result["counts"]["created"] == 5 and done.result["dry_run"]
    assert not Household.objects.filter(number__startswith="I-").exists()


def test_upload_of_an_unsupported_type_is_refused(world: World, media: Path, tmp_path: Path) -> None:
    bad = tmp_path / "notes.exe"
    bad.write_bytes(b"MZ")
    response = upload(client_for(world, "chengdexian"), bad)
    assert response.status_code == 200 and not Job.objects.filter(kind="registry.import").exists()
    assert not (media / "imports").exists() or not any((media / "imports").iterdir())


def test_errors_of_a_job_without_report_are_not_found(world: World, media: Path, tmp_path: Path) -> None:
    client = client_for(world, "chengdexian")
    upload(client, registry_csv(tmp_path / "r.csv"))
    job = Job.objects.get(kind="registry.import")  # queued, no report yet
    assert client.get(reverse("web:registry_import_errors", args=[job.pk])).status_code == 404


def test_template_download(world: World) -> None:
    response = client_for(world, "chengdexian").get(reverse("web:registry_template"))
    assert response.status_code == 200 and response.content[:2] == b"PK"
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_template_command(world: World, tmp_path: Path) -> None:
    from django.core.management import call_command
    from openpyxl import load_workbook

    out = tmp_path / "t.xlsx"
    call_command("template_registry", out=out, stdout=io.StringIO())
    headers = [c.value for c in load_workbook(out).worksheets[0][1]]
    assert headers[:4] == ["户编号", "行政区划代码", "乡镇", "村"]
