"""The dbt project, run for real: dbt build, dbt compile and dbt docs generate on a small fixture warehouse.

The fixture holds 3 rounds: 12 reconciles, 13 reconciles except one figure its two bulletin sources
disagree on, 16 does not (one project short in 签约一批, no 开工 figure, a 投产 figure without city rows).
It carries what staging must leave out (a superseded submission, a 山西 bulletin and its warning) and
what the marts must keep visible: an unknown city code, an unmapped sector label, a project listed
twice, carried-over production, a project without a code that is a coded project (and one that only
looks like one), one code under two units, city and county bulletin figures, size-band and source
breakdowns, a cumulative statement, a revised submission, a finding and a quarantined row.
A second build runs on a warehouse whose raw tables are all empty.
"""
from __future__ import annotations

import json
import re
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

from sanpi.raw_schema import add_submission_rows, delete_submission_rows, ensure_raw_schema  # noqa: E402

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
EARLIER = datetime(2025, 4, 1, 8, 0, 0)

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
    # superseded version of Zhengzhou's round-13 file: must not reach the marts, but is its history
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
        # no code, same name as ZZ-05 (signed in round 13): the same project, now started; other county
        ("开工", "started", None, "郑州光电产业园 ", "金水区", "先进制造业", "12.3"),
        # no code, a name only similar to ZZ-07's: reported, not merged
        ("开工", "started", None, "郑州生物医药产业园区", None, "战略性新兴产业", "8"),
    ],
    ("s-jy-16", "submissions/16/济源示范区.xlsx", 16, JY, False): [
        ("签约", "signed", "JY-06", "济源铅锌循环", None, "先进制造业", "3"),
        # HKG-04 is 航空港区's code: one project code under two units
        ("开工", "started", "HKG-04", "港区总部基地", None, "现代服务业", "3.2"),
    ],
    # a code that is none of the 19 units: kept under the unknown member 000000
    ("s-bad-16", "submissions/16/未知单位.xlsx", 16, BAD_CITY, False): [
        ("签约", "signed", "X-01", "来源不明项目", None, None, "1.5"),
    ],
}
QUARANTINED = {"s-zz-16": 1}  # rows of the file refused by ingest (one in raw.quarantine)

# (sha256, file_path, province, round_no, held_on, main_venue, cumulative (rounds, projects, 亿元) or None)
BULLETINS = [
    ("b-12", "bulletins/round_12.json", "河南", 12, date(2024, 4, 3), "周口市", None),
    # round 13 has two current sources: the JSON and the text version; they disagree on one figure
    ("b-13", "bulletins/round_13.json", "河南", 13, date(2024, 7, 11), "济源示范区", (13, 16, "188.9")),
    ("b-13-txt", "bulletins/round_13.txt", "河南", 13, date(2024, 7, 11), None, None),
    ("b-16", "bulletins/round_16.json", "河南", 16, date(2025, 4, 8), "洛阳市", None),
    # same wording, other province: staging must leave it out
    ("b-sx-13", "bulletins/shanxi_13.txt", "山西", 13, date(2024, 1, 1), "太原市", None),
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
    ("b-12", 12, "province", "河南省", "started", "projects", "1", 0, "exact", "size_band", "10亿元以上"),
    ("b-12", 12, "province", "河南省", "started", "projects", "2", 0, "exact", "size_band", "1-10亿元"),
    ("b-12", 12, "province", "河南省", "signed", "projects", "1", 0, "exact", "source", "省外资金"),
    ("b-12", 12, "city", "郑州", "signed", "projects", "2", 0, "exact", None, None),
    # the city's own ceremony figure: larger than its ledger submission (1 started project)
    ("b-12", 12, "city", "济源", "started", "projects", "5", 0, "exact", None, None),
    ("b-12", 12, "county", "中牟县", "signed", "projects", "1", 0, "exact", None, None),
    # round 13: signed 3 / 20.0, started 3 / 23, production 3 / 超40亿元
    ("b-13", 13, "province", "河南省", "signed", "projects", "3", 0, "exact", None, None),
    ("b-13", 13, "province", "河南省", "signed", "investment_yi", "20.0", 1, "exact", None, None),
    ("b-13", 13, "province", "河南省", "started", "projects", "3", 0, "exact", None, None),
    ("b-13", 13, "province", "河南省", "started", "investment_yi", "23", 0, "exact", None, None),
    ("b-13", 13, "province", "河南省", "production", "projects", "3", 0, "exact", None, None),
    ("b-13", 13, "province", "河南省", "production", "investment_yi", "40", 0, "lower_bound", None, None),
    # the text version: 4 signed projects (conflict), 约20亿元 (agrees), 3 started (agrees)
    ("b-13-txt", 13, "province", "河南省", "signed", "projects", "4", 0, "exact", None, None),
    ("b-13-txt", 13, "province", "河南省", "signed", "investment_yi", "20", 0, "approx", None, None),
    ("b-13-txt", 13, "province", "河南省", "started", "projects", "3", 0, "exact", None, None),
    # round 16: signed count one too many (mismatch), no started figure, production without city rows
    ("b-16", 16, "province", "河南省", "signed", "projects", "4", 0, "exact", None, None),
    ("b-16", 16, "province", "河南省", "signed", "investment_yi", "16.5", 1, "exact", None, None),
    ("b-16", 16, "province", "河南省", "production", "projects", "5", 0, "exact", None, None),
    ("b-16", 16, "province", "河南省", "production", "investment_yi", "50", 0, "exact", None, None),
    # the 山西 bulletin: would wreck round 13 if it got through
    ("b-sx-13", 13, "province", "山西省", "signed", "projects", "100", 0, "exact", None, None),
]

# (sha256, round_no, sentence, reason)
WARNINGS = [
    ("b-13", 13, "本期结转投产项目个,总投资亿元。", "digits missing"),
    ("b-sx-13", 13, "山西省第十三期签约项目…", "not about Henan"),
]

# (sha256, round_no, city, sheet, row, finding, detail, expected, actual)
FINDINGS = [
    ("s-zz-13", 13, ZZ, "签约", 9, "total_mismatch", "合计行总投资与明细之和不符", "30", "24.6"),
    ("s-zz-13-old", 13, ZZ, "签约", 3, "implausible_amount", "单个项目999亿元", None, "999"),  # superseded
]


def add_rows(con, rows: list[tuple]) -> None:
    """Rows (file_sha256, file_path, sheet, row_number, round_no, city_code, stage_code, project_code,
    project_name, county, sector_label, investment_yi) added to raw.submission_rows."""
    if rows:
        values = ", ".join(["(" + ", ".join("?" * 12) + ")"] * len(rows))
        add_submission_rows(con, f"""SELECT *, NULL AS enterprise FROM (VALUES {values}) AS v(file_sha256, file_path,
                                     sheet, row_number, round_no, city_code, stage_code, project_code, project_name,
                                     county, sector_label, investment_yi)""", [x for row in rows for x in row])


def build_fixture_warehouse(path: Path, empty: bool = False) -> None:
    """The raw schema with the fixture rows (or with no rows at all when empty)."""
    con = duckdb.connect(str(path))
    try:
        ensure_raw_schema(con)
        if empty:
            return
        for (sha, file_path, round_no, city, superseded), rows in SUBMISSIONS.items():
            quarantined = QUARANTINED.get(sha, 0)
            con.execute(
                "insert into raw.load_manifest (file_path, sha256, kind, round_no, city_code, rows_read, rows_loaded, "
                "rows_quarantined, loaded_at, source_root, stored_path, superseded_at) "
                "values (?, ?, 'submission', ?, ?, ?, ?, ?, ?, 'fixture', ?, ?)",
                [file_path, sha, round_no, city, len(rows) + quarantined, len(rows), quarantined,
                 EARLIER if superseded else LOADED, f"store/{sha}", LOADED if superseded else None],
            )
            add_rows(con, [(sha, file_path, sheet, i, round_no, city, stage, code, name, county, label, inv)
                           for i, (sheet, stage, code, name, county, label, inv) in enumerate(rows, start=2)])
        con.execute("update raw.submission_file_rows set enterprise = '郑州光电科技有限公司' where project_code = 'ZZ-05'")
        # left over from an older version of the project: dbt drops it at the end of the run
        con.execute("create schema if not exists marts; create table marts.fct_renamed_long_ago as select 1 as x")
        for sha, file_path, province, round_no, held_on, venue, cumulative in BULLETINS:
            n = sum(1 for f in FIGURES if f[0] == sha)
            con.execute(
                "insert into raw.load_manifest (file_path, sha256, kind, round_no, city_code, rows_read, rows_loaded, "
                "rows_quarantined, loaded_at, source_root, stored_path, superseded_at) "
                "values (?, ?, 'bulletin', ?, null, ?, ?, 0, ?, 'fixture', ?, null)",
                [file_path, sha, round_no, n, n, LOADED, f"store/{sha}"],
            )
            rounds, projects, amount = cumulative or (None, None, None)
            con.execute(
                "insert into raw.bulletins (file_sha256, file_path, province, round_no, held_on, main_venue, source_url, "
                "cumulative_rounds, cumulative_projects, cumulative_investment_yi, cumulative_qualifier) "
                "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [sha, file_path, province, round_no, held_on, venue, f"https://example.org/{sha}",
                 rounds, projects, amount, "exact" if cumulative else None],
            )
        paths = {b[0]: b[1] for b in BULLETINS}
        for i, (sha, round_no, level, unit, stage, measure, value, decimals, qualifier, dim, cat) in enumerate(FIGURES):
            con.execute(
                "insert into raw.bulletin_figures (file_sha256, file_path, round_no, unit, unit_level, stage, measure, "
                "value, value_decimals, qualifier, breakdown_dimension, breakdown_category, source_text, char_start, "
                "char_end) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [sha, paths[sha], round_no, unit, level, stage, measure, value, decimals, qualifier,
                 dim, cat, f"{unit}{stage}{measure}{value}", 100 * i, 100 * i + 40],
            )
        for sha, round_no, sentence, reason in WARNINGS:
            con.execute("insert into raw.bulletin_warnings (file_sha256, file_path, round_no, sentence, reason) "
                        "values (?, ?, ?, ?, ?)",
                        [sha, paths[sha], round_no, sentence, reason])
        submission_paths = {key[0]: key[1] for key in SUBMISSIONS}
        for sha, round_no, city, sheet, row, finding, detail, expected, actual in FINDINGS:
            con.execute("insert into raw.submission_findings (file_sha256, file_path, round_no, city_code, sheet, "
                        "row_number, finding, detail, expected, actual) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [sha, submission_paths[sha], round_no, city, sheet, row, finding, detail, expected, actual])
        con.execute(
            "insert into raw.quarantine (file_path, file_sha256, sheet, row_number, column_name, raw_values, reason, "
            "quarantined_at) values ('submissions/16/郑州市.xlsx', 's-zz-16', '签约', 9, "
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

INTENDED_WARNINGS = {
    "rpt_reconciliation_no_mismatch",   # round 16: one signed project short
    "assert_no_unknown_city_in_facts",  # the 999999 file
    "bulletin_sources_agree",           # round 13: JSON says 3 signed projects, the text 4
}


def test_build_succeeds_with_only_the_intended_warnings(built):
    _, _, result, _ = built
    assert result.exception is None
    assert result.success, [(r.node.name, r.status, r.message) for r in result.result if r.status != "pass"]
    statuses = {r.node.name: str(r.status) for r in result.result}
    warned = {name for name, status in statuses.items() if status == "warn"}
    assert warned == INTENDED_WARNINGS
    assert not {name for name, status in statuses.items() if status in ("error", "fail", "skipped")}
    # the unit tests and the children-sum-to-parent tests ran and passed
    for name in ("fct_city_round_stage_sums_and_zero_fills", "rpt_reconciliation_status_and_tolerance",
                 "fct_project_lifecycle_steps_and_stalls", "int_project_lifecycles_steps",
                 "rpt_lifecycle_conversion_shares_and_medians",
                 "dim_project_history_versions", "int_project_identities_by_code_and_name",
                 "int_bulletin_figure_agreement_within_rounding",
                 "project_stage_counts_sum_to_city_round_stage", "project_stage_amounts_sum_to_city_round_stage",
                 "city_round_stage_amounts_sum_to_reconciliation", "bulletin_sector_counts_sum_to_headline",
                 "bulletin_sector_amounts_sum_to_headline", "city_round_stage_sector_counts_sum_to_city_round_stage",
                 "city_round_stage_sector_amounts_sum_to_city_round_stage", "lifecycle_city_sector_signed_sum_to_city",
                 "load_accounting_rows_read_equal_loaded_plus_quarantined",
                 "load_accounting_raw_tables_hold_what_was_loaded"):
        assert statuses[name] == "pass", name


def test_file_is_released_after_dbt(built):
    # a read-write connection needs the lock dbt-duckdb held: it must be free again
    con = duckdb.connect(str(built[0]))
    con.close()


def test_relations_no_model_builds_are_dropped(marts):
    assert rows(marts, "select count(*) from information_schema.tables where table_name = 'fct_renamed_long_ago'") == [(0,)]


def test_schemas_are_used_as_named(marts):
    schemas = {r[0] for r in rows(marts, "select distinct table_schema from information_schema.tables")}
    assert {"raw", "staging", "intermediate", "marts", "reference", "dq_failures"} <= schemas
    assert not any(s.startswith("main_") for s in schemas)


def test_public_marts_keep_their_columns(marts):
    """The marts other code reads (GX suites, README, analysts) keep these names and columns."""
    contract = {
        "dim_round": ["round_no", "held_on", "main_venue"],
        "dim_city": ["city_code", "city_name_zh", "city_name_en", "city_type"],
        "dim_sector": ["sector_code", "sector_name_zh", "sector_name_en"],
        "dim_stage": ["stage_code", "stage_name_zh"],
        "dim_project": ["project_key", "project_code", "project_name", "city_code", "sector_code"],
        "fct_project_stage": ["round_no", "city_code", "sector_code", "stage_code", "project_key", "investment_yi"],
        "fct_city_round_stage": ["round_no", "city_code", "stage_code", "project_count", "investment_yi"],
        "fct_bulletin_total": ["round_no", "stage_code", "project_count", "investment_yi"],
        "rpt_reconciliation": ["round_no", "stage_code", "measure", "provincial_value", "city_sum",
                               "difference", "tolerance", "status"],
    }
    for table, columns in contract.items():
        have = {r[0] for r in rows(marts, f"""select column_name from information_schema.columns
                                              where table_schema = 'marts' and table_name = '{table}'""")}
        assert set(columns) <= have, (table, set(columns) - have)


def test_staging_reads_current_henan_files_only(marts):
    assert rows(marts, "select count(*) from staging.stg_raw__submission_rows where file_sha256 = 's-zz-13-old'") == [(0,)]
    assert rows(marts, "select distinct province from staging.stg_raw__bulletins") == [("河南",)]
    assert rows(marts, "select count(*) from staging.stg_raw__bulletin_figures where file_sha256 = 'b-sx-13'") == [(0,)]
    assert rows(marts, "select count(*) from staging.stg_raw__bulletin_warnings where file_sha256 = 'b-sx-13'") == [(0,)]
    assert rows(marts, "select count(*) from staging.stg_raw__submission_findings") == [(1,)]
    # the history view keeps the superseded version
    assert rows(marts, """select is_current from staging.stg_raw__submission_rows_all_versions
                          where file_sha256 = 's-zz-13-old'""") == [(False,)]


def test_dimensions(marts):
    assert rows(marts, "select count(*) from marts.dim_city") == [(20,)]
    assert rows(marts, "select city_name_zh, city_name_en, is_unknown from marts.dim_city where city_code = '000000'") == [
        ("未知", "Unknown", True)]
    assert rows(marts, "select code_kind, parent_city_code from marts.dim_city where city_code = '410173'") == [
        ("statistical", ZZ)]
    assert rows(marts, "select count(*) from marts.dim_stage") == [(3,)]
    sectors = dict(rows(marts, "select sector_code, sector_name_zh from marts.dim_sector"))
    assert sectors["unknown"] == "未知" and sectors["adv_mfg"] == "先进制造业"
    assert {"产业转型发展", "基础设施建设", "新型基础设施", "创新驱动能力提升", "绿色低碳转型",
            "民生和社会事业改善"} <= set(sectors.values())
    assert rows(marts, "select domain_2025_code from marts.dim_sector where sector_code = 'major_infra'") == [
        ("infrastructure",)]
    assert rows(marts, "select size_band_code, lower_yi, upper_yi from marts.dim_size_band order by sort_order") == [
        ("under_1", 0, 1), ("1_to_10", 1, 10), ("10_to_50", 10, 50), ("50_to_100", 50, 100), ("100_plus", 100, None)]
    # rounds 1-15 from ref_rounds plus round 16 from the bulletin
    assert rows(marts, "select count(*), min(round_no), max(round_no) from marts.dim_round") == [(16, 1, 16)]
    assert rows(marts, "select held_on, main_venue, held_on_source, held_quarter, bulletin_file_count from marts.dim_round where round_no = 13") == [
        (date(2024, 7, 11), "济源示范区", "bulletin", "2024Q3", 2)]
    assert rows(marts, "select held_on, main_venue, held_on_source from marts.dim_round where round_no = 16") == [
        (date(2025, 4, 8), "洛阳市", "bulletin")]
    assert rows(marts, "select held_on, held_on_source, has_bulletin, event_format from marts.dim_round where round_no = 1") == [
        (date(2021, 7, 10), "ref_rounds", False, "teleconference")]


def test_project_dimension(marts):
    assert rows(marts, "select count(*) from marts.dim_project") == [(22,)]
    # attributes from the latest round the project appears in
    assert rows(marts, """
        select project_name, latest_round_no, latest_stage_code, first_started_round_no, first_production_round_no
        from marts.dim_project where project_code = 'ZZ-03'""") == [("郑州新能源汽车零部件二期", 13, "production", 12, 13)]
    key = rows(marts, "select md5('410100|郑州无编码项目')")[0][0]
    assert rows(marts, f"select sector_code, project_code, match_method from marts.dim_project where project_key = '{key}'") == [
        ("unknown", None, "name_in_city")]
    assert rows(marts, "select enterprise, size_band_code from marts.dim_project where project_code = 'ZZ-05'") == [
        ("郑州光电科技有限公司", "10_to_50")]


def test_project_history(marts):
    # ZZ-03: started in round 12, renamed when carried over to production in round 13
    assert rows(marts, """
        select version_no, valid_from_round_no, valid_to_round_no, is_current, project_name, changed_columns
        from marts.dim_project_history where project_code = 'ZZ-03' order by version_no""") == [
        (1, 12, 12, False, "郑州新能源汽车零部件", None),
        (2, 13, None, True, "郑州新能源汽车零部件二期", "project_name")]
    assert rows(marts, "select count(*) from marts.dim_project_history where is_current") == [(22,)]


def test_project_stage_facts(marts):
    assert rows(marts, "select count(*) from marts.fct_project_stage") == [(26,)]
    assert rows(marts, "select count(*) from marts.fct_project_stage where project_code = 'ZZ-OLD'") == [(0,)]
    assert rows(marts, "select source_row_count from marts.fct_project_stage where project_code = 'ZZ-05'") == [(2,)]
    assert rows(marts, """
        select city_code, submitted_city_code, sector_code, size_band_code from marts.fct_project_stage
        where project_code = 'X-01'""") == [("000000", BAD_CITY, "unknown", "1_to_10")]
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
    assert rows(marts, """
        select project_count, investment_yi, carried_over_count from marts.fct_city_round_stage_sector
        where round_no = 13 and city_code = '410100' and stage_code = 'production'""") == [(1, Decimal("30"), 1)]


def test_bulletin_facts(marts):
    assert rows(marts, "select count(*) from marts.fct_bulletin_total") == [(8,)]
    assert rows(marts, """
        select project_count, investment_yi, investment_decimals, investment_qualifier
        from marts.fct_bulletin_total where round_no = 12 and stage_code = 'production'""") == [
        (3, Decimal("57.1"), 1, "approx")]
    assert rows(marts, "select count(*) from marts.fct_bulletin_figure") == [(len(FIGURES) - 1,)]
    assert rows(marts, "select distinct city_code from marts.fct_bulletin_figure where unit_level = 'city' order by 1") == [
        (ZZ,), (JY,)]
    # provenance: file, sha256, source URL, sentence and its span
    assert rows(marts, """
        select file_path, file_sha256, source_url, source_text, char_end - char_start
        from marts.fct_bulletin_figure
        where round_no = 16 and stage_code = 'signed' and measure = 'project_count'""") == [
        ("bulletins/round_16.json", "b-16", "https://example.org/b-16", "河南省signedprojects4", 40)]


def test_bulletin_sources_must_agree(marts):
    # round 13 signed: the JSON says 3 projects, the text 4 -> no figure taken, visible as a conflict
    assert rows(marts, """
        select project_count, project_count_status, investment_yi, investment_status, source_file_count
        from marts.fct_bulletin_total where round_no = 13 and stage_code = 'signed'""") == [
        (None, "conflict", Decimal("20.0"), "agreed", 2)]
    assert rows(marts, """
        select file_path, value from marts.rpt_bulletin_conflicts order by file_path""") == [
        ("bulletins/round_13.json", 3), ("bulletins/round_13.txt", 4)]
    assert rows(marts, """
        select status, provincial_value from marts.rpt_reconciliation
        where round_no = 13 and stage_code = 'signed' and measure = 'project_count'""") == [("conflict", None)]
    # 20.0 and 约20 agree: the exact statement is taken
    assert rows(marts, """
        select file_path, agreement_status from marts.fct_bulletin_figure
        where round_no = 13 and stage_code = 'signed' and measure = 'investment_yi' and is_preferred_statement""") == [
        ("bulletins/round_13.json", "agreed")]


def test_bulletin_breakdowns_warnings_and_cumulative(marts):
    assert rows(marts, """
        select breakdown_category, size_lower_yi, size_upper_yi, size_band_code, share_of_headline
        from marts.fct_bulletin_breakdown where breakdown_dimension = 'size_band' order by 1""") == [
        ("1-10亿元", 1, 10, "1_to_10", Decimal("0.6667")), ("10亿元以上", 10, None, None, Decimal("0.3333"))]
    assert rows(marts, """
        select breakdown_dimension, count(*) from marts.fct_bulletin_breakdown group by 1 order by 1""") == [
        ("sector", 6), ("size_band", 2), ("source", 1)]
    assert rows(marts, "select round_no, reason, source_url from marts.rpt_bulletin_warnings") == [
        (13, "digits missing", "https://example.org/b-13")]
    assert rows(marts, """
        select cumulative_rounds, cumulative_projects, cumulative_investment_yi from marts.fct_bulletin_cumulative""") == [
        (13, 16, Decimal("188.9"))]
    comparison = {d: (p, m) for d, p, m in rows(marts, """
        select definition, computed_projects, matches_stated_projects and matches_stated_investment
        from marts.rpt_cumulative_comparison where as_of_round_no = 13""")}
    assert comparison["distinct_projects"] == (16, True)
    assert comparison["stage_entries"] == (19, False)


def test_city_level_bulletin_figures_are_compared_not_failed(marts):
    assert rows(marts, """
        select unit, stage_as_published, bulletin_value, submission_sum, difference, status
        from marts.rpt_bulletin_city_comparison order by unit""") == [
        ("中牟县", "signed", 1, 1, 0, "match"),
        ("济源", "started", 5, 1, 4, "bulletin_higher"),
        ("郑州", "signed", 2, 2, 0, "match")]


def test_lifecycle(marts):
    # ZZ-05 signed in round 13 was listed without its code when it started in round 16
    assert rows(marts, """
        select signed_round_no, started_round_no, rounds_signed_to_started, has_name_match, project_key_count
        from marts.fct_project_lifecycle where project_code = 'ZZ-05'""") == [(13, 16, 3, True, 2)]
    assert rows(marts, """
        select started_round_no, production_round_no, rounds_started_to_production, furthest_stage_code
        from marts.fct_project_lifecycle where project_code = 'ZZ-03'""") == [(12, 13, 1, "production")]
    issues = {(issue, name, candidate) for issue, name, candidate in rows(marts, """
        select issue, project_name, candidate_project_name from marts.rpt_lifecycle_uncertain_matches""")}
    assert ("similar_name", "郑州生物医药产业园区", "郑州生物医药园") in issues
    assert ("name_match_county_differs", "郑州光电产业园", "郑州光电产业园") in issues
    assert {i for i, _, _ in issues} == {"similar_name", "name_match_county_differs", "code_in_several_cities"}
    assert rows(marts, """
        select is_merged, detail from marts.rpt_lifecycle_uncertain_matches where issue = 'code_in_several_cities'""") == [
        (True, "listed under units 410173, 419001")]
    # every project-stage row belongs to one lifecycle; the province row counts them all
    assert rows(marts, """
        select project_count, signed_projects, started_projects, production_projects
        from marts.rpt_lifecycle_conversion where grouping_level = 'province'""") == [(21, 10, 10, 6)]


def test_reconciliation(marts):
    result = {
        (r, s, m): (status, diff)
        for r, s, m, status, diff in rows(
            marts, "select round_no, stage_code, measure, status, difference from marts.rpt_reconciliation")
    }
    assert len(result) == 18
    assert all(status == "match" for (r, s, m), (status, _) in result.items()
               if r in (12, 13) and (r, s, m) != (13, "signed", "project_count"))
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


def test_submission_revisions_findings_quarantine_and_accounting(marts):
    assert rows(marts, """
        select version_no, is_current, signed_count, delta_signed_count, delta_signed_investment_yi,
               projects_added, projects_removed, projects_amount_changed
        from marts.rpt_submission_revisions where round_no = 13 and city_code = '410100' order by version_no""") == [
        (1, False, 1, None, None, None, None, None),
        (2, True, 2, 1, Decimal("-974.4"), 3, 1, 0)]
    assert rows(marts, "select count(*), max(version_count) from marts.rpt_submission_revisions") == [(10, 2)]
    assert rows(marts, "select round_no, city_name_zh, finding, difference from marts.rpt_submission_findings") == [
        (13, "郑州市", "total_mismatch", Decimal("-5.4"))]
    assert rows(marts, "select round_no, city_code, file_kind, row_number, is_whole_file from marts.rpt_quarantine") == [
        (16, ZZ, "submission", 9, False)]
    assert rows(marts, """
        select rows_read, rows_loaded, rows_quarantined, is_balanced, rows_in_raw, quarantined_rows_in_raw
        from marts.rpt_load_accounting where file_sha256 = 's-zz-16'""") == [(5, 4, 1, True, 4, 1)]
    assert rows(marts, "select count(*) from marts.rpt_load_accounting where not is_balanced") == [(0,)]
    assert rows(marts, "select warning_count from marts.rpt_load_accounting where file_sha256 = 'b-13'") == [(1,)]


def test_analyses_compile(built, tmp_path, monkeypatch):
    """The example queries in analyses/ compile and run against the marts."""
    warehouse, _, _, _ = built
    monkeypatch.setenv("SANPI_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    result = run_dbt(["compile", "--select", "resource_type:analysis"], tmp_path)
    assert result.success, result.exception
    compiled = {p.stem: p.read_text(encoding="utf-8")
                for p in (tmp_path / "compiled" / "sanpi" / "analyses").glob("*.sql")}
    assert {"round_totals_by_city_and_stage", "started_sector_mix_over_time", "cities_not_matching_bulletin",
            "lifecycle_conversion_by_city"} <= set(compiled)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        catalog = con.execute("select current_database()").fetchone()[0]
        answers = {name: con.execute(sql.replace(f'"{catalog}".', "")).fetchall() for name, sql in compiled.items()}
    finally:
        con.close()
    assert len(answers["round_totals_by_city_and_stage"]) == 57  # round 13: 19 units x 3 stages
    assert ("city figure in bulletin", 12, "济源示范区") in {r[:3] for r in answers["cities_not_matching_bulletin"]}
    assert ("declared total in submission", 13, "郑州市") in {r[:3] for r in answers["cities_not_matching_bulletin"]}
    assert len(answers["lifecycle_conversion_by_city"]) == 4  # the three units and the unknown city


def test_build_on_empty_raw_tables(tmp_path, monkeypatch):
    """A warehouse whose raw tables exist but are all empty (e.g. before the first ingest, or the new
    tables the loader does not fill yet) builds cleanly: no errors, no failures."""
    warehouse = tmp_path / "empty.duckdb"
    build_fixture_warehouse(warehouse, empty=True)
    monkeypatch.setenv("SANPI_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    result = run_dbt(["build"], tmp_path / "target")
    assert result.success, [(r.node.name, r.status, r.message) for r in result.result if r.status != "pass"]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert con.execute("select count(*) from marts.fct_project_lifecycle").fetchone() == (0,)
        assert con.execute("select count(*) from marts.dim_round").fetchone() == (15,)  # from ref_rounds
    finally:
        con.close()


def test_docs_generate(built, tmp_path, monkeypatch):
    warehouse, _, _, _ = built
    monkeypatch.setenv("SANPI_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    result = run_dbt(["docs", "generate", "--static"], tmp_path)
    assert result.success, result.exception
    catalog = json.loads((tmp_path / "catalog.json").read_text(encoding="utf-8"))
    assert {"model.sanpi.fct_project_stage", "model.sanpi.rpt_reconciliation",
            "model.sanpi.fct_project_lifecycle"} <= set(catalog["nodes"])
    assert (tmp_path / "index.html").exists()
    static = (tmp_path / "static_index.html").read_text(encoding="utf-8")
    assert "rpt_reconciliation" in static and "__overview__" in static
    duckdb.connect(str(warehouse)).close()  # released again


def test_every_model_and_column_is_described(built):
    """Every model states its grain ("one row per ..."); every model and column is described in
    English with the Chinese term (a CJK character somewhere in the description); every column the
    warehouse has is documented."""
    manifest = json.loads((built[1] / "manifest.json").read_text(encoding="utf-8"))
    cjk = re.compile(r"[\u4e00-\u9fff]")
    missing_grain, no_chinese, undocumented = [], [], []
    con = duckdb.connect(str(built[0]), read_only=True)
    try:
        for node in manifest["nodes"].values():
            if node["resource_type"] not in ("model", "seed"):
                continue
            if node["resource_type"] == "model" and "one row per" not in " ".join(node["description"].lower().split()):
                missing_grain.append(node["name"])
            no_chinese += [node["name"]] * (not cjk.search(node["description"]))
            no_chinese += [f"{node['name']}.{c}" for c, col in node["columns"].items() if not cjk.search(col["description"])]
            if node["resource_type"] == "model" and node["config"]["materialized"] != "ephemeral":
                actual = {r[0] for r in con.execute(
                    "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
                    [node["schema"], node["alias"]]).fetchall()}
                undocumented += [f"{node['name']}.{c}" for c in sorted(actual - set(node["columns"]))]
    finally:
        con.close()
    assert missing_grain == []
    assert no_chinese == []
    assert undocumented == []


# --------------------------------------------------------------------------- incremental builds

def _tables(con, catalog: str) -> list[tuple[str, str]]:
    # the marts' views too: fct_project_lifecycle is a view over the incremental int_project_lifecycles
    return rows(con, f"""select table_schema, table_name from information_schema.tables
                         where table_catalog = '{catalog}'
                           and (table_type = 'BASE TABLE' and table_schema in ('intermediate', 'marts')
                                or table_type = 'VIEW' and table_schema = 'marts') order by all""")


def _differences(incremental: Path, full: Path) -> dict[str, int]:
    """Rows in one warehouse's intermediate and mart tables (and mart views) and not in the other's
    (multisets)."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{incremental}' as inc (read_only); attach '{full}' as ful (read_only)")
        assert _tables(con, "inc") == _tables(con, "ful")
        found = {}
        for schema, table in _tables(con, "ful"):
            a, b = f"inc.{schema}.{table}", f"ful.{schema}.{table}"
            n = con.execute(f"select count(*) from ((select * from {a} except all select * from {b}) "
                            f"union all (select * from {b} except all select * from {a}))").fetchone()[0]
            if n:
                found[f"{schema}.{table}"] = n
        return found
    finally:
        con.close()


def test_incremental_builds_equal_full_refresh(tmp_path, monkeypatch):
    """The pipeline's builds (sanpi.transform.run_dbt: incremental by round) through a sequence of
    loads equal, table by table and row by row, a --full-refresh build of the same raw data: rounds
    12-13 first, then round 16 arrives, then 济源's round-13 file is corrected (superseded by a version
    that drops, changes and adds projects, one of them a codeless listing of a coded project), then
    the original is reinstated, then 郑州's round-16 file gains a coded listing of a project listed
    without a code in round 13 and another round-16 file is replaced by one without rows, then round
    17 lists a second coded project of that name, so the round-13 listing leaves the lifecycle it
    had joined although neither of its rounds changed. Every build after the first is incremental."""
    from dataclasses import replace

    from sanpi.settings import get_settings
    from sanpi.transform import _invoke, run_dbt as run_pipeline_dbt

    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    warehouse = tmp_path / "warehouse.duckdb"
    build_fixture_warehouse(warehouse)
    base = get_settings()
    settings = replace(base, warehouse=warehouse, dbt_target=tmp_path / "target", data_dir=tmp_path)
    reference = replace(settings, warehouse=tmp_path / "full.duckdb", dbt_target=tmp_path / "target_full")
    v2 = "s-jy-13-v2"
    v2_rows = [  # JY-02's production dropped, JY-04's amount corrected, a codeless listing of ZZ-05's name
        ("签约", "signed", "JY-04", "济源氢能项目", "济源", "战略性新兴产业", "4.8"),
        ("开工", "started", "JY-05", "济源物流港", "济源", "现代服务业", "5.5"),
        ("开工", "started", None, "济源光电配套", "济源", "先进制造业", "2"),
        ("投产", "production", "ZZ-03", "郑州新能源汽车零部件", "经开区", "战略性新兴产业", "30"),
    ]

    def sql(*statements, params=None):
        """SQL statements, or functions of the connection, run in order."""
        con = duckdb.connect(str(warehouse))
        try:
            for statement in statements:
                if callable(statement):
                    statement(con)
                else:
                    con.execute(statement, params or [])
        finally:
            con.close()

    def build_and_compare(step: str, command: str = "run", incremental: bool = True) -> None:
        outcome = run_pipeline_dbt(settings, command)
        assert outcome.success, (step, outcome.failures)
        # the code did not change since the previous build: this one took the incremental path
        assert ("--full-refresh" not in outcome.command) == incremental, (step, outcome.command)
        reference.warehouse.write_bytes(warehouse.read_bytes())
        full = _invoke(reference, "run", "--full-refresh")
        assert full.success, (step, full.failures)
        assert _differences(warehouse, reference.warehouse) == {}, step

    sql("create table hold_manifest as select * from raw.load_manifest where round_no = 16 and kind = 'submission'",
        "create table hold_rows as select * from raw.submission_rows where round_no = 16",
        "delete from raw.load_manifest where round_no = 16 and kind = 'submission'",
        lambda con: delete_submission_rows(con, "round_no = 16"))
    build_and_compare("rounds 12-13", command="build", incremental=False)  # seeds too; a new warehouse
    sql("insert into raw.load_manifest select * from hold_manifest",
        lambda con: add_submission_rows(con, "select * from hold_rows"))
    build_and_compare("round 16 added")
    sql("update raw.load_manifest set superseded_at = now() where sha256 = 's-jy-13'",
        "insert into raw.load_manifest (file_path, sha256, kind, round_no, city_code, rows_read, rows_loaded, "
        "rows_quarantined, loaded_at, source_root, stored_path) values ('submissions/13/济源示范区.xlsx', "
        f"'{v2}', 'submission', 13, '{JY}', 4, 4, 0, now(), 'fixture', 'store/{v2}')")
    sql(lambda con: add_rows(con, [(v2, "submissions/13/济源示范区.xlsx", sheet, i, 13, JY, stage, code, name, county,
                                    label, inv)
                                   for i, (sheet, stage, code, name, county, label, inv) in enumerate(v2_rows, start=2)]))
    build_and_compare("round 13 corrected")
    sql(f"update raw.load_manifest set superseded_at = now() where sha256 = '{v2}'",
        "update raw.load_manifest set superseded_at = null, loaded_at = now() where sha256 = 's-jy-13'")
    build_and_compare("round 13 reinstated")
    # round 16 only: 郑州's file gains a coded listing of 郑州无编码项目, listed without a code in round 13
    # (so rows of that unchanged round change lifecycle), and a file is replaced by one without rows
    sql("update raw.load_manifest set superseded_at = now() where sha256 in ('s-zz-16', 's-bad-16')",
        "insert into raw.load_manifest select * replace ('s-zz-16-v2' as sha256, now() as loaded_at, "
        "null as superseded_at) from raw.load_manifest where sha256 = 's-zz-16'",
        lambda con: add_submission_rows(con, "select * replace ('s-zz-16-v2' as file_sha256) "
                                             "from raw.submission_rows where file_sha256 = 's-zz-16'"),
        lambda con: add_rows(con, [("s-zz-16-v2", "submissions/16/郑州市.xlsx", "投产", 20, 16, ZZ, "production",
                                    "ZZ-09", "郑州无编码项目", "管城区", "新材料", 15)]),
        "insert into raw.load_manifest (file_path, sha256, kind, round_no, city_code, rows_read, rows_loaded, "
        f"rows_quarantined, loaded_at, source_root, stored_path) values ('submissions/16/未知单位.xlsx', "
        f"'s-bad-16-empty', 'submission', 16, '{BAD_CITY}', 0, 0, 0, now(), 'fixture', 'store/empty')")
    build_and_compare("round 16 corrected, a round-16 file emptied", command="build")
    # round 17: a second coded project named like 郑州无编码项目 makes its match ambiguous, so the
    # codeless round-13 listing leaves ZZ-09's lifecycle (rounds 13 and 16 unchanged: only the
    # lifecycle's members tell)
    sql("insert into raw.load_manifest (file_path, sha256, kind, round_no, city_code, rows_read, rows_loaded, "
        "rows_quarantined, loaded_at, source_root, stored_path) values ('submissions/17/郑州市.xlsx', "
        f"'s-zz-17', 'submission', 17, '{ZZ}', 1, 1, 0, now(), 'fixture', 'store/s-zz-17')",
        lambda con: add_rows(con, [("s-zz-17", "submissions/17/郑州市.xlsx", "签约", 2, 17, ZZ, "signed", "ZZ-10",
                                    "郑州无编码项目", "管城区", "新材料", 3)]))
    build_and_compare("round 17 makes a name match ambiguous")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:  # the fixture does what it says: 郑州无编码项目 of round 13 is its own lifecycle again
        assert rows(con, """select i.match_method, i.exact_candidate_count from intermediate.int_project_identities as i
                            join marts.fct_project_stage as s using (project_key)
                            where s.project_code is null and s.project_name = '郑州无编码项目'""") == [("name_in_city", 2)]
    finally:
        con.close()
    # nothing new: the next build changes nothing
    before = warehouse.read_bytes()
    reference.warehouse.write_bytes(before)
    assert run_pipeline_dbt(settings, "build").success
    assert _differences(warehouse, reference.warehouse) == {}


def test_key_tests_check_the_projects_a_build_rebuilt_and_a_failing_test_holds_the_state(tmp_path, monkeypatch):
    """In an incremental build the tests marked changed_keys_only read the rows of the projects the model
    rebuilt (incremental_state.<model>__projects) and still catch a duplicate among them; a full refresh
    drops those lists and checks every row. A build with a failing test does not advance the round
    state: the next build redoes the round and tests it again."""
    from dataclasses import replace

    from sanpi.settings import get_settings
    from sanpi.transform import _invoke, run_dbt as run_pipeline_dbt

    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    warehouse = tmp_path / "warehouse.duckdb"
    build_fixture_warehouse(warehouse)
    settings = replace(get_settings(), warehouse=warehouse, dbt_target=tmp_path / "target", data_dir=tmp_path)
    test_sql = "unique_dim_project_project_key.sql"

    def compiled_test() -> str:
        return next((tmp_path / "target" / "run").rglob(test_sql)).read_text(encoding="utf-8")

    def sql(statement: str, *, write: bool = False):
        con = duckdb.connect(str(warehouse), read_only=not write)
        try:
            return con.execute(statement).fetchall()
        finally:
            con.close()

    def add_round(round_no: int) -> None:
        con = duckdb.connect(str(warehouse))
        try:
            path, sha = f"submissions/{round_no}/郑州市.xlsx", f"s-zz-{round_no}"
            con.execute("insert into raw.load_manifest (file_path, sha256, kind, round_no, city_code, rows_read, "
                        "rows_loaded, rows_quarantined, loaded_at, source_root, stored_path) values "
                        f"('{path}', '{sha}', 'submission', {round_no}, '{ZZ}', 1, 1, 0, now(), 'fixture', 'store/{sha}')")
            add_rows(con, [(sha, path, "签约", 2, round_no, ZZ, "signed", f"ZZ-{round_no}", f"郑州新项目{round_no}",
                            "管城区", "新材料", 3)])
        finally:
            con.close()

    assert run_pipeline_dbt(settings, "build").success
    assert "dim_project__projects" not in compiled_test()
    add_round(17)
    outcome = run_pipeline_dbt(settings, "build")
    assert outcome.success and "--full-refresh" not in outcome.command
    assert "incremental_state.dim_project__projects" in compiled_test()
    rebuilt = [k for (k,) in sql("select project_key from incremental_state.dim_project__projects")]
    total = sql("select count(*) from marts.dim_project")[0][0]
    assert 0 < len(rebuilt) < total
    # a rebuilt project listed twice fails the test
    sql(f"insert into marts.dim_project select * from marts.dim_project where project_key = '{rebuilt[0]}'", write=True)
    assert not _invoke(settings, "test", "--select", "unique_dim_project_project_key").success
    sql(f"delete from marts.dim_project where rowid = (select max(rowid) from marts.dim_project)", write=True)

    # round 18 added while a bulletin states a figure of an unknown measure: the staging test of the
    # bulletins fails (no incremental model depends on it, all are built), the round state stays
    fingerprint = "select count(*) from incremental_state.round_fingerprints where round_no = 18"
    add_round(18)
    sql("insert into raw.bulletin_figures select * replace ('bogus' as measure) from raw.bulletin_figures limit 1",
        write=True)
    failed = run_pipeline_dbt(settings, "build")
    assert not failed.success and any("accepted_values_stg_raw__bulletin_figures_measure" in f for f in failed.failures)
    assert sql(fingerprint) == [(0,)]
    sql("delete from raw.bulletin_figures where measure = 'bogus'", write=True)
    assert run_pipeline_dbt(settings, "build").success   # redoes round 18 and its tests
    assert sql(fingerprint) == [(1,)]

    full = _invoke(settings, "build", "--full-refresh")
    assert full.success
    assert sql("select count(*) from duckdb_tables() where schema_name = 'incremental_state' "
               "and table_name like '%\\_\\_projects' escape '\\'")[0][0] == 0
    assert "dim_project__projects" not in compiled_test()
