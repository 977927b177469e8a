"""Make Great Expectations' SQL route work on DuckDB, so suites run inside the database.

As shipped (GX 1.24, duckdb-engine 0.17), every expectation on DuckDB fails with an empty result: GX
returns the connection to its pool before it fetches the rows, and DuckDB drops a result whose
connection went back (GX issues 10738 and 11579). GX already knows this shape of problem from
SQLite and SQL Server, whose dialects it gives one persisted connection; `enable()` puts DuckDB on that
list. Table assets also fail (column reflection asks for pg_catalog.pg_collation, and the fallback
drops the schema), so the suites use query assets. `release()` closes what GX leaves open, because
DuckDB lets a process hold a file with one configuration only, and other processes not at all.

An UnexpectedRowsExpectation needs two metrics, the count of its rows and the rows themselves (up to
200), and GX runs its query once for each: on large tables the checks cost twice what they need to.
`enable()` also gives DuckDB one statement for both (the first 200 rows, each carrying the total count
from a window), run by whichever metric GX asks for first, or taken from prefetch.py when the runner
started that very statement while GX was importing.
"""
from __future__ import annotations

import gc
import weakref
from functools import wraps

import great_expectations.execution_engine.sqlalchemy_execution_engine as gx_sql
import sqlalchemy
from great_expectations.constants import MAX_RESULT_RECORDS
from great_expectations.core.metric_domain_types import MetricDomainTypes
from great_expectations.execution_engine.sqlalchemy_execution_engine import SqlAlchemyExecutionEngine
from great_expectations.expectations import registry

from sanpi.validate import prefetch


class _DuckDBDialect(str):
    """Compares equal to the engine's dialect name 'duckdb' and has the `.value` GX reads from its
    GXSqlDialect members when it matches connection strings."""

    value = "duckdb"


DUCKDB = _DuckDBDialect("duckdb")

# Every DuckDB engine and connection opened through SQLAlchemy, so release() finds them without
# walking the whole heap (gc.get_objects() costs ~0.3 s with GX loaded).
_ENGINES: weakref.WeakSet = weakref.WeakSet()
_CONNECTIONS: weakref.WeakSet = weakref.WeakSet()


def _track(connection) -> None:
    if connection.engine.url.drivername == "duckdb":
        _ENGINES.add(connection.engine)
        _CONNECTIONS.add(connection)


UNEXPECTED_ROWS_METRICS = ("unexpected_rows_query.row_count", "unexpected_rows_query.table")
ONE_STATEMENT = True  # False: GX's own two statements (tests compare the two)
_TOTAL = prefetch.TOTAL


def _unexpected_rows(cls, execution_engine, metric_domain_kwargs: dict, metric_value_kwargs: dict) -> tuple:
    """(count, first rows) of an unexpected-rows query, from one statement. The query is substituted
    exactly as GX's own metrics do; the result waits on the execution engine for the other metric."""
    batch, _, _ = execution_engine.get_compute_domain(metric_domain_kwargs, domain_type=MetricDomainTypes.TABLE)
    query = cls._get_substituted_batch_subquery_from_query_and_batch_selectable(
        query=cls._get_query_from_metric_value_kwargs(metric_value_kwargs), batch_selectable=batch,
        execution_engine=execution_engine)
    pending = execution_engine.__dict__.setdefault("_sanpi_unexpected_rows", {})
    if query in pending:
        return pending.pop(query)
    text = prefetch.statement(query, MAX_RESULT_RECORDS)
    rows = prefetch.take(text)
    if rows is None:
        rows = [row._asdict() for row in execution_engine.execute_query(sqlalchemy.text(text)).fetchall()]
    count = int(rows[0][_TOTAL]) if rows else 0
    for row in rows:
        del row[_TOTAL]
    pending[query] = (count, rows)
    return count, rows


def _one_statement(metric_name: str) -> None:
    providers = registry._registered_metrics[metric_name]["providers"]
    cls, original = providers[SqlAlchemyExecutionEngine.__name__]
    if getattr(original, "sanpi_original", None):
        return

    @wraps(original)
    def metric_fn(*args, **kwargs):
        engine, value_kwargs = kwargs.get("execution_engine"), kwargs.get("metric_value_kwargs") or {}
        if args or getattr(engine, "dialect_name", None) != DUCKDB or value_kwargs.get("fetch_all"):
            return original(*args, **kwargs)
        count, rows = _unexpected_rows(kwargs["cls"], engine, kwargs["metric_domain_kwargs"], value_kwargs)
        return count if metric_name.endswith(".row_count") else rows

    metric_fn.sanpi_original = original
    providers[SqlAlchemyExecutionEngine.__name__] = (cls, metric_fn)


def enable() -> None:
    """Give DuckDB one persisted connection and one statement per unexpected-rows query (idempotent)."""
    if DUCKDB not in gx_sql._PERSISTED_CONNECTION_DIALECTS:
        gx_sql._PERSISTED_CONNECTION_DIALECTS = (*gx_sql._PERSISTED_CONNECTION_DIALECTS, DUCKDB)
    if not sqlalchemy.event.contains(sqlalchemy.engine.Engine, "engine_connect", _track):
        sqlalchemy.event.listen(sqlalchemy.engine.Engine, "engine_connect", _track)
    for name in UNEXPECTED_ROWS_METRICS:
        if ONE_STATEMENT:
            _one_statement(name)
        else:
            _gx_statements(name)


def _gx_statements(metric_name: str) -> None:
    providers = registry._registered_metrics[metric_name]["providers"]
    cls, fn = providers[SqlAlchemyExecutionEngine.__name__]
    providers[SqlAlchemyExecutionEngine.__name__] = (cls, getattr(fn, "sanpi_original", fn))


def release(thorough: bool = False) -> int:
    """Close every DuckDB connection GX holds (persisted connections and pooled ones); returns how
    many engines were disposed. `thorough` also searches the heap, for engines opened before
    enable() (or by other means)."""
    for connection in list(_CONNECTIONS):
        connection.close()
    engines = set(_ENGINES)
    if thorough:
        for engine in [o for o in gc.get_objects() if isinstance(o, SqlAlchemyExecutionEngine)]:
            if engine._connection is not None:
                engine._connection.close()
                engine._connection = None
        engines |= {o for o in gc.get_objects()
                    if isinstance(o, sqlalchemy.engine.Engine) and o.url.drivername == "duckdb"}
    for engine in engines:
        engine.dispose()
    _CONNECTIONS.clear()
    _ENGINES.clear()
    return len(engines)
