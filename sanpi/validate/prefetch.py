"""Run the suites' unexpected-rows queries while GX is still importing.

A GX run spends ~2 s of one core importing GX and loading its project before its first query, and at
scale most of its SQL is the unexpected-rows queries (~3 s at 10^7 rows). Those are known without GX
(suites.py declares them), so `start()` runs them in a thread, in the order GX asks for them, on a
connection of its own to the same DuckDB database (same URL and connect args as GX's datasource, hence
the same DuckDB instance and memory cap); DuckDB releases the GIL while it works. gx_duckdb then serves
GX's metric from the prefetched rows when the statement GX builds is the same text, and otherwise runs
the statement itself, as it would without a prefetch. Nothing here imports GX.
"""
from __future__ import annotations

import logging
import re
import threading
from concurrent.futures import Future

log = logging.getLogger("sanpi.validate")

MAX_ROWS = 200  # great_expectations.constants.MAX_RESULT_RECORDS: gx_duckdb passes GX's own value
TOTAL = "__sanpi_unexpected_row_count"

# What GX's QueryMetricProvider does with {batch} for a query asset on DuckDB: the asset's query,
# compiled (a trailing newline), aliased `subselect` unless the query has a JOIN (GX leaves aliasing
# to such queries). The JOIN test is GX's: outside quotes and comments, under both escaping rules.
_QUOTED_IDENTIFIER_OR_COMMENT = r'|"(?:[^"]|"")*"|`[^`]*`|\[[^\]]*\]|--[^\n]*|/\*.*?\*/'
_QUOTED_OR_COMMENT = (re.compile(r"'(?:[^']|'')*'" + _QUOTED_IDENTIFIER_OR_COMMENT, re.DOTALL),
                      re.compile(r"'(?:[^'\\]|\\.|'')*'" + _QUOTED_IDENTIFIER_OR_COMMENT, re.DOTALL))
_JOIN = re.compile(r"\bJOIN\b", re.IGNORECASE)


def substituted(query: str, asset_query: str) -> str:
    """An unexpected-rows query with {batch} replaced as GX replaces it for a query asset."""
    batch = f"{asset_query}\n"
    has_join = all(_JOIN.search(masking.sub(" ", query)) for masking in _QUOTED_OR_COMMENT)
    return query.format(batch=f"({batch})" if has_join else f"({batch}) AS subselect")


def statement(query: str, limit: int = MAX_ROWS) -> str:
    """One statement for both metrics of an unexpected-rows query: its first rows, each carrying the
    total count from a window. Ordered, so a run keeps the same rows when there are more than `limit`."""
    return f'SELECT *, count(*) OVER () AS "{TOTAL}" FROM ({query}) AS unexpected_rows ORDER BY ALL LIMIT {limit}'


class Prefetch:
    def __init__(self, url: str, statements: list[str]):
        import sqlalchemy

        self.statements = statements
        # The engine (and its dialect, duckdb_engine) is made here, in the calling thread: importing
        # SQLAlchemy in the thread while the caller imports GX, which imports it too, would race.
        self._engine = sqlalchemy.create_engine(url, connect_args={"read_only": True})
        self._pending = [(s, Future()) for s in statements]   # in the order GX asks for them
        self._futures: dict[str, list[Future]] = {}
        for s, future in self._pending:
            self._futures.setdefault(s, []).append(future)
        self._stop = threading.Event()
        self.served = 0
        self._thread = threading.Thread(target=self._run, name="sanpi-gx-prefetch", daemon=True)

    def _run(self) -> None:
        import sqlalchemy

        pending = self._pending
        try:
            with self._engine.connect() as connection:
                for text, future in pending:
                    if self._stop.is_set() or not future.set_running_or_notify_cancel():
                        continue
                    try:
                        rows = connection.execute(sqlalchemy.text(text)).fetchall()
                        future.set_result([row._asdict() for row in rows])
                    except Exception as exc:  # GX runs the statement again and reports the error its way
                        future.set_exception(exc)
        except Exception as exc:
            log.debug("prefetch stopped: %s", exc)
            for _, future in pending:
                if not future.done():
                    future.cancel() or future.set_exception(exc)

    def take(self, text: str) -> list[dict] | None:
        """The rows of `text` (waiting for them if they are being fetched); None if it was not
        prefetched, was cancelled or failed."""
        futures = self._futures.get(text)
        if not futures:
            return None
        future = futures.pop(0)
        try:
            rows = future.result()
        except Exception:
            return None
        self.served += 1
        return rows

    def stop(self) -> None:
        """Cancel what was not started, wait for the running statement, close the connection."""
        self._stop.set()
        for futures in self._futures.values():
            for future in futures:
                future.cancel()
        if self._thread.is_alive():
            self._thread.join()
        self._engine.dispose()


_current: Prefetch | None = None
last: Prefetch | None = None  # the last one stopped (what it served)


def start(url: str, suites) -> Prefetch:
    """Prefetch the unexpected-rows statements of `suites` (suites.Suite) against `url`."""
    global _current
    statements = [statement(substituted(q, s.asset_query)) for s in suites for q in s.unexpected_rows_queries()]
    _current = Prefetch(url, statements)
    _current._thread.start()
    return _current


def take(text: str) -> list[dict] | None:
    return _current.take(text) if _current is not None else None


def stop() -> Prefetch | None:
    global _current, last
    done, _current = _current, None
    if done is not None:
        done.stop()
        last = done
    return done
