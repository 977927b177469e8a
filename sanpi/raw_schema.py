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

-- One row per project row of a city submission (all sheets), as read and typed.
CREATE TABLE IF NOT EXISTS raw.submission_rows (
    file_sha256   VARCHAR NOT NULL,
    file_path     VARCHAR NOT NULL,
    sheet         VARCHAR,               -- xlsx sheet name; NULL for CSV
    row_number    INTEGER NOT NULL,      -- 1-based row number in the sheet / CSV file
    round_no      INTEGER NOT NULL,
    city_code     VARCHAR NOT NULL,
    stage_code    VARCHAR NOT NULL,      -- signed | started | production
    project_code  VARCHAR,
    project_name  VARCHAR NOT NULL,
    county        VARCHAR,
    sector_label  VARCHAR,               -- as written by the city (mapped to a sector in dbt)
    investment_yi DECIMAL(18, 4) NOT NULL  -- total investment, 亿元
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
-- Enterprise (建设单位/项目单位) where the list gives one.
ALTER TABLE raw.submission_rows ADD COLUMN IF NOT EXISTS enterprise VARCHAR;
-- 合计, section and note rows of a file: not project rows, so outside rows_read.
ALTER TABLE raw.load_manifest ADD COLUMN IF NOT EXISTS rows_skipped INTEGER;
-- The file's size, times, inode and device when it was read (size:mtime_ns:ctime_ns:inode:device), NULL
-- when it had changed too recently to trust: a rerun does not read a file whose stat is still this.
ALTER TABLE raw.load_manifest ADD COLUMN IF NOT EXISTS file_stat VARCHAR;
"""


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(RAW_DDL)
