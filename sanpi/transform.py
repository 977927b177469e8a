"""Run dbt in-process against the warehouse, forward its node results to our logger, release the file.

`dbt build` / `dbt run` of the whole project are incremental: the models keep their rows by round and
rebuild only what the changed rounds touch (dbt_project/macros/incremental_rounds.sql). That is right
only while the code that built the rows is the code that runs now, so a build whose dbt project
(models, macros, seeds, dbt_project.yml), dbt/DuckDB versions or raw columns differ from those of the
last complete build runs with --full-refresh.
"""
from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from sanpi.settings import DBT_PROJECT_DIR, Settings, duckdb_config, quiet_telemetry

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


_CODE_INPUTS = ("models", "macros", "seeds", "dbt_project.yml")
_STATE_TABLE = "incremental_state.code_fingerprint"


def code_fingerprint(warehouse: Path) -> tuple[str, str | None]:
    """Hash of what decides the rows the incremental models keep, apart from the data; and the hash
    stored by the last complete build (None if there is none)."""
    import duckdb
    from importlib.metadata import version

    from sanpi.runs import digest_files

    digest = hashlib.sha256()
    for package in ("dbt-core", "dbt-duckdb", "duckdb"):
        digest.update(f"{package}={version(package)};".encode())
    digest_files(digest, [DBT_PROJECT_DIR / name for name in _CODE_INPUTS], DBT_PROJECT_DIR)
    if not warehouse.exists():
        return digest.hexdigest(), None
    # the pipeline's configuration: other connections of this process may share the file
    with duckdb.connect(str(warehouse), config=duckdb_config()) as con:
        # optional raw columns change the compiled SQL (macros/optional_column.sql)
        columns = con.execute("""select table_name, column_name, data_type from information_schema.columns
                                 where table_schema = 'raw' order by all""").fetchall()
        digest.update(repr(columns).encode())
        stored = con.execute("""select 1 from information_schema.tables
                                where table_schema = 'incremental_state' and table_name = 'code_fingerprint'""")
        row = con.execute(f"select max(fingerprint) from {_STATE_TABLE}").fetchone() if stored.fetchall() else None
    return digest.hexdigest(), row[0] if row else None


def _store_fingerprint(warehouse: Path, fingerprint: str) -> None:
    import duckdb

    with duckdb.connect(str(warehouse), config=duckdb_config()) as con:
        con.execute("create schema if not exists incremental_state")
        con.execute(f"create or replace table {_STATE_TABLE} as select ? as fingerprint", [fingerprint])


def run_dbt(settings: Settings, *args: str) -> DbtOutcome:
    """Invoke `dbt <args>` on dbt_project/ with the warehouse from settings. A whole-project
    `build` or `run` (no other arguments) is incremental unless the code changed (module docstring)."""
    whole_project = args in (("build",), ("run",))
    fingerprint = None
    if whole_project:
        fingerprint, stored = code_fingerprint(settings.warehouse)
        if stored != fingerprint:
            args = (*args, "--full-refresh")
        if args[0] == "build":
            # Unit tests check the models' logic on fixed inputs, not the data: the same answer on
            # every run, so they run where the logic changes (tests/test_dbt_project.py, CI).
            args = (*args, "--exclude-resource-type", "unit_test")
    outcome = _invoke(settings, *args)
    if fingerprint is not None and outcome.success and not outcome.failures:
        _store_fingerprint(settings.warehouse, fingerprint)
    return outcome


def _invoke(settings: Settings, *args: str) -> DbtOutcome:
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
