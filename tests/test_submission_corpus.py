"""Every kind of awkward or bad submission in the corpus loads as a user expects, and every row is
accounted for: rows read = rows loaded + rows quarantined, in the reader and in the manifest."""
from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from sanpi.ingest.inbox import discover
from sanpi.ingest.loader import load_file
from sanpi.raw_schema import ensure_raw_schema
from tests.submission_corpus import CASES, Case


def test_corpus_has_at_least_thirty_kinds():
    assert len({c.name for c in CASES}) >= 30


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_submission_case(case: Case, tmp_path):
    folder = tmp_path / "inbox" / "submissions" / case.folder
    folder.mkdir(parents=True)
    (folder / case.file_name).write_bytes(case.build())
    [inbox_file] = discover(tmp_path / "inbox")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_raw_schema(con)
    outcome = load_file(con, inbox_file, str(tmp_path / "inbox"), tmp_path / "store")

    manifest = con.sql("SELECT rows_read, rows_loaded, rows_quarantined, rows_skipped FROM raw.load_manifest").fetchall()
    assert manifest == [(case.read, case.loaded, case.read - case.loaded, case.skipped)]
    assert con.sql("SELECT count(*) FROM raw.submission_rows").fetchall() == [(case.loaded,)]
    quarantine = con.sql("SELECT column_name, reason, row_number FROM raw.quarantine ORDER BY row_number").fetchall()
    if case.rejected:
        assert outcome.status == "rejected"
        assert len(quarantine) == 1 and case.rejected in quarantine[0][1] and quarantine[0][2] is None
        return
    assert len(quarantine) == case.read - case.loaded == len(case.quarantined)
    for (column, reason, row_number), (want_column, fragment) in zip(quarantine, case.quarantined):
        assert column == want_column and fragment in reason and row_number is not None, reason
    findings = [f for (f,) in con.sql("SELECT finding FROM raw.submission_findings ORDER BY sheet, row_number").fetchall()]
    assert findings == case.findings
    if case.total_yi is not None:
        total = con.sql("SELECT sum(investment_yi) FROM raw.submission_rows").fetchall()[0][0]
        assert total == Decimal(case.total_yi)
