"""Publish a read-only copy of the warehouse after each build, for analysts.

Analysts query the copy, so an open analyst session never blocks a scheduled run (DuckDB lets no
writer in while any other process holds the file), and the copy is swapped in whole with an atomic
rename, so nobody ever sees a half-built warehouse: a session already open keeps the old copy.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb


def publish_copy(warehouse: Path, published: Path) -> Path:
    """Checkpoint the warehouse (so the file holds everything) and copy it over the published one."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CHECKPOINT")
    published.parent.mkdir(parents=True, exist_ok=True)
    partial = published.with_name(f".{published.name}.{os.getpid()}.part")
    shutil.copyfile(warehouse, partial)
    os.replace(partial, published)
    return published
