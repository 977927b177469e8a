"""The real pipeline end to end (Prefect -> DuckDB -> dbt -> GX -> docs) on the bundled sample data."""
from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REPO, SHARED, workspace_env

SAMPLE = REPO / "data" / "sample"
# Round 13 as published in the seed bulletin (facts): stage -> (projects, 亿元).
ROUND_13 = {"signed": (754, Decimal("5782.7")), "started": (488, Decimal("3697.8")),
            "production": (1017, Decimal("8528.8"))}
COMPARED_SCHEMAS = ("raw", "staging", "intermediate", "marts", "reference")


def snapshot(warehouse: Path) -> dict[str, list]:
    """Every table and view of the warehouse's data schemas, sorted, as Python values."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.sql(f"""SELECT table_schema || '.' || table_name FROM information_schema.tables
                             WHERE table_schema IN {COMPARED_SCHEMAS} ORDER BY 1""").fetchall()
        return {t: con.sql(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for (t,) in tables}


@pytest.fixture(scope="module")
def sample_run(sample_build):
    """The session's pipeline run on the sample data, then a second, identical one."""
    from flows.pipeline import pipeline_flow

    root, warehouse, first = sample_build["root"], sample_build["warehouse"], sample_build["result"]
    with pytest.MonkeyPatch.context() as mp:
        for key, value in workspace_env(root).items():
            mp.setenv(key, value)
        before = snapshot(warehouse)
        second = pipeline_flow(source=str(SAMPLE))
        after = snapshot(warehouse)
    yield {"root": root, "warehouse": warehouse, "first": first, "second": second,
           "before": before, "after": after}


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(sql).fetchall()


def test_marts_are_populated(sample_run):
    w = sample_run["warehouse"]
    for table in ("dim_round", "dim_city", "dim_sector", "dim_stage", "dim_project", "fct_project_stage",
                  "fct_city_round_stage", "fct_bulletin_total", "rpt_reconciliation"):
        assert query(w, f"SELECT count(*) FROM marts.{table}")[0][0] > 0, table
    assert query(w, "SELECT count(DISTINCT round_no) FROM marts.fct_project_stage") == [(15,)]
    assert query(w, "SELECT count(DISTINCT city_code) FROM marts.fct_project_stage") == [(19,)]
    # Every project row of the sample files is in the facts: nothing lost, nothing fanned out.
    loaded = query(w, """SELECT sum(rows_loaded) FROM raw.load_manifest
                         WHERE kind = 'submission' AND superseded_at IS NULL""")[0][0]
    assert query(w, "SELECT count(*) FROM marts.fct_project_stage") == [(loaded,)]
    assert query(w, "SELECT sum(rows_quarantined) FROM raw.load_manifest") == [(0,)]
    # The sample's two corrected resubmissions (更正) replaced their first versions.
    assert query(w, "SELECT count(*) FROM raw.load_manifest WHERE superseded_at IS NOT NULL") == [(2,)]
    assert query(w, "SELECT bool_and(file_path LIKE '%更正%') FROM raw.load_manifest m WHERE superseded_at IS NULL "
                    "AND EXISTS (SELECT 1 FROM raw.load_manifest o WHERE o.superseded_at IS NOT NULL "
                    "AND o.round_no = m.round_no AND o.city_code = m.city_code)") == [(True,)]


def test_reconciliation_passes_on_the_sample(sample_run):
    assert sample_run["first"].validation.success
    statuses = dict(query(sample_run["warehouse"],
                          "SELECT status, count(*) FROM marts.rpt_reconciliation GROUP BY ALL"))
    assert statuses == {"match": 15 * 3 * 2}  # every round x stage x measure of the sample checks out
    stored = query(sample_run["warehouse"],
                   "SELECT suite, bool_and(success), count(*) FROM dq.validation_results GROUP BY ALL ORDER BY 1")
    assert [(s, ok) for s, ok, _ in stored] == [
        ("bulletins", True), ("reconciliation", True), ("submissions", True), ("warehouse", True)]
    assert query(sample_run["warehouse"], "SELECT count(*) FROM dq.validation_findings") == [(0,)]


def test_round_13_totals_equal_the_seed_bulletin(sample_run):
    w = sample_run["warehouse"]
    published = {s: (c, v) for s, c, v in query(
        w, "SELECT stage_code, project_count, investment_yi FROM marts.fct_bulletin_total WHERE round_no = 13")}
    assert published == ROUND_13
    city_sums = {s: (c, v) for s, c, v in query(
        w, """SELECT stage_code, sum(project_count)::INT, round(sum(investment_yi), 1)
              FROM marts.fct_city_round_stage WHERE round_no = 13 GROUP BY ALL""")}
    assert city_sums == ROUND_13
    label = SHARED / "seed" / "round_13_bulletin.label.json"
    if label.exists():  # the real seed bulletin's label, when ../shared is present
        figures = json.loads(label.read_text(encoding="utf-8"))["figures"]
        for f in figures:
            count, amount = ROUND_13[f["stage"]]
            assert Decimal(str(f["value"])) == (count if f["measure"] == "projects" else amount)


def test_second_run_on_the_same_files_changes_nothing(sample_run):
    assert sample_run["second"].ingest.statuses == {"unchanged": sample_run["first"].ingest.files}
    assert sample_run["before"].keys() == sample_run["after"].keys()
    for table, rows in sample_run["before"].items():
        assert sample_run["after"][table] == rows, f"{table} changed on a rerun"


def test_docs_and_data_docs_are_written(sample_run):
    root = sample_run["root"]
    assert (root / "dbt_target" / "static_index.html").stat().st_size > 10_000
    assert (root / "dbt_target" / "catalog.json").exists()
    assert list((root / "expectations").rglob("data_docs/local_site/index.html"))


def test_sanpi_sql_answers_the_round_13_question(sample_run):
    env = {**workspace_env(sample_run["root"]), "PATH": str(Path(sys.executable).parent)}
    out = subprocess.run(
        [str(Path(sys.executable).parent / "sanpi"), "sql",
         "SELECT stage_code, project_count, investment_yi FROM marts.fct_bulletin_total "
         "WHERE round_no = 13 ORDER BY stage_code"],
        capture_output=True, text=True, env=env, check=True).stdout
    for stage, (count, amount) in ROUND_13.items():
        assert stage in out and str(count) in out and str(amount) in out


def _drop_one_project(inbox: Path) -> tuple[int, str, str]:
    """Remove the last project row of one city's CSV submission; return (round, unit file, stage)."""
    for path in sorted((inbox / "submissions").glob("*/*.csv"), key=lambda p: (int(p.parent.name), p.name)):
        if not path.read_bytes().startswith(b"\xef\xbb\xbf") or "更正" in path.name:
            continue  # the plain UTF-8 form, and not a file that a correction replaces
        rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
        if len(rows) > 2:
            header, last = rows[0], rows[-1]
            with open(path, "w", encoding="utf-8-sig", newline="") as f:
                csv.writer(f, lineterminator="\n").writerows(rows[:-1])
            return int(path.parent.name), path.name, last[header.index("阶段")]
    raise AssertionError("no CSV submission in the sample")


STAGE_CODES = {"签约一批": "signed", "开工一批": "started", "投产一批": "production"}


def test_a_city_off_by_one_project_fails_the_run_and_keeps_the_warehouse(prefect_api, workspace):
    from flows.pipeline import DataQualityError, pipeline_flow

    inbox = workspace / "inbox"
    shutil.copytree(SAMPLE, inbox)
    round_no, unit_file, stage_label = _drop_one_project(inbox)
    stage = STAGE_CODES[stage_label]
    with pytest.raises(DataQualityError) as failure:
        pipeline_flow(source=str(inbox))
    message = str(failure.value)
    assert f"round {round_no} {stage} project_count" in message and "gap -1" in message
    warehouse = workspace / "data" / "warehouse.duckdb"
    assert query(warehouse, f"""SELECT difference FROM marts.rpt_reconciliation
                                WHERE round_no = {round_no} AND stage_code = '{stage}'
                                  AND measure = 'project_count'""") == [(-1,)]
    # Everything else is still in the warehouse and can be queried.
    assert query(warehouse, "SELECT count(DISTINCT round_no) FROM marts.fct_project_stage") == [(15,)]
    assert query(warehouse, "SELECT count(*) FROM marts.rpt_reconciliation WHERE status = 'mismatch'")[0][0] == 2
    assert query(warehouse, "SELECT bool_and(success) FROM dq.validation_results WHERE suite = 'reconciliation'") \
        == [(False,)]


def test_a_failed_build_is_recorded_so_the_next_run_builds_again(sample_build, tmp_path, monkeypatch):
    """A run whose dbt build (or the publishing of its copy) fails leaves its files loaded: were it not
    recorded as failed, the next run would find every file loaded and the last run passed, and say there
    is nothing new."""
    from flows import pipeline
    from sanpi.ingest.inbox import discover
    from sanpi.runs import last_run, nothing_new
    from sanpi.transform import DbtError

    shutil.copytree(sample_build["root"] / "data", tmp_path / "data")
    for key, value in workspace_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLE, inbox)
    revised = next(iter(sorted((inbox / "submissions").glob("*/*.csv"))))
    revised.write_bytes(revised.read_bytes() + b"\n")   # the same rows in new bytes: a new version
    warehouse, published = tmp_path / "data" / "warehouse.duckdb", tmp_path / "data" / "published" / "warehouse.duckdb"
    assert last_run(warehouse).status in ("passed", "unchanged")   # (the session's runs of the sample)

    def failing_dbt(settings, *args):
        raise DbtError("dbt build could not run (simulated)")

    run_dbt = pipeline.run_dbt
    monkeypatch.setattr(pipeline, "run_dbt", failing_dbt)
    with pytest.raises(DbtError):
        pipeline.pipeline_flow(source=str(inbox))
    failed = last_run(warehouse)
    assert failed.status == "failed"
    assert nothing_new(warehouse, published, discover(inbox)) is None
    assert query(warehouse, f"SELECT files_changed, message FROM ops.pipeline_runs WHERE run_id = '{failed.run_id}'") \
        == [(1, "DbtError: dbt build could not run (simulated)")]

    monkeypatch.setattr(pipeline, "run_dbt", run_dbt)
    result = pipeline.pipeline_flow(source=str(inbox))
    assert result.build is not None and last_run(warehouse).status == "passed"

    # built and checked, but the analysts' copy could not be replaced: the run is marked failed too
    revised = sorted((inbox / "submissions").glob("*/*.csv"))[1]
    revised.write_bytes(revised.read_bytes() + b"\n")

    def failing_copy(warehouse, published):
        raise OSError("no space left on device (simulated)")

    monkeypatch.setattr(pipeline, "publish_copy", failing_copy)
    with pytest.raises(OSError):
        pipeline.pipeline_flow(source=str(inbox))
    failed = last_run(warehouse)
    assert failed.status == "failed" and nothing_new(warehouse, published, discover(inbox)) is None
    assert query(warehouse, f"SELECT message FROM ops.pipeline_runs WHERE run_id = '{failed.run_id}'") == [
        ("publishing the analysts' copy: OSError: no space left on device (simulated)",)]


def test_analysts_read_a_published_copy_that_a_run_swaps_whole(sample_run):
    """An open analyst session on the published copy neither blocks a run nor sees it half-built;
    a backfill of rounds 4-5 reloads exactly their files and leaves the marts as they were."""
    from flows.pipeline import pipeline_flow

    root = sample_run["root"]
    published = root / "data" / "published" / "warehouse.duckdb"
    analyst = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys\n"
         f"con = duckdb.connect({str(published)!r}, read_only=True)\n"
         "print(con.sql('SELECT count(*) FROM marts.fct_project_stage').fetchall()[0][0], flush=True)\n"
         "sys.stdin.readline()\n"
         "print(con.sql('SELECT count(*) FROM marts.fct_project_stage').fetchall()[0][0], flush=True)"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    before = int(analyst.stdout.readline())
    files_4_5 = len(list((SAMPLE / "submissions" / "4").iterdir())) + len(list((SAMPLE / "submissions" / "5").iterdir()))
    with pytest.MonkeyPatch.context() as mp:
        for key, value in workspace_env(root).items():
            mp.setenv(key, value)
        backfill = pipeline_flow(source=str(SAMPLE), rounds="4-5")
    analyst.stdin.write("\n")
    analyst.stdin.flush()
    assert int(analyst.stdout.readline()) == before  # the open session kept its consistent copy
    analyst.wait(timeout=30)
    assert not backfill.nothing_new
    statuses = backfill.ingest.statuses
    bulletins_4_5 = len(list((SAMPLE / "bulletins").glob("round_0[45].*")))  # JSON and text for each round
    assert statuses.get("loaded", 0) + statuses.get("revised", 0) == files_4_5 + bulletins_4_5
    after = snapshot(root / "data" / "warehouse.duckdb")
    # The facts and dimensions (not the load history, whose arrival times a backfill renews).
    for table in ("dim_round", "dim_city", "dim_project", "fct_project_stage", "fct_city_round_stage",
                  "fct_bulletin_total", "rpt_reconciliation"):
        assert after[f"marts.{table}"] == sample_run["before"][f"marts.{table}"], f"{table} differs after a backfill"
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.sql("SELECT status FROM ops.pipeline_runs ORDER BY finished_at").fetchall() == \
            [("passed",), ("unchanged",), ("passed",)]


def test_sanpi_run_with_nothing_new_answers_without_starting_prefect(sample_run, tmp_path):
    from sanpi.ingest.inbox import discover
    from sanpi.runs import nothing_new

    root = sample_run["root"]
    env = {**workspace_env(root), "PATH": str(Path(sys.executable).parent)}
    done = subprocess.run([str(Path(sys.executable).parent / "sanpi"), "run", "--source", str(SAMPLE)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0 and "sanpi run: nothing new" in done.stdout
    assert "Starting temporary server" not in done.stdout + done.stderr
    # One changed byte anywhere and the shortcut is off: the run goes through the flow.
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLE, inbox)
    warehouse, published = root / "data" / "warehouse.duckdb", root / "data" / "published" / "warehouse.duckdb"
    assert nothing_new(warehouse, published, discover(inbox)) is not None
    victim = next((inbox / "submissions" / "7").glob("*.csv"))
    victim.write_bytes(victim.read_bytes() + b"\n")
    assert nothing_new(warehouse, published, discover(inbox)) is None
