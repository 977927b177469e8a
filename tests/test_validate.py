"""Each GX suite, run inside DuckDB on a copy of the built sample warehouse: the sample passes, and a
broken copy fails for the right reason, with the round, stage and unit in dq.validation_findings."""
from __future__ import annotations

import shutil

import duckdb
import pytest

from sanpi.settings import get_settings
from sanpi.validate.runner import describe_gaps, run_validation


@pytest.fixture
def warehouse_copy(sample_build, tmp_path, monkeypatch):
    """A writable copy of the session's built warehouse, and a GX project of its own."""
    target = tmp_path / "warehouse.duckdb"
    shutil.copy(sample_build["warehouse"], target)
    monkeypatch.setenv("SANPI_WAREHOUSE", str(target))
    monkeypatch.setenv("SANPI_GX_DIR", str(tmp_path / "gx"))
    return target


def break_it(warehouse, *statements: str) -> None:
    with duckdb.connect(str(warehouse)) as con:
        for sql in statements:
            con.execute(sql)


def validate():
    return run_validation(get_settings(), "test")


def findings(report, suite, severity="critical"):
    return [f for f in report.findings if f["suite"] == suite and f["severity"] == severity]


def test_the_sample_passes_every_suite(warehouse_copy):
    report = validate()
    assert report.success and set(report.suites) == {"reconciliation", "submissions", "bulletins", "warehouse"}
    assert report.findings == []
    with duckdb.connect(str(warehouse_copy), read_only=True) as con:
        assert con.sql("SELECT count(*) FROM dq.validation_results WHERE run_id = 'test' AND NOT success").fetchall() == [(0,)]


def test_a_wrong_city_sum_fails_the_reconciliation(warehouse_copy):
    break_it(warehouse_copy, """UPDATE marts.rpt_reconciliation SET city_sum = city_sum - 1, difference = difference - 1
                                WHERE round_no = 13 AND stage_code = 'started' AND measure = 'project_count'""")
    report = validate()
    assert not report.success and not report.suites["reconciliation"].success
    [gap] = findings(report, "reconciliation")
    assert (gap["round_no"], gap["stage_code"], gap["unit"], gap["observed"], gap["expected"], gap["gap"]) == \
        (13, "started", "河南省", 487, 488, -1)
    assert describe_gaps(report) and "round 13 started project_count" in describe_gaps(report)[0]
    with duckdb.connect(str(warehouse_copy), read_only=True) as con:
        stored = con.sql("SELECT round_no, stage_code, gap FROM dq.validation_findings WHERE severity = 'critical'")
        assert stored.fetchall() == [(13, "started", -1.0)]


def test_an_amount_within_rounding_passes_and_beyond_it_fails(warehouse_copy):
    break_it(warehouse_copy, """UPDATE marts.rpt_reconciliation SET city_sum = provincial_value + 0.04,
                                       difference = 0.04, tolerance = 0.05
                                WHERE round_no = 13 AND stage_code = 'signed' AND measure = 'investment_yi'""",
             """UPDATE marts.rpt_reconciliation SET city_sum = provincial_value + 0.06, difference = 0.06,
                       tolerance = 0.05
                WHERE round_no = 13 AND stage_code = 'production' AND measure = 'investment_yi'""")
    [gap] = findings(validate(), "reconciliation")
    assert (gap["round_no"], gap["stage_code"]) == (13, "production")


def test_qualifiers_are_checked_as_published(warehouse_copy):
    # 约 8500 against 8528.8 is within 1%; 超 4000 is any sum of at least 4000; 约 3000 against 3697.8 is not.
    break_it(warehouse_copy,
             """UPDATE marts.rpt_reconciliation SET provincial_qualifier = 'approx', provincial_value = 8500,
                       difference = city_sum - 8500, tolerance = 0.5
                WHERE round_no = 13 AND stage_code = 'production' AND measure = 'investment_yi'""",
             """UPDATE marts.rpt_reconciliation SET provincial_qualifier = 'lower_bound', provincial_value = 4000,
                       difference = city_sum - 4000, tolerance = 0.5
                WHERE round_no = 15 AND stage_code = 'signed' AND measure = 'investment_yi'""",
             """UPDATE marts.rpt_reconciliation SET provincial_qualifier = 'approx', provincial_value = 3000,
                       difference = city_sum - 3000, tolerance = 0.5
                WHERE round_no = 13 AND stage_code = 'started' AND measure = 'investment_yi'""")
    gaps = findings(validate(), "reconciliation")
    assert [(g["round_no"], g["stage_code"]) for g in gaps] == [(13, "started")]


def test_a_wrong_sector_sum_fails_the_breakdown_check(warehouse_copy):
    break_it(warehouse_copy, """UPDATE marts.fct_city_round_stage_sector SET project_count = project_count + 1
                                WHERE round_no = 5 AND stage_code = 'started' AND sector_code = 'adv_mfg'
                                  AND city_code = '410100'""")
    report = validate()
    [gap] = findings(report, "reconciliation")
    assert (gap["round_no"], gap["stage_code"], gap["gap"]) == (5, "started", 1)
    assert "先进制造业" in gap["measure"] and "sector breakdowns" in gap["expectation"]


def test_a_project_listed_by_two_units_is_a_duplicate(warehouse_copy):
    break_it(warehouse_copy, """INSERT INTO marts.fct_project_stage
                                SELECT * REPLACE ('410200' AS city_code, md5('dup') AS project_key)
                                FROM marts.fct_project_stage WHERE round_no = 7 AND city_code = '410100' LIMIT 1""")
    report = validate()
    [dup] = findings(report, "submissions")
    assert dup["round_no"] == 7 and dup["unit"] == "410100,410200" and "listed 2 times" in dup["detail"]
    assert not report.suites["warehouse"].success  # and the facts no longer match staging


def test_an_implausible_amount_fails_the_submissions_suite(warehouse_copy):
    break_it(warehouse_copy, """UPDATE marts.fct_project_stage SET investment_yi = 25000
                                WHERE project_key = (SELECT min(project_key) FROM marts.fct_project_stage)""")
    report = validate()
    failed = report.suites["submissions"].failed
    assert [f["expectation"] for f in failed if f["severity"] == "critical"] == ["expect_column_values_to_be_between"]
    assert "investment_yi" in failed[0]["rows"][0]["detail"]


def test_a_figure_without_provenance_fails_the_bulletins_suite(warehouse_copy):
    break_it(warehouse_copy, "UPDATE marts.fct_bulletin_figure SET file_sha256 = NULL WHERE round_no = 4")
    report = validate()
    assert not report.suites["bulletins"].success and report.suites["reconciliation"].success


def test_lost_rows_fail_the_warehouse_suite(warehouse_copy):
    break_it(warehouse_copy, "DELETE FROM marts.fct_city_round_stage WHERE round_no = 9 AND city_code = '411300'")
    report = validate()
    assert not report.suites["warehouse"].success
    assert {f["round_no"] for f in findings(report, "warehouse")} == {9}


def test_a_round_without_a_bulletin_is_unchecked_not_passing(warehouse_copy):
    break_it(warehouse_copy, """UPDATE marts.rpt_reconciliation SET status = 'unchecked', provincial_value = NULL
                                WHERE round_no = 2""")
    report = validate()
    assert report.success  # information, not a failure ...
    unchecked = findings(report, "reconciliation", "info")
    assert {f["round_no"] for f in unchecked} == {2} and len(unchecked) == 6  # ... but reported: 3 stages x 2


# -- the cheaper ways of running the same checks give the same results ---------------------------------
def _stored(warehouse, run_id):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        results = con.sql(f"""SELECT * EXCLUDE (run_id, validated_at) FROM dq.validation_results
                              WHERE run_id = '{run_id}' ORDER BY ALL""").fetchall()
        found = con.sql(f"""SELECT * EXCLUDE (run_id, validated_at) FROM dq.validation_findings
                            WHERE run_id = '{run_id}' ORDER BY ALL""").fetchall()
    return results, found


BREAKAGES = (
    # the same code listed by three units, and twice by one of them
    """INSERT INTO marts.fct_project_stage
       SELECT f.* REPLACE (c.code AS city_code, md5('dup' || c.code || n.n || f.project_key) AS project_key)
       FROM marts.fct_project_stage f, (VALUES ('410200'), ('410300')) c(code), (VALUES (1), (2)) n(n)
       WHERE f.project_key IN (SELECT project_key FROM marts.fct_project_stage
                               WHERE round_no = 7 AND city_code = '410100' ORDER BY project_key LIMIT 3)
         AND (c.code = '410200' OR n.n = 1)""",
    """UPDATE marts.rpt_reconciliation SET city_sum = city_sum - 1, difference = difference - 1
       WHERE round_no = 13 AND stage_code = 'started' AND measure = 'project_count'""",
    "UPDATE marts.fct_bulletin_figure SET file_sha256 = NULL WHERE round_no = 4",
    "DELETE FROM marts.fct_city_round_stage WHERE round_no = 9 AND city_code = '411300'",
    "UPDATE marts.fct_project_stage SET project_code = 'X' || project_code WHERE round_no = 3 AND city_code = '410300'",
)


def test_one_statement_per_unexpected_rows_query_stores_what_gx_s_own_metrics_do(warehouse_copy, monkeypatch):
    from sanpi.validate import gx_duckdb, prefetch, runner
    from sanpi.validate.suites import SUITES

    break_it(warehouse_copy, *BREAKAGES)
    one = run_validation(get_settings(), "one_statement")  # statements prefetched while GX imports
    assert prefetch.last.served == len(prefetch.last.statements) == \
        sum(len(s.unexpected_rows_queries()) for s in SUITES)  # GX built every statement the same
    monkeypatch.setattr(runner, "PREFETCH", False)
    run_validation(get_settings(), "not_prefetched")
    monkeypatch.setattr(gx_duckdb, "ONE_STATEMENT", False)
    two = run_validation(get_settings(), "gx_statements")
    monkeypatch.setattr(gx_duckdb, "ONE_STATEMENT", True)
    gx_duckdb.enable()
    assert not one.success and len(one.findings) > 20  # warnings cut at 200 rows included
    assert _stored(warehouse_copy, "one_statement") == _stored(warehouse_copy, "gx_statements") == \
        _stored(warehouse_copy, "not_prefetched")
    assert {k: (v.success, len(v.failed)) for k, v in one.suites.items()} == \
        {k: (v.success, len(v.failed)) for k, v in two.suites.items()}


# The duplicate check before it grouped by a hashed key first.
DUPLICATES_BEFORE = """SELECT round_no, stage_code, string_agg(DISTINCT city_code, ',' ORDER BY city_code) AS unit, 'project_code' AS measure,
                             count(*) AS observed, 1 AS expected, 'project code ' || project_code || ' listed '
                             || count(*) || ' times' AS detail
                      FROM {batch} WHERE project_code IS NOT NULL
                      GROUP BY round_no, stage_code, project_code HAVING count(*) > 1"""


def test_the_duplicate_check_finds_what_it_found_before(warehouse_copy):
    from sanpi.validate.suites import SUITES, finding_rows

    break_it(warehouse_copy, BREAKAGES[0], """INSERT INTO marts.fct_project_stage
        SELECT * REPLACE (md5('again' || project_key) AS project_key) FROM marts.fct_project_stage
        WHERE round_no IN (2, 11) AND city_code = '411000' AND stage_code = 'production'""")
    [check] = [e for s in SUITES if s.name == "submissions" for e in s.build()
               if "listed twice" in (e.description or "")]
    batch = "(SELECT * FROM marts.fct_project_stage) AS subselect"
    with duckdb.connect(str(warehouse_copy), read_only=True) as con:
        now = sorted(con.sql(check.unexpected_rows_query.format(batch=batch)).fetchall())
        before = sorted(con.sql(finding_rows(DUPLICATES_BEFORE).format(batch=batch)).fetchall())
    assert now == before and len(now) > 10 and any(r[2] == "410100,410200,410300" for r in now)


def test_data_docs_are_built_when_a_suite_changed_or_an_expectation_failed(warehouse_copy):
    first = validate()  # a new GX project: its suites are written, so the site is built
    site = get_settings().gx_docs_index
    assert first.success and first.data_docs == str(site) and site.exists()
    shutil.rmtree(site.parent)
    assert validate().data_docs is None and not site.exists()  # passing, nothing changed: no rendering
    break_it(warehouse_copy, "UPDATE marts.fct_bulletin_figure SET file_sha256 = NULL WHERE round_no = 4")
    failed = run_validation(get_settings(), "failing")
    assert failed.data_docs == str(site)
    assert list(site.parent.glob("validations/bulletins/failing/*/*.html"))


def test_gx_reads_the_warehouse_with_duckdb_s_memory_capped(warehouse_copy, monkeypatch):
    import sqlalchemy

    monkeypatch.setenv("SANPI_DUCKDB_MEMORY_LIMIT", "700MB")
    seen = []

    def probe(connection):
        seen.append(connection.exec_driver_sql("SELECT current_setting('memory_limit')").scalar())

    sqlalchemy.event.listen(sqlalchemy.engine.Engine, "engine_connect", probe)
    try:
        assert validate().success
    finally:
        sqlalchemy.event.remove(sqlalchemy.engine.Engine, "engine_connect", probe)
    assert seen and set(seen) == {"667.5 MiB"}  # DuckDB reports 700 MB in MiB


# -- GX's fixed cost -------------------------------------------------------------------------------
DEFERRED_PROBE = """
import sys
from sanpi.validate import gx_duckdb, runner, suites  # noqa: F401  (imports GX)
before = {name: type(sys.modules[name]).__name__ for name in ("scipy.stats", "altair")}
from scipy import stats
import altair
import scipy.stats as real_stats
print(before, round(float(stats.entropy([0.5, 0.5])), 6), real_stats.norm.cdf(0), altair.Chart.__name__,
      type(sys.modules["scipy.stats"]).__name__, type(sys.modules["altair"]).__name__)
"""


def test_gx_imports_without_scipy_stats_and_altair_which_still_work_when_used():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", DEFERRED_PROBE], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["{'scipy.stats':", "'_Deferred',", "'altair':", "'_Deferred'}", "0.693147", "0.5",
                           "Chart", "module", "module"]


def test_the_suites_declared_without_gx_are_the_tracked_gx_project_s():
    """suites.py declares expectations without importing GX; built, they are the suites stored in the
    repository's GX project (expectations/gx), so that project is what a run validates with."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    from sanpi.validate.runner import _signature
    from sanpi.validate.suites import SUITES

    probe = "import sys, sanpi.validate.suites; print('great_expectations' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip() \
        == "False"
    project = Path(__file__).resolve().parents[1] / "expectations" / "gx" / "expectations"
    for suite in SUITES:
        stored = json.loads((project / f"{suite.name}.json").read_text(encoding="utf-8"))["expectations"]
        stored = sorted(({k: v for k, v in e.items() if k != "id"} for e in stored),
                        key=lambda c: json.dumps(c, sort_keys=True, default=str))
        assert _signature(suite.build()) == stored, suite.name


def test_stored_validation_results_are_pruned_to_the_newest_runs(warehouse_copy, monkeypatch):
    from sanpi.validate import runner

    monkeypatch.setattr(runner, "KEEP_RUNS", 2)
    for run_id in ("first", "second", "third"):
        assert run_validation(get_settings(), run_id).success
    break_it(warehouse_copy, "UPDATE marts.fct_bulletin_figure SET file_sha256 = NULL WHERE round_no = 4")
    assert run_validation(get_settings(), "failing").data_docs
    gx_dir = get_settings().gx_dir / "gx" / "uncommitted"
    for suite in ("reconciliation", "submissions", "bulletins", "warehouse"):
        assert sorted(p.name for p in (gx_dir / "validations" / suite).iterdir()) == ["failing", "third"]
        # pages: the first run's (a new project) went with it; passing runs since rendered none
        assert [p.name for p in (gx_dir / "data_docs" / "local_site" / "validations" / suite).iterdir()] == ["failing"]
    index = (gx_dir / "data_docs" / "local_site" / "index.html").read_text(encoding="utf-8")
    assert "/failing/" in index and "/first/" not in index and "/second/" not in index
    with duckdb.connect(str(warehouse_copy), read_only=True) as con:  # the warehouse keeps every run
        assert con.sql("""SELECT count(DISTINCT run_id) FROM dq.validation_results
                          WHERE run_id IN ('first', 'second', 'third', 'failing')""").fetchall() == [(4,)]
