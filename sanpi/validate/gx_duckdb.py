"""Make Great Expectations' SQL route work on DuckDB, so suites run inside the database.

As shipped (GX 1.24, duckdb-engine 0.17), every expectation on DuckDB fails with an empty result: GX
returns the connection to its pool before it fetches the rows, and DuckDB drops a result whose
connection went back (GX issues 10738 and 11579). GX already knows this shape of problem from
SQLite and SQL Server, whose dialects it gives one persisted connection; `enable()` puts DuckDB on that
list. Table assets also fail (column reflection asks for pg_catalog.pg_collation, and the fallback
drops the schema), so the suites use query assets. `release()` closes what GX leaves open, because
DuckDB lets a process hold a file with one configuration only, and other processes not at all.
"""
from __future__ import annotations

import gc
import weakref

import great_expectations.execution_engine.sqlalchemy_execution_engine as gx_sql
import sqlalchemy
from great_expectations.execution_engine.sqlalchemy_execution_engine import SqlAlchemyExecutionEngine


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


def enable() -> None:
    """Give DuckDB one persisted connection (idempotent)."""
    if DUCKDB not in gx_sql._PERSISTED_CONNECTION_DIALECTS:
        gx_sql._PERSISTED_CONNECTION_DIALECTS = (*gx_sql._PERSISTED_CONNECTION_DIALECTS, DUCKDB)
    if not sqlalchemy.event.contains(sqlalchemy.engine.Engine, "engine_connect", _track):
        sqlalchemy.event.listen(sqlalchemy.engine.Engine, "engine_connect", _track)


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
