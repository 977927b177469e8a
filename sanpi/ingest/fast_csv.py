"""DuckDB-native loading of regular CSV submissions: the same rows, quarantine reasons and findings as
the Python reader (tables.py), at read_csv speed.

Regular means: UTF-8, the header on row 1 naming 总投资's unit, one record per line, no 合计/小计,
section or note rows, and text whose NFKC form DuckDB can compute (ASCII, CJK ideographs, common CJK
punctuation, full-width ASCII). Rows are read as text by read_csv and typed in SQL; the few rows that
are rejected (bad amount, no stage, ...) are passed to the Python reader's own row code so their
reasons are the same words. Whenever the file is not regular, or a row the SQL would reject is one
Python would accept, nothing is written and the caller reads the file with the Python reader.
"""
from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from decimal import Decimal

import duckdb

from sanpi.ingest.tables import (MAX_PLAUSIBLE_YI, MIN_PLAUSIBLE_YI, ReadResult, _Header, _header, _Table,
                                 duplicate_messages, raw_values_json)

# Characters whose NFKC form is themselves, alone and next to each other (no compatibility mapping,
# no combining): printable ASCII, CJK ideographs (U+3400-4DBF, U+4E00-9FFF) and the CJK punctuation
# submissions use. tests/test_ingest_fast_csv.py checks each against unicodedata.
STABLE_PUNCTUATION = "、。〈〉《》「」『』【】〔〕〖〗〘〙〚〛‘’“”—·"
# Full-width ASCII (U+FF01-FF5E) is what NFKC maps one to one onto ASCII; U+3000 onto a space.
FULL_WIDTH = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
HALF_WIDTH = "".join(chr(c) for c in range(0x21, 0x7F)) + " "
# What Python's re `\s` matches among ASCII (RE2's `\s` lacks \v and \x1c-\x1f).
ASCII_WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f "


def _re2_class(chars: str) -> str:
    return "".join(f"\\x{{{ord(c):x}}}" for c in chars)


_IDEOGRAPHS = r"\x{3400}-\x{4dbf}\x{4e00}-\x{9fff}"
# Rows made only of these need no normalisation at all (no whitespace, nothing NFKC changes).
_PLAIN = f"[^\\x{{21}}-\\x{{7e}}{_IDEOGRAPHS}{_re2_class(STABLE_PUNCTUATION)}]"
# Rows with a character outside these cannot be normalised in SQL: the file goes to the Python reader.
_SAFE = (f"[^\\x{{21}}-\\x{{7e}}{_IDEOGRAPHS}{_re2_class(STABLE_PUNCTUATION)}"
         f"{_re2_class(FULL_WIDTH)}{_re2_class(ASCII_WHITESPACE)}]")
_FACTORS = {Decimal(1): "1", Decimal("0.0001"): "0.0001", Decimal("0.00000001"): "0.00000001"}


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _norm_sql(column: str) -> str:
    """cells.norm() for a safe cell: full-width ASCII to ASCII, then no whitespace."""
    translated = f"translate({column}, {_sql_str(FULL_WIDTH)}, {_sql_str(HALF_WIDTH)})"
    return f"regexp_replace({translated}, '[{_re2_class(ASCII_WHITESPACE)}]+', '', 'g')"


@dataclass
class Prepared:
    """A CSV read and typed in temporary tables; what the insert needs."""
    result: ReadResult   # quarantined rows and findings; the typed rows wait in _fast_typed
    insert_sql: str


@dataclass
class FastRead:
    result: ReadResult   # rows empty: the typed rows are in raw.submission_rows already
    rows_loaded: int

    @property
    def rows_read(self) -> int:
        return self.rows_loaded + len(self.result.quarantined)


def _dialect_and_header(data: bytes):
    """The Python reader's dialect and first record, from the first 4096 characters; None when the
    file is not UTF-8 from the start or the dialect is one DuckDB's reader might split differently."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    try:
        head = codecs.getincrementaldecoder("utf-8-sig")().decode(data[:20000], final=len(data) <= 20000)
    except UnicodeDecodeError:
        return None
    from sanpi.ingest.submissions import _dialect

    dialect = _dialect(head[:4096])
    if (dialect.delimiter not in ",;\t|" or dialect.quotechar != '"' or dialect.escapechar
            or dialect.skipinitialspace):
        return None
    if not dialect.doublequote and b'""' in data:
        return None
    first = next(csv.reader(io.StringIO(head, newline=""), dialect), None)
    if not first:
        return None
    return dialect, first


# Bytes of a file that needs no normalisation at all: printable ASCII but the space, line ends, and
# UTF-8 characters U+4000-U+9FFF (lead bytes E4-E9: CJK ideographs, which NFKC leaves alone). Anything
# else left after deleting these means some row may need translate/whitespace removal (or Python).
_PLAIN_BYTES = bytes(range(0x21, 0x7F)) + bytes(range(0x80, 0xC0)) + bytes(range(0xE4, 0xEA)) + b"\r\n"


def _plain_file(data: bytes) -> bool:
    body = data[len(codecs.BOM_UTF8):] if data.startswith(codecs.BOM_UTF8) else data
    return not body.translate(None, _PLAIN_BYTES)


def prepare(con: duckdb.DuckDBPyConnection, path: str, data: bytes) -> Prepared | None:
    """Read and type a CSV into a temporary table, outside any transaction (a read_csv error would
    abort it). None when the file is not regular; then nothing is left behind."""
    found = _dialect_and_header(data)
    if found is None:
        return None
    dialect, first = found
    header = _header(first)
    if header is None or header.factor is None or header.factor not in _FACTORS:
        return None
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    carriage = data.count(b"\r")
    if carriage and carriage != data.count(b"\r\n"):
        return None  # a lone \r: Python's reader ends a record there, maybe not DuckDB's
    prepared = None
    try:
        plain = _plain_file(data)
        con.execute(_typed_sql(header, len(first), plain), [path, dialect.delimiter])
        prepared = _check(con, header, first, lines, plain)
    except duckdb.Error:
        prepared = None
    finally:
        if prepared is None:
            discard(con)
    return prepared


def insert(con: duckdb.DuckDBPyConnection, prepared: Prepared, sha256: str, file_path: str, round_no: int,
           city_code: str) -> FastRead:
    """The typed rows into raw.submission_rows (inside the caller's transaction)."""
    loaded = con.execute(prepared.insert_sql, [sha256, file_path, round_no, city_code]).fetchone()[0]
    return FastRead(prepared.result, loaded)


def discard(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DROP TABLE IF EXISTS _fast_typed")


def _normed(header: _Header, plain: bool):
    """SQL for a column's normalised text in the typed table ('' when the header has no such column)."""
    index = {col: i for i, col in header.columns.items()}

    def normed(col: str) -> str:
        if col not in index:
            return "''"
        return f"c{index[col]}" if plain else f"n{index[col]}"
    return normed


def _typed_sql(header: _Header, width: int, plain: bool) -> str:
    """read_csv (every cell text) to one row per record: the cells the header names (as read and, when
    the file needs it, normalised) and the verdicts. Row ids number the records in file order
    (insertion order is preserved)."""
    cells = [f"c{i}" for i in range(width)]
    columns = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in cells) + "}"
    mapped = [f"c{i}" for i in header.columns]
    if plain:  # nothing to normalise in the whole file
        every = cells
        normed_cte = "SELECT *, true AS safe FROM cells"
        kept = ", ".join(mapped)
    else:
        every = [f"n{c[1:]}" for c in cells]
        concat = " || ".join(cells)
        norm_cols = ", ".join(f"CASE WHEN plain THEN {c} ELSE {_norm_sql(c)} END AS n{c[1:]}" for c in cells)
        normed_cte = f"""SELECT *, plain OR NOT regexp_matches({concat}, '{_SAFE}') AS safe, {norm_cols}
                         FROM (SELECT *, NOT regexp_matches({concat}, '{_PLAIN}') AS plain FROM cells)"""
        kept = ", ".join(mapped + [f"n{c[1:]}" for c in mapped])
    normed = _normed(header, plain)
    name, inv, stage, code = normed("project_name"), normed("investment"), normed("stage"), normed("project_code")
    # Distinct non-empty texts of the row (list_distinct leaves NULLs out); most rows show two at once.
    distinct = f"len(list_distinct([{', '.join(f'nullif({c}, {chr(39) * 2})' for c in every)}]))"
    totals = " OR ".join(f"(contains({normed(c)}, '计') AND regexp_matches({normed(c)}, '合计|总计|共计|小计'))"
                         for c in ("seq", "project_code", "project_name") if c in header.columns.values()) or "false"
    amount_text = f"replace({inv}, ',', '')"
    factor = _FACTORS[header.factor]
    return f"""
        CREATE OR REPLACE TEMP TABLE _fast_typed AS
        WITH cells AS (
            SELECT {', '.join(f"coalesce({c}, '') AS {c}" for c in cells)}
            FROM read_csv(?, header = false, auto_detect = false, delim = ?, quote = '"', escape = '"',
                          columns = {columns}, strict_mode = true, null_padding = false)
        ), normed AS (
            {normed_cte}
        ), classified AS (
            SELECT {kept}, safe,
                   CASE WHEN {name} <> '' AND {inv} <> '' AND {name} <> {inv} THEN 2 ELSE {distinct} END AS texts,
                   {totals} AS total,
                   CASE WHEN (contains({stage}, '签约'))::INT + (contains({stage}, '开工'))::INT
                             + (contains({stage}, '投产') OR contains({stage}, '竣工'))::INT = 1
                        THEN CASE WHEN contains({stage}, '签约') THEN 'signed'
                                  WHEN contains({stage}, '开工') THEN 'started' ELSE 'production' END
                   END AS stage_code,
                   CASE WHEN regexp_full_match({amount_text}, '[0-9]{{1,18}}(\\.[0-9]{{1,12}})?')
                        THEN CAST({amount_text} AS DECIMAL(30, 12)) * CAST('{factor}' AS DECIMAL(9, 8))
                   END AS amount
            FROM normed
        ), judged AS (
            SELECT * EXCLUDE (safe, texts, total, amount),
                   NOT safe OR total OR texts = 1 AS irregular,
                   coalesce(safe AND texts >= 2 AND NOT total AND {name} <> '' AND stage_code IS NOT NULL
                            AND amount >= {MIN_PLAUSIBLE_YI} AND amount <= {MAX_PLAUSIBLE_YI}, false) AS clean,
                   texts >= 2 AS project_row,
                   CAST(round_even(amount, 4) AS DECIMAL(18, 4)) AS investment_yi
            FROM classified
        )
        SELECT *, CASE WHEN clean THEN hash(stage_code, CASE WHEN {code} <> '' THEN 'c' || {code} ELSE 'n' || {name} END)
                  END AS dup_hash,
               CAST(NULL AS BIGINT) AS duplicate_of
        FROM judged"""


def _check(con, header: _Header, first: list[str], lines: int, plain: bool) -> Prepared | None:
    """Verdicts over the typed rows: the file is regular, the rejected rows are rejected for the
    Python reader's reasons, duplicates found; then the insert is ready."""
    normed = _normed(header, plain)
    name, code = normed("project_name"), normed("project_code")
    raw_select = ", ".join(f"c{i}" for i in header.columns)
    # The first record is the header (row 1); the others are rows 2, 3, ... in file order.
    count, base, irregular, nonclean, clean, distinct_clean = con.execute("""
        SELECT count(*), any_value(b),
               count(*) FILTER (WHERE rowid > b AND irregular),
               count(*) FILTER (WHERE rowid > b AND project_row AND NOT clean),
               count(*) FILTER (WHERE rowid > b AND clean),
               count(DISTINCT dup_hash) FILTER (WHERE rowid > b AND clean)
        FROM _fast_typed, (SELECT min(rowid) AS b FROM _fast_typed)""").fetchone()
    # Every line one record (no quoted line breaks, no blank lines DuckDB would drop), the header
    # split as Python split it, no row that is not a project row (合计, sections, notes), nothing
    # SQL cannot normalise.
    if count != lines or irregular:
        return None
    header_row = con.execute(f"SELECT {raw_select} FROM _fast_typed WHERE rowid = ?", [base]).fetchone()
    if list(header_row) != [first[i] for i in header.columns]:
        return None
    row_number = f"(rowid - {base} + 1)"
    dup_key = f"CASE WHEN {code} <> '' THEN 'c' || {code} ELSE 'n' || {name} END"
    if distinct_clean < clean:  # (hash collisions only send more files down this exact path)
        # A project listed twice in one stage: the first listing loads, later ones are duplicates.
        con.execute(f"""UPDATE _fast_typed SET duplicate_of = d.first_row
                        FROM (SELECT rowid AS id, {row_number} AS number,
                                     min({row_number}) OVER (PARTITION BY stage_code, {dup_key}) AS first_row
                              FROM _fast_typed WHERE clean AND rowid > {base}) d
                        WHERE _fast_typed.rowid = d.id AND d.number > d.first_row""")
    out = ReadResult()
    if nonclean:
        # Rejected rows: the Python reader's own row code gives the reasons (and must reject them).
        table = _Table(None, None, out)
        table.header = header
        for number, *values in con.execute(f"""SELECT {row_number}, {raw_select} FROM _fast_typed
                                               WHERE rowid > {base} AND project_row AND NOT clean
                                               ORDER BY rowid""").fetchall():
            table.project_row(number, dict(zip(header.columns.values(), values)))
        if out.rows:
            return None
    duplicates = [] if distinct_clean == clean else con.execute(f"""
        SELECT {row_number}, duplicate_of, {code}, {name}, stage_code, {raw_select}
        FROM _fast_typed WHERE duplicate_of IS NOT NULL ORDER BY rowid""").fetchall()
    for number, first_row, project_code, project_name, stage_code, *values in duplicates:
        detail, column, reason = duplicate_messages(first_row, project_code or None, project_name, stage_code)
        out.findings.append({"sheet": None, "row_number": number, "finding": "duplicate_project",
                             "detail": detail, "expected": None, "actual": None})
        out.quarantined.append({"sheet": None, "row_number": number, "column_name": column,
                                "raw_values": raw_values_json(dict(zip(header.columns.values(), values))),
                                "reason": reason})
    out.quarantined.sort(key=lambda q: q["row_number"])

    def optional(col: str) -> str:
        return f"nullif({normed(col)}, '')" if col in header.columns.values() else "NULL"

    insert_sql = f"""
        INSERT INTO raw.submission_rows (file_sha256, file_path, sheet, row_number, round_no, city_code,
            stage_code, project_code, project_name, county, sector_label, investment_yi, enterprise)
        SELECT ?, ?, NULL, {row_number}, ?, ?, stage_code, {optional('project_code')}, {name},
               {optional('county')}, {optional('sector_label')}, investment_yi, {optional('enterprise')}
        FROM _fast_typed WHERE rowid > {base} AND clean AND duplicate_of IS NULL"""
    return Prepared(out, insert_sql)
