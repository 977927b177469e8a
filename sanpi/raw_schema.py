"""The `raw` schema: what ingest writes and dbt's staging models read. Loaders own these tables."""
from __future__ import annotations

import duckdb

RAW_DDL = """
CREATE SCHEMA IF NOT EXISTS raw;

-- One row per file version seen. A file whose bytes were already loaded is not loaded again.
-- A newer file for the same (kind, round_no, city_code) supersedes the older one: the older
-- rows stay in raw (history) and staging reads only current versions (superseded_at IS NULL).
CREATE TABLE IF NOT EXISTS raw.load_manifest (
    file_path        VARCHAR NOT NULL,   -- path relative to the source folder, e.g. submissions/13/郑州市.xlsx
    sha256           VARCHAR NOT NULL,
    kind             VARCHAR NOT NULL,   -- bulletin | submission
    round_no         INTEGER,
    city_code        VARCHAR,            -- reporting unit (NULL for provincial bulletins)
    rows_read        INTEGER NOT NULL,
    rows_loaded      INTEGER NOT NULL,
    rows_quarantined INTEGER NOT NULL,
    loaded_at        TIMESTAMP NOT NULL,
    source_root      VARCHAR,            -- folder or URL the file came from
    stored_path      VARCHAR,            -- content-addressed copy of the raw bytes
    superseded_at    TIMESTAMP           -- set when a newer version of the same submission arrives
);

-- One row per submission file version whose rows were loaded: what its rows have in common.
CREATE TABLE IF NOT EXISTS raw.submission_files (
    file_id       INTEGER NOT NULL,      -- key of the file's rows in raw.submission_file_rows
    file_sha256   VARCHAR NOT NULL,
    file_path     VARCHAR NOT NULL,
    round_no      INTEGER NOT NULL,
    city_code     VARCHAR NOT NULL
);

-- One row per project row of a city submission (all sheets), as read and typed. Read it through the
-- view raw.submission_rows, which adds each row's file, round and unit.
CREATE TABLE IF NOT EXISTS raw.submission_file_rows (
    file_id       INTEGER NOT NULL,      -- raw.submission_files.file_id
    sheet         VARCHAR,               -- xlsx sheet name; NULL for CSV
    row_number    INTEGER NOT NULL,      -- 1-based row number in the sheet / CSV file
    stage_code    VARCHAR NOT NULL,      -- signed | started | production
    project_code  VARCHAR,
    project_name  VARCHAR NOT NULL,
    county        VARCHAR,
    sector_label  VARCHAR,               -- as written by the city (mapped to a sector in dbt)
    investment_yi DECIMAL(18, 4) NOT NULL, -- total investment, 亿元
    enterprise    VARCHAR                -- enterprise (建设单位/项目单位) where the list gives one
);

-- One row per bulletin file: the round it reports and its metadata.
CREATE TABLE IF NOT EXISTS raw.bulletins (
    file_sha256     VARCHAR NOT NULL,
    file_path       VARCHAR NOT NULL,
    province        VARCHAR,             -- 河南 | other
    round_no        INTEGER,
    held_on         DATE,
    main_venue      VARCHAR,
    source_url      VARCHAR,
    cumulative_rounds        INTEGER,
    cumulative_projects      INTEGER,
    cumulative_investment_yi DECIMAL(18, 4),
    cumulative_qualifier     VARCHAR
);

-- One row per figure a bulletin states (shape of the bulletin reader's output contract).
CREATE TABLE IF NOT EXISTS raw.bulletin_figures (
    file_sha256    VARCHAR NOT NULL,
    file_path      VARCHAR NOT NULL,
    round_no       INTEGER,
    unit           VARCHAR NOT NULL,     -- 河南省 | city name | county name
    unit_level     VARCHAR NOT NULL,     -- province | city | county
    stage          VARCHAR NOT NULL,     -- signed | started | production | signed+started | all
    measure        VARCHAR NOT NULL,     -- projects | investment_yi
    value          DECIMAL(18, 4) NOT NULL,
    value_decimals INTEGER NOT NULL,     -- decimals as published: sets the rounding tolerance
    qualifier      VARCHAR NOT NULL,     -- exact | approx | lower_bound
    breakdown_dimension VARCHAR,         -- sector | size_band | source (NULL = headline figure)
    breakdown_category  VARCHAR,
    source_text    VARCHAR,              -- sentence the figure came from (provenance)
    char_start     INTEGER,              -- span of source_text in the decoded article body, if known
    char_end       INTEGER
);

-- Figures a bulletin reader saw but would not emit (digits missing, cut off, ambiguous), with why.
CREATE TABLE IF NOT EXISTS raw.bulletin_warnings (
    file_sha256 VARCHAR NOT NULL,
    file_path   VARCHAR NOT NULL,
    round_no    INTEGER,
    sentence    VARCHAR,
    reason      VARCHAR NOT NULL
);

-- Findings about a submission that do not stop its rows from loading: a declared 合计 (total) row
-- that differs from the sum of the rows, duplicate projects, an amount implausible for its unit.
CREATE TABLE IF NOT EXISTS raw.submission_findings (
    file_sha256 VARCHAR NOT NULL,
    file_path   VARCHAR NOT NULL,
    round_no    INTEGER,
    city_code   VARCHAR,
    sheet       VARCHAR,
    row_number  INTEGER,
    finding     VARCHAR NOT NULL,        -- total_mismatch | duplicate_project | implausible_amount | ...
    detail      VARCHAR NOT NULL,
    expected    DECIMAL(18, 4),
    actual      DECIMAL(18, 4)
);

-- Rows that could not be loaded, with the reason. rows_read = rows_loaded + rows_quarantined.
CREATE TABLE IF NOT EXISTS raw.quarantine (
    file_path     VARCHAR NOT NULL,
    file_sha256   VARCHAR NOT NULL,
    sheet         VARCHAR,
    row_number    INTEGER,
    column_name   VARCHAR,
    raw_values    VARCHAR,               -- the row as read, JSON
    reason        VARCHAR NOT NULL,
    quarantined_at TIMESTAMP NOT NULL DEFAULT now()
);

-- Columns added after the first release: bring older warehouses up to date.
ALTER TABLE raw.bulletin_figures ADD COLUMN IF NOT EXISTS char_start INTEGER;
ALTER TABLE raw.bulletin_figures ADD COLUMN IF NOT EXISTS char_end INTEGER;
-- 合计, section and note rows of a file: not project rows, so outside rows_read.
ALTER TABLE raw.load_manifest ADD COLUMN IF NOT EXISTS rows_skipped INTEGER;
-- The file's size, times, inode and device when it was read (size:mtime_ns:ctime_ns:inode:device), NULL
-- when it had changed too recently to trust: a rerun does not read a file whose stat is still this.
ALTER TABLE raw.load_manifest ADD COLUMN IF NOT EXISTS file_stat VARCHAR;
"""


# The rows as dbt, the checks and analysts read them: one row per project row of a submission, with its
# file, round and unit. A view, so that the loader writes what a file's rows have in common once per file
# (at 10^7 rows, the same text on every row cost ~15% of the insert) and readers still see one table.
SUBMISSION_ROWS_VIEW = """
CREATE OR REPLACE VIEW raw.submission_rows AS
SELECT f.file_sha256, f.file_path, r.sheet, r.row_number, f.round_no, f.city_code, r.stage_code,
       r.project_code, r.project_name, r.county, r.sector_label, r.investment_yi, r.enterprise
FROM raw.submission_file_rows r
JOIN raw.submission_files f USING (file_id)
"""
# Columns of raw.submission_rows kept per file / per row, with their types.
FILE_COLUMNS = {"file_sha256": "VARCHAR", "file_path": "VARCHAR", "round_no": "INTEGER", "city_code": "VARCHAR"}
ROW_COLUMNS = {"sheet": "VARCHAR", "row_number": "INTEGER", "stage_code": "VARCHAR", "project_code": "VARCHAR",
               "project_name": "VARCHAR", "county": "VARCHAR", "sector_label": "VARCHAR",
               "investment_yi": "DECIMAL(18, 4)", "enterprise": "VARCHAR"}


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(RAW_DDL)
    kind = con.execute("""SELECT table_type FROM information_schema.tables
                          WHERE table_schema = 'raw' AND table_name = 'submission_rows'""").fetchone()
    if kind is not None and kind[0] == "BASE TABLE":
        _split_submission_rows(con)
    elif kind is None:
        con.execute(SUBMISSION_ROWS_VIEW)


def _split_submission_rows(con: duckdb.DuckDBPyConnection) -> None:
    """A warehouse from before raw.submission_files: its one table of rows split in two, in one
    transaction, the rows kept in their order."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("ALTER TABLE raw.submission_rows ADD COLUMN IF NOT EXISTS enterprise VARCHAR")
        con.execute("""INSERT INTO raw.submission_files
                       SELECT row_number() OVER (ORDER BY first_row), file_sha256, file_path, round_no, city_code
                       FROM (SELECT file_sha256, file_path, round_no, city_code, min(rowid) AS first_row
                             FROM raw.submission_rows GROUP BY ALL)""")
        con.execute(f"""INSERT INTO raw.submission_file_rows
                        SELECT f.file_id, {', '.join('r.' + c for c in ROW_COLUMNS)}
                        FROM raw.submission_rows r JOIN raw.submission_files f USING ({', '.join(FILE_COLUMNS)})
                        ORDER BY r.rowid""")
        con.execute("DROP TABLE raw.submission_rows")
        con.execute(SUBMISSION_ROWS_VIEW)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def next_file_id(con: duckdb.DuckDBPyConnection) -> int:
    """The first free raw.submission_files.file_id (the loader is the only writer)."""
    return con.execute("SELECT coalesce(max(file_id), 0) + 1 FROM raw.submission_files").fetchone()[0]


def add_submission_rows(con: duckdb.DuckDBPyConnection, select: str, params: list | None = None) -> int:
    """Rows shaped like raw.submission_rows (a query giving its columns by name) added to it: each new
    (file_sha256, file_path, round_no, city_code) becomes a file, the rest its rows, in the query's order.
    Returns the number of rows added."""
    files, rows = ", ".join(FILE_COLUMNS), ", ".join(ROW_COLUMNS)
    typed = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in (FILE_COLUMNS | ROW_COLUMNS).items())
    con.execute(f"CREATE OR REPLACE TEMP TABLE _sanpi_new_rows AS SELECT {typed} FROM ({select})", params or [])
    try:
        con.execute(f"""INSERT INTO raw.submission_files
                        SELECT ? + row_number() OVER (ORDER BY first_row) - 1, {files}
                        FROM (SELECT {files}, min(rowid) AS first_row FROM _sanpi_new_rows n
                              WHERE NOT EXISTS (SELECT 1 FROM raw.submission_files f
                                                WHERE {' AND '.join(f'f.{c} = n.{c}' for c in FILE_COLUMNS)})
                              GROUP BY ALL)""", [next_file_id(con)])
        return con.execute(f"""INSERT INTO raw.submission_file_rows
                               SELECT f.file_id, {', '.join('n.' + c for c in ROW_COLUMNS)}
                               FROM _sanpi_new_rows n JOIN raw.submission_files f USING ({files})
                               ORDER BY n.rowid""").fetchone()[0]
    finally:
        con.execute("DROP TABLE _sanpi_new_rows")


def delete_submission_rows(con: duckdb.DuckDBPyConnection, where: str, params: list | None = None) -> int:
    """Rows of raw.submission_rows matching `where` (over its columns) deleted; a file left without rows
    goes too. Returns the number of rows deleted."""
    gone = con.execute(f"""DELETE FROM raw.submission_file_rows
                           WHERE rowid IN (SELECT r.rowid FROM raw.submission_file_rows r
                                           JOIN raw.submission_files f USING (file_id) WHERE {where})""",
                       params or []).fetchone()[0]
    con.execute("""DELETE FROM raw.submission_files f
                   WHERE NOT EXISTS (SELECT 1 FROM raw.submission_file_rows r WHERE r.file_id = f.file_id)""")
    return gone
