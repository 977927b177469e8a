"""The dbt project, run for real: dbt build and dbt docs generate on a small fixture warehouse.

The fixture holds 3 rounds: 12 and 13 reconcile, 16 does not (one project short in 签约一批, no 开工
figure, a 投产 figure without city rows). It also carries what staging must leave out (a superseded
submission, a 山西 bulletin) and what the marts must keep visible (an unknown city code, an unmapped
sector label, a project listed twice, a carried-over production project).
"""
from __future__ import annotations

import json
import sys
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # `pytest` without `python -m` does not put the repo on sys.path
    sys.path.insert(0, str(REPO_ROOT))

from sanpi.raw_schema import ensure_raw_schema  # noqa: E402

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


def close_dbt_duckdb_connections() -> None:
    """Release the DuckDB file dbt-duckdb keeps open after `dbtRunner.invoke()` returns.

    dbt-duckdb keeps one `LocalEnvironment` (holding the duckdb connection) in the class attribute
    `DuckDBConnectionManager._ENV` across invocations. Its own `close_all_connections()` (registered
    with atexit) only drops the reference, so the file stays locked until garbage collection runs.
    Closing the environment first closes the duckdb connection (and with it the database file) at once.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        if env is not None:
            env.close()  # LocalEnvironment.close(): self.conn.close(); self.conn = None
        DuckDBConnectionManager._ENV = None


# --------------------------------------------------------------------------- fixture data

ZZ, JY, HKG, BAD_CITY = "410100", "419001", "410173", "999999"
LOADED = datetime(2025, 5, 1, 8, 0, 0)

# (sha256, file_path, round_no, city_code, superseded) -> rows:
# (sheet, stage_code, project_code, project_name, county, sector_label, investment_yi)
SUBMISSIONS: dict[tuple, list[tuple]] = {
    ("s-zz-12", "submissions/12/郑州市.xlsx", 12, ZZ, False): [
        ("签约", "signed", "ZZ-01", "郑州智能装备产业园", "中牟县", "先进制造业", "10.5"),
        ("签约", "signed", "ZZ-02", "郑州数据中心", "金水区", "数字经济", "20.25"),
        ("开工", "started", "ZZ-03", "郑州新能源汽车零部件", "经开区", "战略性新兴产业", "30"),
        ("投产", "production", "ZZ-04", "郑州食品加工基地", "新郑市", "其他", "40.1"),
    ],
    ("s-jy-12", "submissions/12/济源示范区.xlsx", 12, JY, False): [
        ("签约", "signed", "JY-01", "济源新材料项目", "济源", "先进制造", "5"),
        ("开工", "started", "JY-02", "济源钢铁深加工", "济源", "先进制造业", "6"),
        ("投产", "production", "JY-03", "济源康养中心", "济源", "社会民生", "7"),
    ],
    ("s-hkg-12", "submissions/12/航空港区.csv", 12, HKG, False): [
        (None, "signed", "HKG-01", "航空物流园", None, "现代服务业", "8.05"),
        (None, "started", "HKG-02", "港区综合管廊", None, "重大基础设施", "9"),
        (None, "production", "HKG-03", "港区电子元件厂", None, "战略新兴产业", "10"),
    ],
    # superseded version of Zhengzhou's round-13 file: must not reach the marts
    ("s-zz-13-old", "submissions/13/郑州市.xlsx", 13, ZZ, True): [
        ("签约", "signed", "ZZ-OLD", "旧版项目", None, "先进制造业", "999"),
    ],
    ("s-zz-13", "submissions/13/郑州市.xlsx", 13, ZZ, False): [
        ("签约", "signed", "ZZ-05", "郑州光电产业园", "高新区", "先进制造业", "12.3"),
        ("签约(续)", "signed", "ZZ-05", "郑州光电产业园", "高新区", "先进制造业", "12.3"),  # listed twice
        ("开工", "started", None, "郑州无编码项目", "管城区", "新材料", "15"),  # unmapped sector label
        # started in round 12, carried over to production (结转投产), renamed in round 13
        ("投产", "production", "ZZ-03", "郑州新能源汽车零部件二期", "经开区", "战略性新兴产业", "30"),
    ],
    ("s-jy-13", "submissions/13/济源示范区.xlsx", 13, JY, False): [
        ("签约", "signed", "JY-04", "济源氢能项目", "济源", "战略性新兴产业", "4.5"),
        ("开工", "started", "JY-05", "济源物流港", "济源", "现代服务业", "5.5"),
        ("投产", "production", "JY-02", "济源钢铁深加工", "济源", "先进制造业", "6"),
    ],
    ("s-hkg-13", "submissions/13/航空港区.xlsx", 13, HKG, False): [
        ("签约", "signed", "HKG-04", "港区总部基地", None, "现代服务业", "3.2"),
        ("开工", "started", "HKG-06", "港区充电网络", None, "新型基础设施", "2.5"),
        ("投产", "production", "HKG-02", "港区综合管廊", None, "重大基础设施", "9"),
    ],
    ("s-zz-16", "submissions/16/郑州市.xlsx", 16, ZZ, False): [
        ("签约", "signed", "ZZ-07", "郑州生物医药园", None, "战略性新兴产业", "12"),
        ("开工", "started", "ZZ-08", "郑州城市更新", None, "社会民生", "2.2"),
    ],
    ("s-jy-16", "submissions/16/济源示范区.xlsx", 16, JY, False): [
        ("签约", "signed", "JY-06", "济源铅锌循环", None, "先进制造业", "3"),
    ],
    # a code that is none of the 19 units: kept under the unknown member 000000
    ("s-bad-16", "submissions/16/未知单位.xlsx", 16, BAD_CITY, False): [
        ("签约", "signed", "X-01", "来源不明项目", None, None, "1.5"),
    ],
}

# (sha256, file_path, province, round_no, held_on, main_venue)
BULLETINS = [
    ("b-12", "bulletins/12.txt", "河南", 12, date(2024, 4, 3), "周口市"),
    ("b-13", "bulletins/13.txt", "河南", 13, date(2024, 7, 11), "济源示范区"),
    ("b-16", "bulletins/16.txt", "河南", 16, date(2025, 4, 8), "洛阳市"),
    # same wording, other province: staging must leave it out
    ("b-sx-13", "bulletins/shanxi_13.txt", "山西", 13, date(2024, 1, 1), "太原市"),
]

# (sha256, round_no, unit_level, unit, stage, measure, value, decimals, qualifier, dim, category)
FIGURES = [
    # round 12: signed 4 / 43.8, started 3 / 45, production 3 / 约57.1, 签约+开工 7 / 88.8
    ("b-12", 12, "province", "河南省", "signed", "projects", "4", 0, "exact", None, None),
    ("b-12", 12, "province", "河南省", "signed", "investment_yi", "43.8", 1, "exact", None, None),
    ("b-12", 12, "province", "河南省", "started", "projects", "3", 0, "exact", None, None),
    ("b-12", 12, "province", "河南省", "started", "investment_yi", "45", 0, "exact", None, None),
    ("b-12", 12, "province", "河南省", "production", "projects", "3", 0, "exact", None, None),
    ("b-12", 12, "province", "河南省", "production", "investment_yi", "57.1", 1, "approx", None, None),
    ("b-12", 12, "province", "河南省", "signed+started", "projects", "7", 0, "exact", None, None),
    ("b-12", 12, "province", "河南省", "signed+started", "investment_yi", "88.8", 1, "exact", None, None),
    ("b-12", 12, "province", "河南省", "started", "projects", "1", 0, "exact", "sector", "战略性新兴产业"),
    ("b-12", 12, "province", "河南省", "started", "projects", "1", 0, "exact", "sector", "先进制造业"),
    ("b-12", 12, "province", "河南省", "started", "projects", "1", 0, "exact", "sector", "重大基础设施"),
    ("b-12", 12, "province", "河南省", "started", "investment_yi", "30", 0, "exact", "sector", "战略性新兴产业"),
    ("b-12", 12, "province", "河南省", "started", "investment_yi", "6", 0, "exact", "sector", "先进制造业"),
    ("b-12", 12, "province", "河南省", "started", "investment_yi", "9", 0, "exact", "sector", "重大基础设施"),
    ("b-12", 12, "city", "郑州", "signed", "projects", "2", 0, "exact", None, None),
    # round 13: signed 3 / 20.0, started 3 / 23, production 3 / 超40亿元
    ("b-13", 13, "province", "河南省", "signed", "projects", "3", 0, "exact", None, None),
    ("b-13", 13, "province", "河南省", "signed", "investment_yi", "20.0", 1, "exact", None, None),
    ("b-13", 13, "province", "河南省", "started", "projects", "3", 0, "exact", None, None),
    ("b-13", 13, "province", "河南省", "started", "investment_yi", "23", 0, "exact", None, None),
    ("b-13", 13, "province", "河南省", "production", "projects", "3", 0, "exact", None, None),
    ("b-13", 13, "province", "河南省", "production", "investment_yi", "40", 0, "lower_bound", None, None),
    # round 16: signed count one too many (mismatch), no started figure, production without city rows
    ("b-16", 16, "province", "河南省", "signed", "projects", "4", 0, "exact", None, None),
    ("b-16", 16, "province", "河南省", "signed", "investment_yi", "16.5", 1, "exact", None, None),
    ("b-16", 16, "province", "河南省", "production", "projects", "5", 0, "exact", None, None),
    ("b-16", 16, "province", "河南省", "production", "investment_yi", "50", 0, "exact", None, None),
    # the 山西 bulletin: would wreck round 13 if it got through
    ("b-sx-13", 13, "province", "山西省", "signed", "projects", "100", 0, "exact", None, None),
]


def build_fixture_warehouse(path: Path) -> None:
    con = duckdb.connect(str(path))
    try:
        ensure_raw_schema(con)
        for (sha, file_path, round_no, city, superseded), rows in SUBMISSIONS.items():
            con.execute(
                "insert into raw.load_manifest values (?, ?, 'submission', ?, ?, ?, ?, 0, ?, 'fixture', ?, ?)",
                [file_path, sha, round_no, city, len(rows), len(rows), LOADED, f"store/{sha}",
                 LOADED if superseded else None],
            )
            for i, (sheet, stage, code, name, county, label, inv) in enumerate(rows, start=2):
                con.execute(
                    "insert into raw.submission_rows values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [sha, file_path, sheet, i, round_no, city, stage, code, name, county, label, inv],
                )
        for sha, file_path, province, round_no, held_on, venue in BULLETINS:
            n = sum(1 for f in FIGURES if f[0] == sha)
            con.execute(
                "insert into raw.load_manifest values (?, ?, 'bulletin', ?, null, ?, ?, 0, ?, 'fixture', ?, null)",
                [file_path, sha, round_no, n, n, LOADED, f"store/{sha}"],
            )
            con.execute(
                "insert into raw.bulletins values (?, ?, ?, ?, ?, ?, ?, null, null, null, null)",
                [sha, file_path, province, round_no, held_on, venue, f"https://example.org/{sha}"],
            )
        paths = {b[0]: b[1] for b in BULLETINS}
        for sha, round_no, level, unit, stage, measure, value, decimals, qualifier, dim, cat in FIGURES:
            con.execute(
                "insert into raw.bulletin_figures values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [sha, paths[sha], round_no, unit, level, stage, measure, value, decimals, qualifier,
                 dim, cat, f"{unit}{stage}{measure}{value}"],
            )
        con.execute(
            "insert into raw.quarantine values ('submissions/16/郑州市.xlsx', 's-zz-16', '签约', 9, "
            "'总投资', '{\"总投资\": \"十二亿\"}', 'investment not a number', ?)",
            [LOADED],
        )
    finally:
        con.close()


# --------------------------------------------------------------------------- running dbt

def run_dbt(args: list[str], target_path: Path):
    from dbt.cli.main import dbtRunner

    try:
        return dbtRunner().invoke([
            *args,
            "--project-dir", str(DBT_PROJECT_DIR),
            "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(target_path),
            "--log-path", str(target_path / "logs"),
            "--target", "ci",
        ])
    finally:
        close_dbt_duckdb_connections()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Fixture warehouse after one `dbt build`: (warehouse path, target path, dbt result, seconds)."""
    tmp = tmp_path_factory.mktemp("dbt")
    warehouse = tmp / "warehouse.duckdb"
    target = tmp / "target"
    build_fixture_warehouse(warehouse)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SANPI_WAREHOUSE", str(warehouse))
        mp.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        started = time.perf_counter()
        result = run_dbt(["build"], target)
        elapsed = time.perf_counter() - started
        yield warehouse, target, result, elapsed


@pytest.fixture
def marts(built):
    """Read-only connection to the built warehouse, closed after each test (in one process all
    connections to a file must share one configuration, and dbt opens it read-write)."""
    warehouse = built[0]
    con = duckdb.connect(str(warehouse), read_only=True)
    yield con
    con.close()


def rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


# --------------------------------------------------------------------------- tests

def test_build_succeeds_with_only_the_intended_warnings(built):
    _, _, result, _ = built
    assert result.exception is None
    assert result.success, [(r.node.name, r.status, r.message) for r in result.result if r.status != "pass"]
    statuses = {r.node.name: str(r.status) for r in result.result}
    warned = {name for name, status in statuses.items() if status == "warn"}
    assert warned == {"rpt_reconciliation_no_mismatch", "assert_no_unknown_city_in_facts"}
    assert not {name for name, status in statuses.items() if status in ("error", "fail", "skipped")}
    # the unit tests and the children-sum-to-parent tests ran and passed
    for name in ("fct_city_round_stage_sums_and_zero_fills", "rpt_reconciliation_status_and_tolerance",
                 "project_stage_counts_sum_to_city_round_stage", "project_stage_amounts_sum_to_city_round_stage",
                 "city_round_stage_amounts_sum_to_reconciliation", "bulletin_sector_counts_sum_to_headline",
                 "bulletin_sector_amounts_sum_to_headline"):
        assert statuses[name] == "pass", name


def test_file_is_released_after_dbt(built):
    # a read-write connection needs the lock dbt-duckdb held: it must be free again
    con = duckdb.connect(str(built[0]))
    con.close()


def test_schemas_are_used_as_named(marts):
    schemas = {r[0] for r in rows(marts, "select distinct table_schema from information_schema.tables")}
    assert {"raw", "staging", "intermediate", "marts", "reference", "dq_failures"} <= schemas
    assert not any(s.startswith("main_") for s in schemas)


def test_staging_reads_current_henan_files_only(marts):
    assert rows(marts, "select count(*) from staging.stg_raw__submission_rows where file_sha256 = 's-zz-13-old'") == [(0,)]
    assert rows(marts, "select distinct province from staging.stg_raw__bulletins") == [("河南",)]
    assert rows(marts, "select count(*) from staging.stg_raw__bulletin_figures where file_sha256 = 'b-sx-13'") == [(0,)]


def test_dimensions(marts):
    assert rows(marts, "select count(*) from marts.dim_city") == [(20,)]
    assert rows(marts, "select city_name_zh, city_name_en, is_unknown from marts.dim_city where city_code = '000000'") == [
        ("未知", "Unknown", True)]
    assert rows(marts, "select count(*) from marts.dim_stage") == [(3,)]
    assert ("unknown",) in rows(marts, "select sector_code from marts.dim_sector")
    # rounds 1-15 from ref_rounds plus round 16 from the bulletin
    assert rows(marts, "select count(*), min(round_no), max(round_no) from marts.dim_round") == [(16, 1, 16)]
    assert rows(marts, "select held_on, main_venue, held_on_source from marts.dim_round where round_no = 13") == [
        (date(2024, 7, 11), "济源示范区", "bulletin")]
    assert rows(marts, "select held_on, main_venue, held_on_source from marts.dim_round where round_no = 16") == [
        (date(2025, 4, 8), "洛阳市", "bulletin")]
    assert rows(marts, "select held_on, held_on_source, has_bulletin from marts.dim_round where round_no = 1") == [
        (date(2021, 7, 10), "ref_rounds", False)]


def test_project_dimension(marts):
    assert rows(marts, "select count(*) from marts.dim_project") == [(20,)]
    # attributes from the latest round the project appears in
    assert rows(marts, """
        select project_name, latest_round_no, latest_stage_code, first_started_round_no, first_production_round_no
        from marts.dim_project where project_code = 'ZZ-03'""") == [("郑州新能源汽车零部件二期", 13, "production", 12, 13)]
    key = rows(marts, "select md5('410100|郑州无编码项目')")[0][0]
    assert rows(marts, f"select sector_code, project_code from marts.dim_project where project_key = '{key}'") == [
        ("unknown", None)]


def test_project_stage_facts(marts):
    assert rows(marts, "select count(*) from marts.fct_project_stage") == [(23,)]
    assert rows(marts, "select count(*) from marts.fct_project_stage where project_code = 'ZZ-OLD'") == [(0,)]
    assert rows(marts, "select source_row_count from marts.fct_project_stage where project_code = 'ZZ-05'") == [(2,)]
    assert rows(marts, """
        select city_code, submitted_city_code, sector_code from marts.fct_project_stage
        where project_code = 'X-01'""") == [("000000", BAD_CITY, "unknown")]
    assert rows(marts, """
        select project_code from marts.fct_project_stage where is_carried_over order by project_code""") == [
        ("HKG-02",), ("JY-02",), ("ZZ-03",)]


def test_city_round_stage_facts(marts):
    # 3 rounds x 19 units x 3 stages, plus the unknown city's row in round 16
    assert rows(marts, "select count(*) from marts.fct_city_round_stage") == [(172,)]
    assert rows(marts, """
        select project_count, investment_yi from marts.fct_city_round_stage
        where round_no = 12 and city_code = '410100' and stage_code = 'signed'""") == [(2, Decimal("30.75"))]
    assert rows(marts, """
        select project_count, has_submission_file from marts.fct_city_round_stage
        where round_no = 12 and city_code = '410300' and stage_code = 'signed'""") == [(0, False)]


def test_bulletin_facts(marts):
    assert rows(marts, "select count(*) from marts.fct_bulletin_total") == [(8,)]
    assert rows(marts, """
        select project_count, investment_yi, investment_decimals, investment_qualifier
        from marts.fct_bulletin_total where round_no = 12 and stage_code = 'production'""") == [
        (3, Decimal("57.1"), 1, "approx")]
    assert rows(marts, "select count(*) from marts.fct_bulletin_figure") == [(25,)]
    assert rows(marts, "select city_code from marts.fct_bulletin_figure where unit_level = 'city'") == [(ZZ,)]


def test_reconciliation(marts):
    result = {
        (r, s, m): (status, diff)
        for r, s, m, status, diff in rows(
            marts, "select round_no, stage_code, measure, status, difference from marts.rpt_reconciliation")
    }
    assert len(result) == 18
    assert all(status == "match" for (r, _, _), (status, _) in result.items() if r in (12, 13))
    assert result[(16, "signed", "project_count")] == ("mismatch", -1)
    assert result[(16, "signed", "investment_yi")] == ("match", 0)
    assert result[(16, "started", "project_count")] == ("unchecked", None)
    assert result[(16, "production", "investment_yi")] == ("no_submissions", None)
    assert rows(marts, """
        select tolerance from marts.rpt_reconciliation
        where round_no = 12 and stage_code = 'signed' and measure = 'investment_yi'""") == [(Decimal("0.05"),)]
    assert rows(marts, "select distinct status from marts.rpt_reconciliation_combined") == [("match",)]
    # the warning's failing rows are stored for inspection
    assert rows(marts, "select round_no, stage_code, measure from dq_failures.rpt_reconciliation_no_mismatch") == [
        (16, "signed", "project_count")]


def test_docs_generate(built, tmp_path, monkeypatch):
    warehouse, _, _, _ = built
    monkeypatch.setenv("SANPI_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    result = run_dbt(["docs", "generate", "--static"], tmp_path)
    assert result.success, result.exception
    catalog = json.loads((tmp_path / "catalog.json").read_text(encoding="utf-8"))
    assert {"model.sanpi.fct_project_stage", "model.sanpi.rpt_reconciliation"} <= set(catalog["nodes"])
    assert (tmp_path / "index.html").exists()
    static = (tmp_path / "static_index.html").read_text(encoding="utf-8")
    assert "rpt_reconciliation" in static and "__overview__" in static
    duckdb.connect(str(warehouse)).close()  # released again
