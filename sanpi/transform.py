"""Run dbt in-process against the warehouse, forward its node results to our logger, release the file."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from sanpi.settings import DBT_PROJECT_DIR, Settings, quiet_telemetry

log = logging.getLogger("sanpi.dbt")

# dbt's own stdout is kept to warnings; these events reach our logger instead (dbt's log file has all).
_NODE_RESULTS = {"LogModelResult", "LogTestResult", "LogSeedResult"}
_SUMMARIES = {"StatsLine", "CatalogWritten", "RunResultError", "RunResultFailure", "RunResultWarning"}


class DbtError(RuntimeError):
    pass


@dataclass(frozen=True)
class DbtOutcome:
    command: str
    success: bool
    nodes: int
    failures: list[str]


def _collector(records: list[tuple[int, str]]):
    """dbt fires events from its worker threads, outside the Prefect run context: collect them and
    log them from the calling thread once dbt returns, so they reach the flow run's logs."""
    def collect(event) -> None:
        name, level = event.info.name, event.info.level
        if name in _SUMMARIES or (name in _NODE_RESULTS and level in ("warn", "error")):
            records.append((logging.WARNING if level in ("warn", "error") else logging.INFO, event.info.msg))
        elif name in _NODE_RESULTS:
            records.append((logging.DEBUG, event.info.msg))
    return collect


def close_dbt_connections() -> None:
    """dbt-duckdb keeps its DuckDB connection open after invoke() returns (STACK.md): close it so
    the warehouse file is released for other connections and processes."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
        if env is not None:
            env.close()


def run_dbt(settings: Settings, *args: str) -> DbtOutcome:
    """Invoke `dbt <args>` on dbt_project/ with the warehouse from settings."""
    from dbt.cli.main import dbtRunner

    quiet_telemetry()
    os.environ["SANPI_WAREHOUSE"] = str(settings.warehouse)
    cli_args = [*args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
                "--target-path", str(settings.dbt_target), "--log-path", str(settings.dbt_target / "logs"),
                "--log-level", "warn", "--log-level-file", "info"]
    records: list[tuple[int, str]] = []
    try:
        result = dbtRunner(callbacks=[_collector(records)]).invoke(cli_args)
    finally:
        close_dbt_connections()
        for level, message in records:
            log.log(level, message)
    if result.exception is not None:
        raise DbtError(f"dbt {' '.join(args)} could not run: {result.exception}") from result.exception
    failures: list[str] = []
    nodes = 0
    for node_result in getattr(result.result, "results", None) or []:
        nodes += 1
        if str(node_result.status) in ("error", "fail"):
            failures.append(f"{node_result.node.unique_id}: {node_result.message}")
    return DbtOutcome(" ".join(args), bool(result.success), nodes, failures)
