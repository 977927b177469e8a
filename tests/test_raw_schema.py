"""The raw schema's submission rows: one row per file in raw.submission_files, the rows in
raw.submission_file_rows, read through the view raw.submission_rows; older warehouses migrated."""
from __future__ import annotations

import duckdb

from sanpi.raw_schema import add_submission_rows, delete_submission_rows, ensure_raw_schema

# The table as warehouses before raw.submission_files had it (before `enterprise` was added, too).
OLD_TABLE = """
CREATE SCHEMA raw;
CREATE TABLE raw.submission_rows (
    file_sha256 VARCHAR NOT NULL, file_path VARCHAR NOT NULL, sheet VARCHAR, row_number INTEGER NOT NULL,
    round_no INTEGER NOT NULL, city_code VARCHAR NOT NULL, stage_code VARCHAR NOT NULL, project_code VARCHAR,
    project_name VARCHAR NOT NULL, county VARCHAR, sector_label VARCHAR, investment_yi DECIMAL(18, 4) NOT NULL);
"""
OLD_ROWS = [  # two files, their rows interleaved as a crash-free history would never have them: order kept
    ("b" * 64, "submissions/13/开封市.csv", None, 2, 13, "4102", "signed", "KF-1", "开封项目一", "龙亭区", "文旅", "3.5000"),
    ("a" * 64, "submissions/13/郑州市.xlsx", "签约", 3, 13, "4101", "signed", None, "郑州项目", "金水区", "制造", "12.0000"),
    ("b" * 64, "submissions/13/开封市.csv", None, 3, 13, "4102", "started", "KF-2", "开封项目二", None, None, "0.8000"),
]
VIEW_ROWS = "SELECT * EXCLUDE (enterprise) FROM raw.submission_rows ORDER BY file_path, sheet, row_number"


def _old_warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(OLD_TABLE)
    con.executemany("INSERT INTO raw.submission_rows VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", OLD_ROWS)
    return con


def _plain(rows):
    return [tuple(str(v) if v is not None and not isinstance(v, (int, str)) else v for v in row) for row in rows]


def test_an_older_warehouse_is_split_into_files_and_rows_with_nothing_lost():
    con = _old_warehouse()
    ensure_raw_schema(con)
    kind = con.execute("""SELECT table_type FROM information_schema.tables
                          WHERE table_schema = 'raw' AND table_name = 'submission_rows'""").fetchone()[0]
    assert kind == "VIEW"
    assert _plain(con.execute(VIEW_ROWS).fetchall()) == sorted(OLD_ROWS, key=lambda r: (r[1], r[2] or "", r[3]))
    # the files numbered in the order of their first row; the rows kept in their order
    assert con.execute("SELECT file_id, file_path FROM raw.submission_files ORDER BY file_id").fetchall() == [
        (1, "submissions/13/开封市.csv"), (2, "submissions/13/郑州市.xlsx")]
    assert con.execute("SELECT file_id, row_number FROM raw.submission_file_rows ORDER BY rowid").fetchall() == [
        (1, 2), (2, 3), (1, 3)]
    assert con.execute("SELECT count(*) FROM raw.submission_rows WHERE enterprise IS NULL").fetchone()[0] == 3
    ensure_raw_schema(con)  # a second time changes nothing
    assert con.execute("SELECT count(*) FROM raw.submission_files").fetchone()[0] == 2
    assert len(con.execute(VIEW_ROWS).fetchall()) == 3


def test_a_new_warehouse_reads_its_rows_through_the_view():
    con = duckdb.connect()
    ensure_raw_schema(con)
    assert con.execute("SELECT count(*) FROM raw.submission_rows").fetchone()[0] == 0
    columns = [c[0] for c in con.execute("SELECT * FROM raw.submission_rows").description]
    assert columns == ["file_sha256", "file_path", "sheet", "row_number", "round_no", "city_code", "stage_code",
                       "project_code", "project_name", "county", "sector_label", "investment_yi", "enterprise"]


def test_rows_added_and_deleted_by_their_columns():
    con = duckdb.connect()
    ensure_raw_schema(con)
    rows = [r + (None,) for r in OLD_ROWS]
    values = ", ".join(["(" + ", ".join("?" * 13) + ")"] * len(rows))
    select = (f"SELECT * FROM (VALUES {values}) AS v(file_sha256, file_path, sheet, row_number, round_no, city_code, "
              "stage_code, project_code, project_name, county, sector_label, investment_yi, enterprise)")
    assert add_submission_rows(con, select, [x for r in rows for x in r]) == 3
    assert con.execute("SELECT count(*) FROM raw.submission_files").fetchone()[0] == 2
    # more rows of a file already there join it; a file of another round is a file of its own
    assert add_submission_rows(con, "SELECT * REPLACE (row_number + 10 AS row_number) FROM raw.submission_rows "
                                    "WHERE city_code = '4102'") == 2
    assert add_submission_rows(con, "SELECT * REPLACE (14 AS round_no) FROM raw.submission_rows "
                                    "WHERE city_code = '4101'") == 1
    assert con.execute("SELECT count(*) FROM raw.submission_files").fetchone()[0] == 3
    assert con.execute("SELECT count(*) FROM raw.submission_rows").fetchone()[0] == 6
    # deleting every row of a file takes the file too
    assert delete_submission_rows(con, "round_no = 14") == 1
    assert delete_submission_rows(con, "city_code = '4102' AND row_number > 10") == 2
    assert con.execute("SELECT count(*) FROM raw.submission_files").fetchone()[0] == 2
    assert _plain(con.execute(VIEW_ROWS).fetchall()) == sorted(OLD_ROWS, key=lambda r: (r[1], r[2] or "", r[3]))
