"""Run the expectation suites through one GX checkpoint, inside DuckDB, and store the results.

The GX project lives in SANPI_GX_DIR (default expectations/): datasource, suites, validation definitions
and the checkpoint are written there once and rewritten only when their definition in suites.py changes.
The datasource reads the warehouse read-only through `${SANPI_GX_WAREHOUSE_URL}` (which also carries
DuckDB's memory cap), so the stored project is the same on every machine. Results go to
dq.validation_results (one row per expectation) and dq.validation_findings (one row per offending row:
round, stage, unit, observed, expected), and to GX's validation results store, which keeps the newest
KEEP_RUNS runs of each suite.

Data Docs are rebuilt only when an expectation failed or a suite changed: rendering the site costs more
than the checks themselves on the campaign's data, and a passing run has nothing new to show.
"""
from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

import duckdb
import pandas as pd

from sanpi.settings import Settings, duckdb_config, quiet_telemetry

log = logging.getLogger("sanpi.validate")

DATASOURCE = "warehouse"
CHECKPOINT = "sanpi_checkpoint"
URL_VARIABLE = "SANPI_GX_WAREHOUSE_URL"
PREFETCH = True  # False: GX runs every statement itself (tests compare the two)
KEEP_RUNS = 30   # GX validation results kept per suite; dq.validation_results keeps every run

DQ_DDL = """
CREATE SCHEMA IF NOT EXISTS dq;
CREATE TABLE IF NOT EXISTS dq.validation_results (
    run_id           VARCHAR NOT NULL,
    validated_at     TIMESTAMP NOT NULL,
    suite            VARCHAR NOT NULL,
    checkpoint       VARCHAR NOT NULL,
    expectation_type VARCHAR NOT NULL,
    column_name      VARCHAR,
    row_condition    VARCHAR,
    kwargs           VARCHAR,   -- expectation arguments, JSON
    success          BOOLEAN NOT NULL,
    element_count    BIGINT,
    unexpected_count BIGINT,
    observed_value   VARCHAR,   -- JSON
    unexpected_rows  VARCHAR    -- JSON list of the offending rows (first 20)
);
ALTER TABLE dq.validation_results ADD COLUMN IF NOT EXISTS severity VARCHAR;
ALTER TABLE dq.validation_results ADD COLUMN IF NOT EXISTS description VARCHAR;
CREATE TABLE IF NOT EXISTS dq.validation_findings (
    run_id       VARCHAR NOT NULL,
    validated_at TIMESTAMP NOT NULL,
    suite        VARCHAR NOT NULL,
    expectation  VARCHAR NOT NULL,   -- the expectation's description
    severity     VARCHAR NOT NULL,   -- critical | warning | info
    round_no     INTEGER,
    stage_code   VARCHAR,
    unit         VARCHAR,            -- 河南省, a unit code, or several
    measure      VARCHAR,
    observed     DOUBLE,
    expected     DOUBLE,
    gap          DOUBLE,             -- observed - expected
    detail       VARCHAR
);
"""


@dataclass
class SuiteOutcome:
    suite: str
    success: bool                                        # no critical expectation failed
    failed: list[dict] = field(default_factory=list)     # every failed expectation, any severity


@dataclass
class ValidationReport:
    run_id: str
    suites: dict[str, SuiteOutcome]
    data_docs: str | None
    findings: list[dict] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return all(s.success for s in self.suites.values())


def _context(settings: Settings):
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    settings.gx_dir.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(settings.gx_dir))
    bars = context.variables.progress_bars  # a dict once read back from great_expectations.yml
    changed = False
    if bars is None or (bars.get("globally") if isinstance(bars, dict) else bars.globally):
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        changed = True
    # GX re-reads and re-parses the config variables file on every ${...} substitution (~170 times
    # a run); the project takes its one variable from the environment, so it has no such file.
    if context.variables.config_variables_file_path:
        context.variables.config_variables_file_path = None
        changed = True
    if changed:
        context.variables.save()
    return context


def warehouse_url(settings: Settings) -> str:
    """The datasource's connection string: read-only (connect args in the project), memory capped."""
    return f"duckdb:///{settings.warehouse}?{urlencode(duckdb_config())}"


def _signature(expectations: list) -> list[dict]:
    """What an expectation means, without the ids GX assigns, to tell whether a suite changed."""
    out = []
    for e in expectations:
        conf = e.configuration.to_json_dict()
        conf.pop("id", None)
        out.append(conf)
    return sorted(out, key=lambda c: json.dumps(c, sort_keys=True, default=str))


def _datasource(context):
    try:
        datasource = context.data_sources.get(DATASOURCE)
        if getattr(datasource, "type", None) == "sql":
            return datasource
        context.data_sources.delete(DATASOURCE)  # an older project validated DataFrames
    except Exception:
        pass
    return context.data_sources.add_sql(
        name=DATASOURCE, connection_string="${" + URL_VARIABLE + "}",
        kwargs={"connect_args": {"read_only": True}})


def _validation_definition(context, datasource, suite_spec, changed: set):
    """The suite's validation definition, (re)written only when its definition changed; the names of
    suites written are added to `changed`."""
    import great_expectations as gx

    expectations = suite_spec.build()
    try:
        asset = datasource.get_asset(suite_spec.name)
        if asset.query != suite_spec.asset_query:
            datasource.delete_asset(suite_spec.name)
            raise LookupError
    except LookupError:
        asset = datasource.add_query_asset(name=suite_spec.name, query=suite_spec.asset_query)
    try:
        batch = asset.get_batch_definition("whole_table")
    except KeyError:
        batch = asset.add_batch_definition_whole_table("whole_table")
    name = f"{suite_spec.name}_on_{DATASOURCE}"
    try:
        suite = context.suites.get(suite_spec.name)
        if _signature(suite.expectations) != _signature(expectations):
            context.suites.delete(suite_spec.name)
            raise LookupError
    except Exception:
        suite = context.suites.add(gx.ExpectationSuite(name=suite_spec.name, expectations=expectations,
                                                       meta={"description": suite_spec.description}))
        changed.add(suite_spec.name)
    try:
        definition = context.validation_definitions.get(name)
        if definition.suite.id == suite.id:
            return definition
        context.validation_definitions.delete(name)
    except Exception:
        pass
    return context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=suite))


def _checkpoint(context, definitions: list):
    """One checkpoint for every suite. It has no actions: Data Docs are built by `_update_data_docs`
    only when there is something to show (an UpdateDataDocsAction renders the site on every run)."""
    import great_expectations as gx

    try:
        checkpoint = context.checkpoints.get(CHECKPOINT)
        if sorted(d.id for d in checkpoint.validation_definitions) == sorted(d.id for d in definitions) \
                and not checkpoint.actions:
            return checkpoint
        context.checkpoints.delete(CHECKPOINT)
    except Exception:
        pass
    return context.checkpoints.add(gx.Checkpoint(
        name=CHECKPOINT, validation_definitions=definitions, actions=[],
        result_format={"result_format": "COMPLETE"}))


def _update_data_docs(context, result) -> None:
    """What UpdateDataDocsAction does, for all suites at once: render this run's validation results
    and their suites' pages, then the index once (the action rebuilt it after every suite)."""
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    identifiers = []
    for identifier, validation in result.run_results.items():
        identifiers += [identifier, ExpectationSuiteIdentifier(name=validation.suite_name)]
    context.build_data_docs(resource_identifiers=identifiers)


def prune_results(root: Path, keep: int) -> int:
    """Delete all but the newest `keep` stored validation results of each suite, and their Data Docs
    pages: GX keeps every run, and the site's index, rebuilt whenever a check fails, reads them all.
    `root` is the GX project's folder (the context's root directory). Returns how many were deleted."""
    store = root / "uncommitted" / "validations"
    site = root / "uncommitted" / "data_docs" / "local_site" / "validations"
    deleted = 0
    for suite in (d for d in store.iterdir() if d.is_dir()) if store.is_dir() else ():
        # <suite>/<run name>/<run time, e.g. 20261128T012851.729531Z>/<batch>.json: the times sort by age
        runs = sorted((t for r in suite.iterdir() if r.is_dir() for t in r.iterdir() if t.is_dir()),
                      key=lambda t: t.name, reverse=True)
        for run in runs[keep:]:
            page = site / run.relative_to(store)
            for folder in (run, page):
                shutil.rmtree(folder, ignore_errors=True)
                with contextlib.suppress(OSError):
                    folder.parent.rmdir()  # the run name's folder, once empty
            deleted += 1
    return deleted


def _severity(conf) -> str:
    return str(getattr(conf.severity, "value", conf.severity) or "critical")


def _records(run_id: str, now: datetime, suite: str, validation) -> tuple[list[dict], list[dict], list[dict]]:
    results, findings, failed = [], [], []
    for r in validation.results:
        conf = r.expectation_config
        kwargs = dict(conf.kwargs)
        condition = kwargs.pop("row_condition", None)
        query = kwargs.pop("unexpected_rows_query", None)
        result = r.result or {}
        severity = _severity(conf)
        description = conf.description or conf.type
        # In a stable order: a query's rows come back in whatever order DuckDB's threads finish.
        rows = sorted((result.get("details") or {}).get("unexpected_rows") or [],
                      key=lambda row: json.dumps(row, sort_keys=True, default=str, ensure_ascii=False))
        if query is None and not r.success:  # a column expectation: its sample of unexpected values
            rows = [{"detail": f"{kwargs.get('column')}: {result.get('unexpected_count')} unexpected value(s), "
                               f"e.g. {result.get('partial_unexpected_list', [])[:5]}"}]
        results.append({
            "run_id": run_id, "validated_at": now, "suite": suite, "checkpoint": CHECKPOINT,
            "expectation_type": conf.type, "column_name": kwargs.get("column"),
            "row_condition": None if condition is None else str(condition),
            "kwargs": json.dumps(kwargs | ({"query": query} if query else {}), default=str, ensure_ascii=False),
            "success": bool(r.success), "element_count": result.get("element_count"),
            "unexpected_count": result.get("unexpected_count", len(rows) if query else None),
            "observed_value": json.dumps(result.get("observed_value"), default=str, ensure_ascii=False),
            "unexpected_rows": json.dumps(rows[:20], default=str, ensure_ascii=False) if rows else None,
            "severity": severity, "description": description,
        })
        if r.success:
            continue
        failed.append({"expectation": description, "severity": severity, "rows": rows})
        for row in rows:
            observed, expected = row.get("observed"), row.get("expected")
            findings.append({
                "run_id": run_id, "validated_at": now, "suite": suite, "expectation": description,
                "severity": severity, "round_no": row.get("round_no"), "stage_code": row.get("stage_code"),
                "unit": row.get("unit"), "measure": row.get("measure"), "observed": observed, "expected": expected,
                "gap": None if observed is None or expected is None else observed - expected,
                "detail": row.get("detail"),
            })
    return results, findings, failed


def store_results(con: duckdb.DuckDBPyConnection, results: list[dict], findings: list[dict]) -> None:
    con.execute(DQ_DDL)
    for table, records in (("dq.validation_results", results), ("dq.validation_findings", findings)):
        frame = pd.DataFrame(records)
        if not frame.empty:
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM frame")


def run_validation(settings: Settings, run_id: str) -> ValidationReport:
    """Run every suite through the checkpoint inside DuckDB; store results and findings."""
    from sanpi.validate import prefetch
    from sanpi.validate.suites import SUITES

    quiet_telemetry()
    os.environ[URL_VARIABLE] = warehouse_url(settings)
    if PREFETCH:  # the unexpected-rows queries run while GX imports (~1.6 s) and loads its project
        prefetch.start(os.environ[URL_VARIABLE], SUITES)
    try:
        from great_expectations.core.run_identifier import RunIdentifier

        from sanpi.validate import gx_duckdb  # imports GX: only when validating

        gx_duckdb.enable()
        context = _context(settings)
    except BaseException:
        prefetch.stop()
        raise
    changed: set[str] = set()
    try:
        # Some checks compare the asset with other marts on purpose; GX prints a note for each one
        # whenever it builds it, so its stdout is kept out of ours.
        with contextlib.redirect_stdout(io.StringIO()):
            datasource = _datasource(context)
            definitions = [_validation_definition(context, datasource, spec, changed) for spec in SUITES]
            result = _checkpoint(context, definitions).run(run_id=RunIdentifier(run_name=run_id))
    finally:
        prefetch.stop()
        gx_duckdb.release()  # before this process opens the file to write
    prune_results(Path(context.root_directory), KEEP_RUNS)
    if changed or not all(v.success for v in result.run_results.values()):
        with contextlib.redirect_stdout(io.StringIO()):
            _update_data_docs(context, result)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    outcomes: dict[str, SuiteOutcome] = {}
    all_results, all_findings = [], []
    for validation in result.run_results.values():
        suite = validation.suite_name
        results, findings, failed = _records(run_id, now, suite, validation)
        all_results += results
        all_findings += findings
        outcomes[suite] = SuiteOutcome(suite, not any(f["severity"] == "critical" for f in failed), failed)
        level = logging.INFO if outcomes[suite].success else logging.WARNING
        log.log(level, "Suite %s: %s (%d expectations; %d critical, %d warning, %d info failed)", suite,
                "passed" if outcomes[suite].success else "FAILED", len(results),
                *(sum(f["severity"] == s for f in failed) for s in ("critical", "warning", "info")))
    try:
        con = duckdb.connect(str(settings.warehouse), config=duckdb_config())
    except duckdb.ConnectionException:  # a connection GX opened some other way is still open
        gx_duckdb.release(thorough=True)
        con = duckdb.connect(str(settings.warehouse), config=duckdb_config())
    with con:
        store_results(con, all_results, all_findings)
    docs = settings.gx_docs_index
    return ValidationReport(run_id, outcomes, str(docs) if docs.exists() else None, all_findings)


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "none"
    return f"{value:g}" if isinstance(value, float) else str(value)


def describe_gaps(report: ValidationReport) -> list[str]:
    """One line per critical reconciliation finding: round, stage, unit, measure and the gap."""
    lines = []
    for f in report.findings:
        if f["suite"] != "reconciliation" or f["severity"] != "critical":
            continue
        lines.append(f"round {f['round_no']} {f['stage_code']} {f['measure']} ({f['unit']}): "
                     f"city submissions sum to {_fmt(f['observed'])}, bulletin says {_fmt(f['expected'])} "
                     f"(gap {_fmt(f['gap'])}) [{f['expectation']}]")
    return sorted(lines)


def describe_failures(report: ValidationReport) -> list[str]:
    """One line per failed critical expectation outside the reconciliation."""
    lines = []
    for name, outcome in report.suites.items():
        for failure in outcome.failed:
            if name == "reconciliation" or failure["severity"] != "critical":
                continue
            example = failure["rows"][0].get("detail") if failure["rows"] else ""
            lines.append(f"{name}: {failure['expectation']}: {len(failure['rows'])} row(s); e.g. {example}")
    return lines
