"""Run the expectation suites through GX checkpoints and store the results in the warehouse.

The GX project lives in SANPI_GX_DIR (default expectations/): suites, validation definitions and
checkpoints are written there once and rewritten only when their definition in suites.py changes.
Data is handed to GX as DataFrames queried from the warehouse (the pandas route; GX's SQL route is
broken on DuckDB as shipped, see STACK.md).
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone

import duckdb
import pandas as pd

from sanpi.settings import Settings, quiet_telemetry

log = logging.getLogger("sanpi.validate")

DATASOURCE = "warehouse"

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
"""


@dataclass
class SuiteOutcome:
    suite: str
    success: bool
    failed: list[dict] = field(default_factory=list)      # failed expectations with offending rows
    unexpected_rows: pd.DataFrame | None = None


@dataclass
class ValidationReport:
    run_id: str
    suites: dict[str, SuiteOutcome]
    data_docs: str | None

    @property
    def success(self) -> bool:
        return all(s.success for s in self.suites.values())


def _context(settings: Settings):
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    settings.gx_dir.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(settings.gx_dir))
    bars = context.variables.progress_bars  # a dict once read back from great_expectations.yml
    if bars is None or (bars.get("globally") if isinstance(bars, dict) else bars.globally):
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        context.variables.save()
    return context


def _signature(expectations: list) -> list[dict]:
    """What an expectation means, without the ids GX assigns, to tell whether a suite changed."""
    out = []
    for e in expectations:
        conf = e.configuration.to_json_dict()
        conf.pop("id", None)
        out.append(conf)
    return sorted(out, key=lambda c: json.dumps(c, sort_keys=True, default=str))


def _sync_suite(context, name: str, expectations: list):
    import great_expectations as gx

    try:
        suite = context.suites.get(name)
        if _signature(suite.expectations) == _signature(expectations):
            return suite
        context.suites.delete(name)
    except Exception:  # DataContextError when the suite does not exist yet
        pass
    return context.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))


def _checkpoint(context, name: str, suite):
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction

    try:
        datasource = context.data_sources.get(DATASOURCE)
    except Exception:
        datasource = context.data_sources.add_pandas(DATASOURCE)
    try:
        asset = datasource.get_asset(name)
    except LookupError:
        asset = datasource.add_dataframe_asset(name)
    try:
        batch = asset.get_batch_definition("whole_table")
    except KeyError:
        batch = asset.add_batch_definition_whole_dataframe("whole_table")

    checkpoint_name = f"{name}_checkpoint"
    try:
        checkpoint = context.checkpoints.get(checkpoint_name)
        if checkpoint.validation_definitions[0].suite.id == suite.id:
            return checkpoint
        context.checkpoints.delete(checkpoint_name)
    except Exception:
        pass
    definition_name = f"{name}_on_{DATASOURCE}"
    try:
        context.validation_definitions.delete(definition_name)
    except Exception:
        pass
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=definition_name, data=batch, suite=suite))
    return context.checkpoints.add(gx.Checkpoint(
        name=checkpoint_name, validation_definitions=[definition],
        actions=[UpdateDataDocsAction(name="update_data_docs")],
        result_format={"result_format": "COMPLETE"}))


def _rows_for(frame: pd.DataFrame, result: dict) -> pd.DataFrame:
    index = result.get("unexpected_index_list") or []
    if index and isinstance(index[0], dict):  # GX reports {column: value, ...} dicts when id columns are set
        return pd.DataFrame(index)
    return frame.loc[[i for i in index if i in frame.index]]


def _result_records(run_id: str, suite: str, checkpoint: str, frame: pd.DataFrame, validation) -> tuple[list[dict], list[dict]]:
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    records, failed = [], []
    for r in validation.results:
        conf = r.expectation_config
        kwargs = dict(conf.kwargs)
        condition = kwargs.pop("row_condition", None)
        result = r.result or {}
        bad = _rows_for(frame, result) if not r.success else frame.iloc[0:0]
        records.append({
            "run_id": run_id, "validated_at": now, "suite": suite, "checkpoint": checkpoint,
            "expectation_type": conf.type, "column_name": kwargs.get("column"),
            "row_condition": None if condition is None else str(condition),
            "kwargs": json.dumps(kwargs, default=str, ensure_ascii=False),
            "success": bool(r.success), "element_count": result.get("element_count"),
            "unexpected_count": result.get("unexpected_count"),
            "observed_value": json.dumps(result.get("observed_value"), default=str, ensure_ascii=False),
            "unexpected_rows": bad.head(20).to_json(orient="records", force_ascii=False) if len(bad) else None,
        })
        if not r.success:
            failed.append({"expectation": conf.type, "column": kwargs.get("column"),
                           "condition": None if condition is None else str(condition), "rows": bad})
    return records, failed


def store_results(con: duckdb.DuckDBPyConnection, records: list[dict]) -> None:
    con.execute(DQ_DDL)
    frame = pd.DataFrame(records)
    if not frame.empty:
        con.execute("INSERT INTO dq.validation_results BY NAME SELECT * FROM frame")


def run_validation(settings: Settings, run_id: str) -> ValidationReport:
    """Run every suite's checkpoint on the warehouse; store results in dq.validation_results."""
    from great_expectations.core.run_identifier import RunIdentifier

    from sanpi.validate.suites import SUITES  # imports GX (~5 s): only when validating

    quiet_telemetry()
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        frames = {name: con.sql(query).df() for name, (query, _) in SUITES.items()}
    context = _context(settings)
    outcomes: dict[str, SuiteOutcome] = {}
    records: list[dict] = []
    for name, (_, build) in SUITES.items():
        suite = _sync_suite(context, name, build())
        checkpoint = _checkpoint(context, name, suite)
        log.info("Validating %s: %d rows", name, len(frames[name]))
        result = checkpoint.run(batch_parameters={"dataframe": frames[name]},
                                run_id=RunIdentifier(run_name=run_id))
        validation = next(iter(result.run_results.values()))
        suite_records, failed = _result_records(run_id, name, checkpoint.name, frames[name], validation)
        records += suite_records
        outcomes[name] = SuiteOutcome(name, bool(validation.success), failed)
        log.log(logging.INFO if validation.success else logging.WARNING, "Suite %s: %s (%d expectations, %d failed)",
                name, "passed" if validation.success else "FAILED", len(suite_records), len(failed))
    with duckdb.connect(str(settings.warehouse)) as con:
        store_results(con, records)
    docs = settings.gx_docs_index
    return ValidationReport(run_id, outcomes, str(docs) if docs.exists() else None)


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "none"
    return f"{value:g}" if isinstance(value, float) else str(value)


def describe_gaps(report: ValidationReport) -> list[str]:
    """One line per failing reconciliation row: round, stage, measure and the size of the gap."""
    outcome = report.suites.get("reconciliation")
    if outcome is None or outcome.success:
        return []
    lines: set[tuple] = set()
    for failure in outcome.failed:
        for row in failure["rows"].to_dict("records"):
            lines.add((int(row["round_no"]), str(row["stage_code"]), str(row["measure"]),
                       row.get("city_sum"), row.get("provincial_value"), row.get("difference")))
    return [
        f"round {r} {stage} {measure}: city submissions sum to {_fmt(city)}, bulletin says {_fmt(prov)} "
        f"(gap {_fmt(diff)})"
        for r, stage, measure, city, prov, diff in sorted(lines, key=lambda t: (t[0], t[1], t[2]))
    ]


def describe_failures(report: ValidationReport) -> list[str]:
    """One line per failed expectation of the non-reconciliation suites."""
    lines = []
    for name, outcome in report.suites.items():
        if name == "reconciliation":
            continue
        for failure in outcome.failed:
            lines.append(f"{name}: {failure['expectation']} on {failure['column'] or 'table'} failed "
                         f"for {len(failure['rows'])} row(s)")
    return lines
