"""The run log in the warehouse (ops.pipeline_runs), and the fingerprint of what builds the marts.

A run with no new files, the same build code and a passing last run has nothing to do: it says so
and stops early instead of rebuilding an identical warehouse.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from sanpi import __version__
from sanpi.settings import DBT_PROJECT_DIR, REPO_ROOT

RUNS_DDL = """
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.pipeline_runs (
    run_id            VARCHAR NOT NULL,
    run_name          VARCHAR,
    started_at        TIMESTAMP NOT NULL,
    finished_at       TIMESTAMP NOT NULL,
    source            VARCHAR,
    rounds            VARCHAR,    -- backfill range, NULL for a normal run
    files_changed     INTEGER NOT NULL,
    build_fingerprint VARCHAR NOT NULL,
    status            VARCHAR NOT NULL,   -- passed | failed | unchanged
    message           VARCHAR
);
"""
_BUILD_INPUTS = ("models", "macros", "seeds", "tests", "analyses", "dbt_project.yml")


@dataclass(frozen=True)
class LastRun:
    run_id: str
    finished_at: datetime
    build_fingerprint: str
    status: str


def digest_files(digest, paths: list[Path], base: Path) -> None:
    """Add each file's path (relative to base) and bytes to digest; folders in sorted order."""
    for path in paths:
        for file in sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]:
            if file.exists():
                digest.update(file.relative_to(base).as_posix().encode())
                digest.update(file.read_bytes())


def build_fingerprint() -> str:
    """Hash of everything that decides what a build produces: the dbt project and the suites."""
    digest = hashlib.sha256(__version__.encode())
    digest_files(digest, [REPO_ROOT / "sanpi" / "validate" / "suites.py",
                          *(DBT_PROJECT_DIR / name for name in _BUILD_INPUTS)], REPO_ROOT)
    return digest.hexdigest()


def last_run(warehouse: Path) -> LastRun | None:
    """The latest run that built or confirmed the warehouse (NULL when there is none yet)."""
    if not warehouse.exists():
        return None
    with duckdb.connect(str(warehouse), read_only=True) as con:
        exists = con.execute("""SELECT 1 FROM information_schema.tables
                                WHERE table_schema = 'ops' AND table_name = 'pipeline_runs'""").fetchall()
        if not exists:
            return None
        row = con.execute("""SELECT run_id, finished_at, build_fingerprint, status FROM ops.pipeline_runs
                             ORDER BY finished_at DESC LIMIT 1""").fetchall()
    return LastRun(*row[0]) if row else None


def record_run(warehouse: Path, **fields) -> None:
    with duckdb.connect(str(warehouse)) as con:
        con.execute(RUNS_DDL)
        columns = ", ".join(fields)
        con.execute(f"INSERT INTO ops.pipeline_runs ({columns}) VALUES ({', '.join('?' * len(fields))})",
                    list(fields.values()))


def mark_run_failed(warehouse: Path, run_id: str, message: str) -> None:
    """A run recorded as passed that failed afterwards (e.g. publishing its copy)."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute("UPDATE ops.pipeline_runs SET status = 'failed', message = ? WHERE run_id = ?",
                    [message, run_id])


def nothing_new(warehouse: Path, published: Path, files: list) -> LastRun | None:
    """The last run, when a new one would have nothing to do: every inbox file is what its path held
    at the last load, the build code is the same and the last run passed. Answered from the warehouse
    alone, so `sanpi run` can say so without starting Prefect. None whenever in doubt."""
    import hashlib

    from sanpi.ingest.inbox import settled_stat

    previous = last_run(warehouse)
    if (previous is None or previous.status not in ("passed", "unchanged") or not published.exists()
            or previous.build_fingerprint != build_fingerprint()):
        return None
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            latest = {path: (sha256, stat) for path, sha256, stat in con.execute(
                """SELECT file_path, arg_max(sha256, loaded_at), arg_max(file_stat, loaded_at) FROM raw.load_manifest
                   GROUP BY file_path""").fetchall()}
    except duckdb.Error:  # e.g. another run is writing it: let the run wait its turn
        return None
    for f in files:
        sha256, stat = latest.get(f.rel_path, (None, None))
        if sha256 is None:
            return None
        # A file whose stat is the one kept at its load is not read (see settled_stat).
        settled = settled_stat(f.path)
        if (settled is None or settled != stat) and sha256 != hashlib.sha256(f.path.read_bytes()).hexdigest():
            return None
    return previous
