"""Backfill: forget what was loaded for some rounds, so the next ingest loads their files afresh."""
from __future__ import annotations

import re

import duckdb

from sanpi.raw_schema import delete_submission_rows


def parse_rounds(text: str) -> list[int]:
    """'4-9' -> [4..9]; '3,5,8-9' -> [3, 5, 8, 9]."""
    rounds: set[int] = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = re.fullmatch(r"(\d+)(?:\s*-\s*(\d+))?", part)
        if not match:
            raise ValueError(f"not a round range: {part!r} (use e.g. 4-9 or 3,5,8-9)")
        low, high = int(match.group(1)), int(match.group(2) or match.group(1))
        if low > high:
            raise ValueError(f"empty round range {part!r}")
        rounds.update(range(low, high + 1))
    if not rounds:
        raise ValueError("no rounds given")
    return sorted(rounds)


def clear_rounds(con: duckdb.DuckDBPyConnection, rounds: list[int]) -> int:
    """Delete the raw data and manifest entries of these rounds in one transaction; returns the
    number of file versions forgotten. Their raw bytes stay in the raw file store."""
    marks = ", ".join("?" * len(rounds))
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"""DELETE FROM raw.quarantine q USING raw.load_manifest m
                        WHERE m.round_no IN ({marks}) AND q.file_sha256 = m.sha256 AND q.file_path = m.file_path""",
                    rounds)
        delete_submission_rows(con, f"round_no IN ({marks})", rounds)
        for table in ("submission_findings", "bulletin_figures", "bulletin_warnings", "bulletins"):
            con.execute(f"DELETE FROM raw.{table} WHERE round_no IN ({marks})", rounds)
        forgotten = con.execute(f"DELETE FROM raw.load_manifest WHERE round_no IN ({marks}) RETURNING 1",
                                rounds).fetchall()
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return len(forgotten)
