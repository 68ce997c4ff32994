"""The registry import as the command line runs it: in its own process, on a database of its own,
committing as it goes (the rest of the suite runs in transactions that roll back, where the import
keeps to one connection). Outside a transaction on PostgreSQL the import stages batches from a
writer thread on a second connection and builds deferred indexes two at a time; these tests run
those paths, and on SQLite the same commands in their single-connection form."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.conftest import REPO, XIEZUO, fresh_database_url
from tests.test_registry_import import MESSY_FIRST_IMPORT
from xiezuo.registry import importing

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "registry"


def _run(cmd: list[str], env: dict[str, str]) -> str:
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Environment of a migrated database holding the test world, for commands of their own."""
    tmp = tmp_path_factory.mktemp("committed")
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": fresh_database_url(tmp, "xiezuo_committed"),
            "XIEZUO_DATA_DIR": str(tmp / "data"),
            "DEBUG": "0",
            "SECRET_KEY": "committed-tests-" + "x" * 40,
            "XIEZUO_HMAC_KEY": "33" * 32,
            "XIEZUO_AES_KEY": "44" * 32,
            "DJANGO_SETTINGS_MODULE": "xiezuo.settings",
        }
    )
    _run([*XIEZUO, "manage", "migrate", "--no-input", "-v", "0"], env)
    _run([*XIEZUO, "testworld"], env)
    yield env


def _python(env: dict[str, str], code: str) -> Any:
    """Run ``code`` with Django set up against the site; it prints one JSON value."""
    script = "import django, json\ndjango.setup()\n" + textwrap.dedent(code)
    return json.loads(_run([XIEZUO[0], "-c", script], env).strip().splitlines()[-1])


MESSY_AGAIN = {"read": 18, "accepted": 8, "rejected": 10, "created": 0, "updated": 0, "unchanged": 8}
# As messy.xlsx lands in the suite's own transactions (test_registry_import.py).
MESSY_HOUSEHOLDS = [
    ["H001", 3, "exited", False],
    ["H002", 2, "poor", True],
    ["H003", 1, "pre_exit", False],
    ["H005", 1, "exited", False],
    ["H013", 1, "poor", True],
]

# What STATE prints once messy.xlsx has landed, however it was loaded.
CLEAN_STATE = {
    "households": MESSY_HOUSEHOLDS,
    "members": 8,
    "statuses": 8,
    "counted": 5,
    "staging tables left": 0,
}
STATE = """
from django.db import connection
from xiezuo.registry.models import Household, HouseholdCount, HouseholdStatus, Member
with connection.cursor() as cursor:
    if connection.vendor == "postgresql":
        cursor.execute("SELECT count(*) FROM pg_tables WHERE left(tablename, 15) = 'registry_stage_'")
    else:  # the staging table is a temporary table of the import's connection
        cursor.execute(
            "SELECT count(*) FROM (SELECT name FROM sqlite_master UNION ALL "
            "SELECT name FROM sqlite_temp_master) WHERE substr(name, 1, 15) = 'registry_stage_'"
        )
    leftovers = cursor.fetchone()[0]
print(json.dumps({
    "households": sorted(Household.objects.values_list("number", "size", "status", "monitored")),
    "members": Member.objects.count(),
    "statuses": HouseholdStatus.objects.count(),
    "counted": sum(HouseholdCount.objects.values_list("n", flat=True)),
    "staging tables left": leftovers,
}))
"""


def test_import_in_batches_from_the_command_line_then_again_changes_nothing(site: dict[str, str]) -> None:
    env = {**site, "XIEZUO_IMPORT_BATCH_ROWS": "4"}  # 18 rows: five batches through the writer
    cmd = [*XIEZUO, "import", "registry", str(FIXTURES / "messy.xlsx"), "--user", "chengde", "--json"]
    assert json.loads(_run(cmd, env).strip().splitlines()[-1]) == MESSY_FIRST_IMPORT
    state = _python(site, STATE)
    assert state == CLEAN_STATE
    assert json.loads(_run(cmd, env).strip().splitlines()[-1]) == MESSY_AGAIN
    assert _python(site, STATE) == state


DEFINITIONS = """
import re
from django.db import connection
from xiezuo.registry import importing

def definitions():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
                "UNION ALL SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid::regclass::text = ANY(%s)",
                [list(importing.DEFERRED_TABLES)] * 2,
            )
        else:
            # A unique key by its table and columns: SQLite keeps a table's unique constraint as
            # an index of its own name ("sqlite_autoindex_..."), and a first load into an empty
            # table builds it again as a unique index (importing._sqlite_table_uniques_off).
            found = []
            for table in importing.DEFERRED_TABLES:
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s", [table]
                )
                for name, sql in cursor.fetchall():
                    cursor.execute(
                        f'SELECT "unique" FROM pragma_index_list("{table}") WHERE name = %s', [name]
                    )
                    unique = cursor.fetchone()[0]
                    cursor.execute(f'SELECT name FROM pragma_index_info("{name}") ORDER BY seqno')
                    columns = ", ".join(f'"{c}"' for (c,) in cursor.fetchall())
                    found.append([unique_label(table, columns), None] if unique else [name, sql])
            return sorted(found)
        return sorted(cursor.fetchall())

def unique_label(table, columns):
    return f"{table} UNIQUE ({columns})"

def record_label(name, table, ddl):
    # What definitions() calls the index or constraint a record of deferred DDL builds.
    unique = re.match(r'CREATE UNIQUE INDEX (?:IF NOT EXISTS )?"?[^ "]+"? ON "?[^ "]+"? [(](.*)[)]$', ddl)
    if connection.vendor != "postgresql" and unique:
        return unique_label(table, unique[1])
    return name

def reloptions():
    # The registry tables' storage parameters (PostgreSQL), e.g. autovacuum off while loading.
    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname = ANY(%s) AND reloptions IS NOT NULL",
            [list(importing.DEFERRED_TABLES)],
        )
        return dict(cursor.fetchall())
"""

INDEXES = (
    DEFINITIONS
    + """
def pending():
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT name, tbl, ddl FROM {importing.DEFERRED_DDL} ORDER BY kind DESC, name")
        return cursor.fetchall()

before, options_before = definitions(), reloptions()
importing.defer_indexes()
deferred, options_deferred = definitions(), reloptions()
saved = [row for row in pending() if not row[0].startswith(importing.AUTOVACUUM)]
# A run killed after building one index: that index exists, its record is still there.
name, ddl = next((record_label(n, t, d), d) for n, t, d in saved if d.startswith("CREATE"))
with connection.cursor() as cursor:
    cursor.execute(ddl)
    if connection.vendor == "postgresql":
        # ... and after adding a foreign key unchecked, before validating it.
        fk, table, fk_ddl = next(row for row in saved if row[2].startswith("FOREIGN KEY"))
        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{fk}" {fk_ddl} NOT VALID')
importing.restore_indexes()
print(json.dumps({
    "before": before, "deferred": deferred, "saved": [record_label(*row) for row in saved],
    "after": definitions(),
    "pending": pending(), "rebuilt first": name,
    "options": [options_before, options_deferred, reloptions()],
}))
"""
)


def test_deferred_indexes_and_constraints_come_back_as_they_were(site: dict[str, str]) -> None:
    got = _python(site, INDEXES)
    assert got["after"] == got["before"]
    assert got["pending"] == []
    names = {name for name, _ in got["before"]} - {name for name, _ in got["deferred"]}
    # What was dropped is what was recorded (a unique constraint and its index share one name).
    assert sorted(got["saved"]) == sorted(names)
    assert "registry_member_region_code_980fcb0c" in names
    assert got["rebuilt first"] in names
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        # Autovacuum is off on the big tables while they load, and as it was afterwards.
        off = {table: ["autovacuum_enabled=false"] for table in importing.DEFERRED_TABLES}
        assert got["options"] == [{}, off, {}]
        # Unique and foreign-key constraints are dropped with the indexes and come back.
        assert {"registry_member_id_hmac_key", "registry_household_number_key", "income_once_a_year"} <= names
        assert "registry_member_household_id_a9201d74_fk_registry_household_id" in names
        # Primary keys too, where no foreign key points to them; the household's and member's stay.
        assert {"registry_householdstatus_pkey", "registry_householdincome_pkey"} <= names
        assert not {"registry_household_pkey", "registry_member_pkey"} & names


KILLED = """
import datetime as dt, os
from django.contrib.auth import get_user_model
from xiezuo.registry import importing

def killed(*args, **kwargs):
    os._exit(9)  # as a kill after the file was read: no clean-up runs

setattr(importing, {target!r}, killed)
importing.import_registry(
    {path!r}, actor=get_user_model().objects.get(username="chengde"),
    data_year=2019, as_of=dt.date(2019, 12, 31),
)
"""

LEFT = (
    DEFINITIONS
    + """
from xiezuo.registry.models import Household, Member
records = []
if importing.DEFERRED_DDL in connection.introspection.table_names():
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT name, kind, tbl, ddl FROM {importing.DEFERRED_DDL}")
        records = [(record_label(name, tbl, ddl), kind) for name, kind, tbl, ddl in cursor.fetchall()]
print(json.dumps({
    "members": Member.objects.count(),
    "households": Household.objects.count(),
    "marks": sum(kind == "direct" for _, kind in records),
    "pending": sorted(name for name, kind in records if kind not in ("direct", "autovacuum")),
    "autovacuum off": [name for name, kind in sorted(records) if kind == "autovacuum"],
    "options": reloptions(),
    "present": sorted({name for name, _ in definitions()}),
}))
"""
)


@pytest.fixture
def empty_site(tmp_path: Path, site: dict[str, str]) -> dict[str, str]:
    """Like ``site``, on a database of its own whose registry is empty."""
    env = {**site, "DATABASE_URL": fresh_database_url(tmp_path, "xiezuo_committed_empty")}
    env["SITE_DATABASE_URL"] = site["DATABASE_URL"]
    env["XIEZUO_DATA_DIR"] = str(tmp_path / "data")
    _run([*XIEZUO, "manage", "migrate", "--no-input", "-v", "0"], env)
    _run([*XIEZUO, "testworld"], env)
    return env


def empty_site_twin(env: dict[str, str]) -> dict[str, str]:
    """The module's ``site``: the same migrations, never loaded directly."""
    return {**env, "DATABASE_URL": env["SITE_DATABASE_URL"]}


@pytest.mark.parametrize(
    "target", ["_check_and_merge", "_side_tables"], ids=["after reading", "in the merge"]
)
def test_a_big_first_load_killed_then_run_again_ends_as_a_clean_run(
    empty_site: dict[str, str], target: str
) -> None:
    """A first load of more than one batch, with the year and date given, writes the members
    while reading (DirectLoad), and on PostgreSQL commits its households before their statuses;
    killed after reading or in the merge, what it wrote stays until the next import removes it."""
    env = {**empty_site, "XIEZUO_IMPORT_BATCH_ROWS": "4"}  # 18 rows: five batches
    messy = str(FIXTURES / "messy.xlsx")
    proc = subprocess.run(
        [XIEZUO[0], "-c", "import django, json\ndjango.setup()\n" + KILLED.format(path=messy, target=target)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 9, proc.stderr[-3000:]
    # The members (the good rows before the checks across rows: 8 accepted + 2 those checks
    # reject, one person twice), their mark and the deferred indexes.
    left = _python(env, LEFT)
    postgres = env["DATABASE_URL"].startswith("postgres")
    # Killed in the merge: the rejected members had gone, and PostgreSQL had committed the
    # households (5) before their statuses.
    members = 8 if target == "_side_tables" else 10
    households = 5 if postgres and target == "_side_tables" else 0
    assert (left["members"], left["households"], left["marks"]) == (members, households, 1)
    # PostgreSQL: autovacuum off on the big tables while they load (recorded, to come back).
    tables = sorted(importing.DEFERRED_TABLES) if postgres else []
    assert left["autovacuum off"] == [importing.AUTOVACUUM + t for t in tables]
    assert left["options"] == {t: ["autovacuum_enabled=false"] for t in tables}
    # No index or constraint is lost: each one is there or recorded to be built (the member
    # table's, on PostgreSQL, may be half built when killed in the merge); after reading, none
    # was built yet.
    twin = _python(empty_site_twin(env), DEFINITIONS + "print(json.dumps(definitions()))")
    assert sorted(set(left["present"]) | set(left["pending"])) == sorted({name for name, _ in twin})
    if target == "_check_and_merge":
        assert set(left["present"]) & set(left["pending"]) == set()
    cmd = [*XIEZUO, "import", "registry", messy, "--user", "chengde", "--json"]
    cmd += ["--data-year", "2019", "--as-of", "2019-12-31"]
    assert json.loads(_run(cmd, env).strip().splitlines()[-1]) == MESSY_FIRST_IMPORT
    state = _python(env, STATE)
    assert state == CLEAN_STATE
    after = _python(env, LEFT)
    assert (after["members"], after["households"], after["marks"], after["pending"]) == (8, 5, 0, [])
    assert (after["autovacuum off"], after["options"]) == ([], {})
    # Every index and constraint is back, as on a database that never had a direct load.
    assert _python(env, DEFINITIONS + "print(json.dumps(definitions()))") == twin
    assert json.loads(_run(cmd, env).strip().splitlines()[-1]) == MESSY_AGAIN
    # New people after a direct load take ids past the ones it gave.
    more = [*XIEZUO, "import", "registry", str(FIXTURES / "names_gbk.csv"), "--user", "chengdexian", "--json"]
    more += ["--data-year", "2019", "--as-of", "2019-12-31"]
    assert json.loads(_run(more, env).strip().splitlines()[-1])["created"] == 3
    after = _python(env, LEFT)
    assert (after["members"], after["households"], after["marks"], after["pending"]) == (11, 7, 0, [])


PAUSED = """
import datetime as dt, time
from pathlib import Path
from django.contrib.auth import get_user_model
from xiezuo.registry import importing

real = importing._side_tables

def paused(*args, **kwargs):  # in the merge, the members and (PostgreSQL) households written
    Path({flag!r}).write_text("paused")
    while not Path({go!r}).exists():
        time.sleep(0.1)
    return real(*args, **kwargs)

importing._side_tables = paused
result = importing.import_registry(
    {path!r}, actor=get_user_model().objects.get(username="chengde"),
    data_year=2019, as_of=dt.date(2019, 12, 31),
)
print(json.dumps(result.counts()))
"""

NAMES_GBK = [
    *XIEZUO,
    "import",
    "registry",
    str(FIXTURES / "names_gbk.csv"),
    "--user",
    "chengdexian",
    "--json",
]
NAMES_GBK += ["--data-year", "2019", "--as-of", "2019-12-31"]


def test_an_import_while_a_first_load_runs_is_refused_and_takes_nothing_away(
    empty_site: dict[str, str], tmp_path: Path
) -> None:
    """A second import that starts while a direct load runs must not take the load's rows for a
    killed load's and delete them: it is refused, and the load ends as a clean run."""
    env = {**empty_site, "XIEZUO_IMPORT_BATCH_ROWS": "4"}
    flag, go = tmp_path / "paused", tmp_path / "go"
    script = PAUSED.format(flag=str(flag), go=str(go), path=str(FIXTURES / "messy.xlsx"))
    load = subprocess.Popen(
        [XIEZUO[0], "-c", "import django, json\ndjango.setup()\n" + script],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not flag.exists():
            assert load.poll() is None, load.stderr.read()[-3000:] if load.stderr else ""
            assert time.monotonic() < deadline, "the first load never reached its merge"
            time.sleep(0.1)
        other = subprocess.run(NAMES_GBK, cwd=REPO, env=env, capture_output=True, text=True, check=False)
        assert other.returncode != 0
        assert importing.LOCKED_ZH in other.stderr
    finally:
        go.write_text("go")
        out, err = load.communicate(timeout=300)
    assert load.returncode == 0, err[-3000:]
    assert json.loads(out.strip().splitlines()[-1]) == MESSY_FIRST_IMPORT
    assert _python(env, STATE) == CLEAN_STATE
    # Once the load has ended, the other import runs.
    assert json.loads(_run(NAMES_GBK, env).strip().splitlines()[-1])["created"] == 3


DIRECT_OR_NOT = """
import datetime as dt
from django.contrib.auth import get_user_model
from xiezuo.registry import importing

result = importing.import_registry(
    {path!r}, actor=get_user_model().objects.get(username="chengde"),
    data_year=2019, as_of=dt.date(2019, 12, 31), errors_out={errors!r},
)
print(json.dumps([result.counts(), "direct load: household ids" in result.timings]))
"""


def test_a_first_load_while_another_import_runs_goes_the_ordinary_way(empty_site: dict[str, str]) -> None:
    """Another import holds the registry's lock shared: a big first load does not load directly
    (it could not hold the lock alone) but stages and merges as any import does, and lands the same."""
    env = {**empty_site, "XIEZUO_IMPORT_BATCH_ROWS": "4"}
    script = DIRECT_OR_NOT.format(path=str(FIXTURES / "messy.xlsx"), errors=None)
    url = env["DATABASE_URL"]
    with contextlib.ExitStack() as held:
        if url.startswith("postgres"):
            other = held.enter_context(psycopg.connect(url, autocommit=True))
            other.execute("SELECT pg_advisory_lock_shared(%s)", [importing.REGISTRY_LOCK])
        else:
            name = _python(
                env, "from django.db import connection\nprint(json.dumps(connection.settings_dict['NAME']))"
            )
            lock_file = held.enter_context(open(f"{name}.import-lock", "a+"))
            fcntl.lockf(lock_file, fcntl.LOCK_SH)
        counts, direct = _python(env, script)
    assert (counts, direct) == (MESSY_FIRST_IMPORT, False)
    assert _python(env, STATE) == CLEAN_STATE


LANDED = """
from xiezuo.registry.models import (
    Household, HouseholdCount, HouseholdIncome, HouseholdStatus, Member, Monitoring,
)
fields = ["number", "region_code", "attribute", "main_cause", "standard", "registered_year",
          "planned_exit_year", "exit_year", "status", "monitored", "pathway", "size", "income_per_capita_fen"]
print(json.dumps({
    "households": sorted(Household.objects.values_list(*fields)),
    "members": sorted(
        Member.objects.values_list("household__number", "id_masked", "relation", "leave_reason")
    ),
    "statuses": sorted(HouseholdStatus.objects.values_list("household__number", "status", "start", "end")),
    "income": sorted(HouseholdIncome.objects.values_list("household__number", "year", "net_per_capita_fen")),
    "monitoring": sorted(Monitoring.objects.values_list("household__number", "kind", "identified_on")),
    "counted": sorted(HouseholdCount.objects.values_list("county", "status", "main_cause", "monitored", "n")),
}, default=str))
"""


def _awkward_file(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A synthetic file of Chengde County arranged so that a household's values cannot be read off
    the first row the reader meets: heads after their members, a head in a later batch than its
    household, heads rejected by the checks across rows, a member monitored but not the head, and
    incomes that differ between a household's rows (so the row chosen shows) — but for two
    households whose rows agree, as most do (a direct load stages their other rows without the
    household's values): the head of one is rejected (its ID number is a member's of the other),
    so its values come from a row staged without them."""
    import polars as pl

    from xiezuo.synth.registry import generate

    generate(people=400, seed=5, out=tmp_path / "synth", counties=["130821"])
    rows = pl.read_csv(tmp_path / "synth" / "registry.csv", infer_schema=False).with_row_index("i")
    sizes = rows.group_by("户编号").len().filter(pl.col("len") >= 3).sort("户编号")["户编号"].to_list()
    late, behind, twice, watched = sizes[0], sizes[1], sizes[2], sizes[3]
    other = sizes[-1]  # far from ``twice``: its member's ID number goes to twice's head
    agreed, agreed_other = sizes[4], sizes[-2]  # the same, their rows agreeing
    head = pl.col("与户主关系") == "户主"
    # Members' incomes one yuan above their head's: the household's income says which row it took.
    rows = rows.with_columns(
        pl.when(head | pl.col("户编号").is_in([agreed, agreed_other]))
        .then(pl.col("人均纯收入（元）"))
        .otherwise((pl.col("人均纯收入（元）").cast(pl.Int64) + 1).cast(pl.String))
        .alias("人均纯收入（元）")
    )
    taken = rows.filter((pl.col("户编号") == other) & ~head)["证件号码"][0]
    taken_agreed = rows.filter((pl.col("户编号") == agreed_other) & ~head)["证件号码"][0]
    first_watched = rows.filter((pl.col("户编号") == watched) & ~head)["i"].min()
    # The row of ``agreed`` that becomes its head once its head is rejected is monitored, the head
    # is not: the household is monitored by its new head's row, not by the row holding its values.
    next_head = rows.filter((pl.col("户编号") == agreed) & ~head)["i"].min()
    rows = rows.with_columns(
        pl.when((pl.col("户编号") == twice) & head)
        .then(pl.lit(taken))
        .when((pl.col("户编号") == agreed) & head)
        .then(pl.lit(taken_agreed))
        .otherwise(pl.col("证件号码"))
        .alias("证件号码"),
        pl.when(
            ((pl.col("户编号") == watched) & (pl.col("与户主关系") != "户主")) | (pl.col("i") == next_head)
        )
        .then(pl.lit("边缘易致贫户"))
        .otherwise(pl.col("监测对象类型"))
        .alias("监测对象类型"),
        # The household's first monitored row gives the date (its later members say July).
        pl.when((pl.col("户编号") == watched) & (pl.col("与户主关系") != "户主"))
        .then(
            pl.when(pl.col("i") == first_watched).then(pl.lit("2019-06-01")).otherwise(pl.lit("2019-07-01"))
        )
        .when(pl.col("i") == next_head)
        .then(pl.lit("2019-05-01"))
        .otherwise(pl.col("纳入监测日期"))
        .alias("纳入监测日期"),
    )
    order = (
        pl.when((pl.col("户编号") == late) & head)
        .then(10_000)
        .when((pl.col("户编号") == behind) & head)
        .then(pl.col("i").cast(pl.Int64) + 5)
        .otherwise(pl.col("i").cast(pl.Int64))
    )
    path = tmp_path / "awkward.csv"
    rows.sort(order, maintain_order=True).drop("i").write_csv(path)
    return path, {"late": late, "behind": behind, "twice": twice, "watched": watched, "agreed": agreed}


def test_a_direct_load_lands_what_the_ordinary_way_lands(tmp_path: Path, site: dict[str, str]) -> None:
    """The households of a direct load are made from candidate rows chosen while reading (with the
    households split over batches or touched by the checks across rows made from all their rows):
    the same file, loaded directly in batches of 50 rows and the ordinary way in one batch, lands
    the same households, members, statuses, income, monitoring and counts."""
    path, named = _awkward_file(tmp_path)
    landed = []
    for name, batch, want_direct in (("direct", "50", True), ("ordinary", "100000", False)):
        env = {**site, "DATABASE_URL": fresh_database_url(tmp_path, f"xiezuo_{name}")}
        env["XIEZUO_DATA_DIR"] = str(tmp_path / name)
        _run([*XIEZUO, "manage", "migrate", "--no-input", "-v", "0"], env)
        _run([*XIEZUO, "testworld"], env)
        errors = tmp_path / f"{name}-errors.csv"
        script = DIRECT_OR_NOT.format(path=str(path), errors=str(errors))
        counts, direct = _python({**env, "XIEZUO_IMPORT_BATCH_ROWS": batch}, script)
        assert direct is want_direct
        landed.append((counts, _python(env, LANDED), errors.read_text(encoding="utf-8-sig")))
    (counts, state, report), (ordinary_counts, ordinary_state, ordinary_report) = landed
    assert counts == ordinary_counts
    # The error report (written while the merge runs, on PostgreSQL): one line per rejected row.
    assert report == ordinary_report
    assert len(report.strip().splitlines()) == 1 + counts["rejected"]
    assert "证件号码" in report.splitlines()[0] and "错误原因" in report.splitlines()[0]
    assert counts["read"] == counts["accepted"] + counts["rejected"]
    # One planted error of the synthetic file, and the heads of ``twice`` and ``agreed`` and the
    # members whose ID numbers they took: one person in two households, twice.
    assert counts == {
        "read": 400,
        "accepted": 395,
        "rejected": 5,
        "created": 395,
        "updated": 0,
        "unchanged": 0,
    }
    for key in state:
        assert state[key] == ordinary_state[key], key
    households = {h[0]: h for h in state["households"]}
    assert set(named.values()) <= set(households)
    watched = [m for m in state["monitoring"] if m[0] == named["watched"]]
    assert watched == [[named["watched"], "marginal", "2019-06-01"]]
    agreed = [m for m in state["monitoring"] if m[0] == named["agreed"]]
    assert agreed == [[named["agreed"], "marginal", "2019-05-01"]]
    assert households[named["agreed"]][9] is True  # monitored
