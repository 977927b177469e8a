"""DuckDB-native loading of regular CSV submissions: the same rows, quarantine reasons and findings as
the Python reader (tables.py), at read_csv speed.

Regular means: UTF-8, the header on row 1 naming 总投资's unit, one record per line, no 合计/小计,
section or note rows, and text whose NFKC form DuckDB can compute (ASCII, CJK ideographs, common CJK
punctuation, full-width ASCII). Rows are read as text by read_csv and typed in SQL; the few rows that
are rejected (bad amount, no stage, ...) are passed to the Python reader's own row code so their
reasons are the same words. Whenever the file is not regular, or a row the SQL would reject is one
Python would accept, nothing is written and the caller reads the file with the Python reader.

Files of one shape (delimiter, header record, anything to normalise) are read by one read_csv into
one table, before the loader's transaction, and their rows inserted by one statement when the loader
writes the first of them; each file keeps its own row numbers, checks, quarantine, findings and
manifest counts. A file read_csv refuses is retried alone (so only it goes to Python). The tables live
in an in-memory database every connection of the DuckDB instance sees (SCRATCH), not in one
connection's temporary schema: the loader types the next batch on a second connection while the first
inserts this one (each statement keeps ~1.4 of 2 cores busy; the two together ~2). Nothing inside the
loader's transaction writes to them (a transaction writes to one database only).
"""
from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Sequence

import duckdb
import numpy as np

from sanpi.ingest.tables import (MAX_PLAUSIBLE_YI, MIN_PLAUSIBLE_YI, ReadResult, _Header, _header, _Table,
                                 duplicate_messages, raw_values_json)
from sanpi.raw_schema import next_file_id

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


# Columns raw.submission_rows takes from a CSV's cells (normalised).
_INSERTED = ("project_code", "project_name", "county", "sector_label", "enterprise")


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _norm_sql(column: str) -> str:
    """cells.norm() for a safe cell: full-width ASCII to ASCII, then no whitespace."""
    translated = f"translate({column}, {_sql_str(FULL_WIDTH)}, {_sql_str(HALF_WIDTH)})"
    return f"regexp_replace({translated}, '[{_re2_class(ASCII_WHITESPACE)}]+', '', 'g')"


@dataclass(frozen=True)
class Source:
    """A CSV to load and where its rows go."""
    path: str        # the stored copy read_csv reads: the very bytes hashed
    data: bytes
    sha256: str
    file_path: str   # the inbox path recorded with its rows
    round_no: int
    city_code: str


@dataclass
class _Shape:
    """What Python learns of a CSV before DuckDB reads it; files of one shape share one read_csv."""
    delimiter: str
    dialect: object   # the Python reader's csv dialect
    first: list[str]
    header: _Header
    plain: bool
    totals_possible: bool   # 计 somewhere in the file
    lines: int

    @property
    def key(self) -> tuple:
        return self.delimiter, tuple(self.first), self.plain, self.totals_possible


@dataclass
class _Group:
    """Files of one shape, read by one read_csv into one table and inserted by one statement
    (at the first of them the loader writes; the others' rows are in raw.submission_rows by then).
    Every clean row is inserted; a file that lists a project twice then has its later listings taken
    out again (drop_duplicates): which files may is worked out meanwhile (`duplicates`)."""
    table: str
    insert_sql: str = ""   # parameter: the first file's raw.submission_files.file_id
    files_sql: str = ""    # the group's files into raw.submission_files (same parameter)
    rows: int = 0
    inserted: bool = False
    first_file_id: int = 0  # file f of the group is raw.submission_files.file_id first_file_id + f
    duplicates: Future | None = None   # -> the indexes of the files that may list a project twice
    drop_duplicates: Callable[[duckdb.DuckDBPyConnection, "Prepared"], int] | None = None


@dataclass
class Prepared:
    """One file of a group, read, typed and checked: what its load writes besides its rows."""
    result: ReadResult   # quarantined rows and findings; the typed rows wait in the group's table
    rows: int            # clean rows it inserts (duplicates among them are taken out after the insert)
    codes: np.ndarray    # hash(project_code) of those rows that have a code (for code_index)
    group: _Group
    index: int = 0       # the file's index in its group


@dataclass
class FastRead:
    result: ReadResult   # rows empty: the typed rows are in raw.submission_rows
    rows_loaded: int
    codes: np.ndarray
    inserted: int        # rows this call added: the group's at its first file (else 0), less duplicates

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
    # (A one-byte search is a memchr: most files have no quote at all, and the two-byte one is 10x slower.)
    if not dialect.doublequote and b'"' in data and b'""' in data:
        return None
    first = next(csv.reader(io.StringIO(head, newline=""), dialect), None)
    if not first:
        return None
    return dialect, first


# Bytes of a file that needs no normalisation at all: printable ASCII but the space, line ends, and
# UTF-8 characters U+4000-U+9FFF (lead bytes E4-E9: CJK ideographs, which NFKC leaves alone). Anything
# else left after deleting these means some row may need translate/whitespace removal (or Python).
_PLAIN_BYTES = bytes(range(0x21, 0x7F)) + bytes(range(0x80, 0xC0)) + bytes(range(0xE4, 0xEA)) + b"\r\n"


# One pass for both: plain bytes but the line end are deleted, any other byte becomes NUL, so what is
# left is the file's line ends and a NUL for each byte that is not plain (two passes cost twice this).
_LINE_ENDS_AND_MARKS = bytes(b if b == 0x0A or b in _PLAIN_BYTES else 0 for b in range(256))
_PLAIN_BUT_LINE_ENDS = _PLAIN_BYTES.replace(b"\n", b"")


def _plain_and_line_ends(data: bytes) -> tuple[bool, int]:
    """Whether the file (after a BOM) needs no normalisation at all, and how many line ends it has."""
    left = data.translate(_LINE_ENDS_AND_MARKS, _PLAIN_BUT_LINE_ENDS)
    # A BOM's first byte is not plain (its others are): the mark at 0 is the BOM's.
    plain = left.find(b"\0", 1 if data.startswith(codecs.BOM_UTF8) else 0) == -1
    return plain, left.count(b"\n")


# 计 anywhere (合计/小计 rows possible). (re's search for its three bytes takes half the time of `in`
# over CJK text.)
_TOTALS_POSSIBLE = re.compile(re.escape("计".encode()))


# A file's shape not looked at yet (None: looked at, not regular).
NOT_LOOKED = object()


def shape(data: bytes) -> _Shape | None:
    """What the fast path needs to know of a CSV before DuckDB reads it; None when it is not regular."""
    found = _dialect_and_header(data)
    if found is None:
        return None
    dialect, first = found
    header = _header(first)
    if header is None or header.factor is None or header.factor not in _FACTORS:
        return None
    carriage = data.count(b"\r") if b"\r" in data else 0
    if carriage and carriage != data.count(b"\r\n"):
        return None  # a lone \r: Python's reader ends a record there, maybe not DuckDB's
    plain, line_ends = _plain_and_line_ends(data)
    lines = line_ends + (0 if data.endswith(b"\n") else 1)
    totals_possible = _TOTALS_POSSIBLE.search(data) is not None
    return _Shape(dialect.delimiter, dialect, first, header, plain, totals_possible, lines)


# The in-memory database of the typed tables (attached to the instance once, shared by its connections).
SCRATCH = "sanpi_scratch"
_names = itertools.count(1)   # (next() is atomic: prepare runs in two threads at once)


def prepare(con: duckdb.DuckDBPyConnection, sources: Sequence[Source],
            shapes: Sequence[object] | None = None, pool: Executor | None = None) -> list[Prepared | None]:
    """Read, type and check CSVs in tables of SCRATCH, outside any transaction (a read_csv error would
    abort it). Files of one shape (delimiter, header record, anything to normalise or not) go through
    one read_csv: a statement per file cost ~300 statements per campaign, and one statement over many
    files keeps both cores busy. None for a file that is not regular: the caller reads it with the
    Python reader. discard(con, <the list returned>) drops the tables. shapes: shape() of each source,
    or NOT_LOOKED, when the caller looked already (the loader does while it reads ahead). pool: a thread
    for the check for duplicates while DuckDB inserts (None: checked here)."""
    con.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {SCRATCH}")
    out: list[Prepared | None] = [None] * len(sources)
    shapes = [shape(s.data) if shapes is None or shapes[i] is NOT_LOOKED else shapes[i]
              for i, s in enumerate(sources)]
    groups: dict[tuple, list[int]] = {}
    for i, looked in enumerate(shapes):
        if looked is not None:
            groups.setdefault(looked.key, []).append(i)
    try:
        for members in groups.values():
            got = _try_group(con, [sources[i] for i in members], [shapes[i] for i in members], pool)
            if got is None and len(members) > 1:
                # read_csv refused one of them (strict mode): each on its own, so that only it goes to Python.
                got = [(_try_group(con, [sources[i]], [shapes[i]], pool) or [None])[0] for i in members]
            for i, prepared in zip(members, got or [None]):
                out[i] = prepared
    except BaseException:
        discard(con, out)
        raise
    return out


def _try_group(con, sources: list[Source], shapes: list[_Shape],
               pool: Executor | None) -> list[Prepared | None] | None:
    table = f"{SCRATCH}._fast_typed_{next(_names)}"
    try:
        return _prepare_group(con, table, sources, shapes, pool)
    except duckdb.Error:
        _drop(con, table)
        return None
    except BaseException:
        _drop(con, table)
        raise


def _drop(con, table: str) -> None:
    for t in (table, f"{table}_files"):
        con.execute(f"DROP TABLE IF EXISTS {t}")


def insert(con: duckdb.DuckDBPyConnection, prepared: Prepared) -> FastRead:
    """The file's typed rows into raw.submission_rows (inside the caller's transaction): at the
    group's first file, the rows of every file of the group."""
    group, inserted = prepared.group, 0
    if not group.inserted:
        group.first_file_id = next_file_id(con)
        con.execute(group.files_sql, [group.first_file_id])
        inserted = con.execute(group.insert_sql, [group.first_file_id]).fetchone()[0]
        group.inserted = True
        if inserted != group.rows:
            raise RuntimeError(f"fast CSV path inserted {inserted} rows, expected {group.rows}")
    dropped = 0
    if prepared.index in group.duplicates.result():
        dropped = group.drop_duplicates(con, prepared)
    return FastRead(prepared.result, prepared.rows - dropped, prepared.codes, inserted - dropped)


def discard(con: duckdb.DuckDBPyConnection, prepared: Sequence[Prepared | None]) -> None:
    """Drop the tables of what prepare() returned (outside any transaction that wrote elsewhere)."""
    for table in dict.fromkeys(p.group.table for p in prepared if p is not None):
        _drop(con, table)


def _normed(header: _Header, plain: bool):
    """SQL for a column's normalised text in the typed table ('' when the header has no such column)."""
    index = {col: i for i, col in header.columns.items()}

    def normed(col: str) -> str:
        if col not in index:
            return "''"
        return f"c{index[col]}" if plain else f"n{index[col]}"
    return normed


# Stage codes as the typed table keeps them (1, 2, 3: one byte a row, not a string).
STAGES = ("signed", "started", "production")
_STAGE_TEXT = "CASE stage " + " ".join(f"WHEN {i} THEN '{s}'" for i, s in enumerate(STAGES, 1)) + " END"
# Bits of `flags`, kept for the rows that are not clean only (a clean row is a regular project row).
IRREGULAR, PROJECT_ROW, HEADER_LIKE = 1, 2, 4


def _typed_sql(table: str, header: _Header, first: list[str], plain: bool, totals_possible: bool) -> str:
    """read_csv of a list of files (every cell text) to one row per record: the file's index in the
    list, the normalised cells the insert reads, the stage, amount and verdicts (flags: IRREGULAR,
    PROJECT_ROW, HEADER_LIKE: its cells are the header record `first`). Row ids number the records in
    the files' order (insertion order is preserved). Only what the insert and the per-file checks read
    is kept: the cells of rejected rows are read again, by the Python reader (~20% of the statement)."""
    width = len(first)
    cells = [f"c{i}" for i in range(width)]
    columns = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in cells) + "}"
    mapped = [f"c{i}" for i in header.columns]
    if plain:  # nothing to normalise in the whole file
        every = cells
        normed_cte = "SELECT *, true AS safe FROM cells"
        kept = ", ".join(["f"] + mapped)
    else:
        every = [f"n{c[1:]}" for c in cells]
        concat = " || ".join(cells)
        norm_cols = ", ".join(f"CASE WHEN plain THEN {c} ELSE {_norm_sql(c)} END AS n{c[1:]}" for c in cells)
        normed_cte = f"""SELECT *, plain OR NOT regexp_matches({concat}, '{_SAFE}') AS safe, {norm_cols}
                         FROM (SELECT *, NOT regexp_matches({concat}, '{_PLAIN}') AS plain FROM cells)"""
        kept = ", ".join(["f"] + mapped + [f"n{c[1:]}" for c in mapped])
    normed = _normed(header, plain)
    name, inv, stage, code = normed("project_name"), normed("investment"), normed("stage"), normed("project_code")
    # Distinct non-empty texts of the row (list_distinct leaves NULLs out); most rows show two at once.
    distinct = f"len(list_distinct([{', '.join(f'nullif({c}, {chr(39) * 2})' for c in every)}]))"
    # (No 计 anywhere in the files: no 合计/小计 label, and 3 contains() per row saved.)
    totals = " OR ".join(f"(contains({normed(c)}, '计') AND regexp_matches({normed(c)}, '合计|总计|共计|小计'))"
                         for c in ("seq", "project_code", "project_name")
                         if totals_possible and c in header.columns.values()) or "false"
    amount_text = f"replace({inv}, ',', '')"
    factor = _FACTORS[header.factor]
    # Only the cells the insert reads are kept (materialising every row's cells was a third of the
    # statement's cost).
    inserted = list(dict.fromkeys(normed(c) for c in _INSERTED if c in header.columns.values()))
    header_like = " AND ".join(f"c{i} = {_sql_str(first[i])}" for i in header.columns)
    # Amounts in 亿元 with at most 4 decimals are exact as DECIMAL(18, 4): no 38-digit arithmetic or
    # rounding for them (the general expression below, 128-bit, costs several times more).
    amount4 = (f"CASE WHEN regexp_full_match({amount_text}, '[0-9]{{1,14}}(\\.[0-9]{{1,4}})?') "
               f"THEN CAST({amount_text} AS DECIMAL(18, 4)) END" if header.factor == 1
               else "CAST(NULL AS DECIMAL(18, 4))")
    return f"""
        CREATE TABLE {table} AS
        WITH cells AS (
            SELECT CAST(file_index AS INTEGER) AS f, {', '.join(f"coalesce({c}, '') AS {c}" for c in cells)}
            FROM read_csv(?, header = false, auto_detect = false, delim = ?, quote = '"', escape = '"',
                          columns = {columns}, strict_mode = true, null_padding = false)
        ), normed AS (
            {normed_cte}
        ), classified AS (
            SELECT {kept}, safe,
                   CASE WHEN {name} <> '' AND {inv} <> '' AND {name} <> {inv} THEN 2 ELSE {distinct} END AS texts,
                   {totals} AS total,
                   -- the stage labels as written most of the time first: one comparison each
                   CASE {stage} WHEN '签约一批' THEN 'signed' WHEN '开工一批' THEN 'started'
                                WHEN '投产一批' THEN 'production' WHEN '' THEN NULL
                        ELSE CASE WHEN (contains({stage}, '签约'))::INT + (contains({stage}, '开工'))::INT
                                       + (contains({stage}, '投产') OR contains({stage}, '竣工'))::INT = 1
                                  THEN CASE WHEN contains({stage}, '签约') THEN 'signed'
                                            WHEN contains({stage}, '开工') THEN 'started' ELSE 'production' END
                             END
                   END AS stage_code,
                   {amount4} AS amount4
            FROM normed
        ), amounts AS (
            SELECT *,
                   CASE WHEN amount4 IS NOT NULL THEN NULL
                        WHEN regexp_full_match({amount_text}, '[0-9]{{1,18}}(\\.[0-9]{{1,12}})?')
                        THEN CAST({amount_text} AS DECIMAL(30, 12)) * CAST('{factor}' AS DECIMAL(9, 8))
                   END AS amount
            FROM classified
        ), judged AS (
            SELECT * EXCLUDE (safe, texts, total, amount4, amount),
                   NOT safe OR total OR texts = 1 AS irregular,
                   coalesce(safe AND texts >= 2 AND NOT total AND {name} <> '' AND stage_code IS NOT NULL
                            AND ((amount4 >= {MIN_PLAUSIBLE_YI} AND amount4 <= {MAX_PLAUSIBLE_YI})
                                 OR (amount >= {MIN_PLAUSIBLE_YI} AND amount <= {MAX_PLAUSIBLE_YI})), false) AS clean,
                   texts >= 2 AS project_row,
                   coalesce(amount4, CAST(round_even(amount, 4) AS DECIMAL(18, 4))) AS investment_yi
            FROM amounts
        )
        SELECT f, {''.join(c + ', ' for c in inserted)}clean, investment_yi,
               CAST(CASE stage_code {' '.join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(STAGES, 1))} END AS UTINYINT) AS stage,
               CASE WHEN clean THEN hash(stage_code, {code} <> '', CASE WHEN {code} <> '' THEN {code} ELSE {name} END)
                  END AS dup_hash,
               CASE WHEN NOT clean THEN CAST(irregular AS UTINYINT) * {IRREGULAR} + CAST(project_row AS UTINYINT) * {PROJECT_ROW}
                                        + CAST({header_like} AS UTINYINT) * {HEADER_LIKE} END AS flags
        FROM judged"""


@dataclass
class _CleanRows:
    """The clean rows of some files of a typed table, in file order: file index, hash of the duplicate
    key (stage, code or name) and, where the row has a project code, hash(project_code)."""
    f: np.ndarray
    dup_hash: np.ndarray
    has_code: np.ndarray
    code: np.ndarray

    def files_with_duplicates(self) -> set[int]:
        """Files where two clean rows may share a duplicate key: they share 48 bits of its hash (a false
        match only sends the file down the exact path)."""
        if len(self.f) < 2:
            return set()
        # (The file index in the top 16 bits: a group is one batch's files, at most loader.BATCH_FILES.)
        keys = (self.f.astype(np.uint64) << np.uint64(48)) | (self.dup_hash >> np.uint64(16))
        keys.sort()
        same = np.flatnonzero(keys[1:] == keys[:-1])
        return set((keys[same] >> np.uint64(48)).astype(np.int64).tolist())

    def codes(self, files: list[int]) -> dict[int, np.ndarray]:
        """Each file's codes (hash(project_code) of its clean rows with a code), in file order."""
        f, code = self.f[self.has_code], self.code[self.has_code]
        # (Every file's bounds in one call: a Python int searched for in the int32 array converted
        # the whole array each time.)
        wanted = np.asarray(files, dtype=f.dtype)
        los, his = np.searchsorted(f, wanted, "left"), np.searchsorted(f, wanted, "right")
        return {i: code[lo:hi] for i, lo, hi in zip(files, los.tolist(), his.tolist())}


def _clean_rows(con, table: str, files: list[int], code: str | None) -> _CleanRows:
    """_CleanRows of these files of a typed table (code: its project code column; None: it has none)."""
    has_code = f"{code} <> ''" if code else "false"
    hashed = f"hash({code})" if code else "CAST(0 AS UBIGINT)"
    listed = ", ".join(map(str, sorted(files))) or "NULL"
    # (No join: a plain scan returns the rows in file order, so no sort by file either.)
    got = con.execute(f"""SELECT f, dup_hash, {has_code} AS has_code, {hashed} AS code FROM {table}
                          WHERE f IN ({listed}) AND clean""").fetchnumpy()
    f = np.asarray(got["f"], dtype=np.int32)
    rows = _CleanRows(f, np.asarray(got["dup_hash"], dtype=np.uint64), np.asarray(got["has_code"], dtype=bool),
                      np.asarray(got["code"], dtype=np.uint64))
    if len(f) and not bool(np.all(f[1:] >= f[:-1])):
        order = np.argsort(f, kind="stable")
        rows = _CleanRows(f[order], rows.dup_hash[order], rows.has_code[order], rows.code[order])
    return rows


class _Records:
    """Cells of a file's records as the Python reader splits them, for the few rows that are not loaded
    as they are (rejected, duplicates): the typed table keeps only what the insert reads. Each file is
    split once, up to the last row asked for (rows are asked for in order)."""

    def __init__(self, sources: list[Source], shapes: list[_Shape], header: _Header):
        self._sources, self._shapes, self._header = sources, shapes, header
        self._read: dict[int, tuple[object, list[list[str]]]] = {}

    def cells(self, f: int, number: int) -> dict[str, str | None]:
        """Row `number` (1-based) of file f, by the header's column names."""
        if f not in self._read:
            text = codecs.decode(self._sources[f].data, "utf-8-sig")
            self._read[f] = (csv.reader(io.StringIO(text, newline=""), self._shapes[f].dialect), [])
        reader, rows = self._read[f]
        while len(rows) < number:
            rows.append(next(reader))
        cells = rows[number - 1]
        return {col: cells[i] if i < len(cells) else None for i, col in self._header.columns.items()}


def _prepare_group(con, table: str, sources: list[Source], shapes: list[_Shape],
                   pool: Executor | None = None) -> list[Prepared | None]:
    """One read_csv for the group, then verdicts per file: it is regular, its rejected rows are
    rejected for the Python reader's reasons; the insert is ready, and the check for duplicates under
    way (in `pool` when given)."""
    header, first, plain = shapes[0].header, shapes[0].first, shapes[0].plain
    con.execute(_typed_sql(table, header, first, plain, shapes[0].totals_possible),
                [[s.path for s in sources], shapes[0].delimiter])
    normed = _normed(header, plain)
    name, code = normed("project_name"), normed("project_code")
    # Per file: its first record is the header (row 1), the others rows 2, 3, ... in file order
    # (rowid follows the files' and their records' order: insertion order is preserved). The header
    # row's own verdicts are taken out of the counts.
    stats = {f: rest for f, *rest in con.execute(f"""
        SELECT f, count(*), min(rowid),
               count(*) FILTER (WHERE flags & {IRREGULAR} <> 0), count(*) FILTER (WHERE flags & {PROJECT_ROW} <> 0),
               count(*) FILTER (WHERE clean)
        FROM {table} GROUP BY f""").fetchall()}
    # The header rows by row id (arg_min in the query above cost 10x this). A header is never clean.
    headers = dict(con.execute(f"""
        SELECT f, coalesce(flags, 0) FROM {table}
        WHERE rowid IN (SELECT unnest(CAST(? AS BIGINT[])))""", [[v[1] for v in stats.values()]]).fetchall())
    ok: dict[int, list] = {}
    for f, looked in enumerate(shapes):
        if f not in stats:
            continue
        count, base, irregular, nonclean, clean = stats[f]
        header_flags = headers[f]
        # Every line one record (no quoted line breaks, no blank lines DuckDB would drop), the header
        # split as Python split it, no row that is not a project row (合计, sections, notes), nothing
        # SQL cannot normalise.
        if (count == looked.lines and header_flags & HEADER_LIKE
                and irregular == bool(header_flags & IRREGULAR)):
            ok[f] = [base, nonclean - bool(header_flags & PROJECT_ROW), clean]
    files = f"{table}_files"
    con.execute(f"CREATE TABLE {files} (f INTEGER, base BIGINT, sha256 VARCHAR, file_path VARCHAR, "
                f"round_no INTEGER, city_code VARCHAR)")
    # (One statement: executemany costs a statement per row.)
    if ok:
        con.execute(f"INSERT INTO {files} SELECT unnest(?), unnest(?), unnest(?), unnest(?), unnest(?), unnest(?)",
                    [list(ok), [ok[f][0] for f in ok], [sources[f].sha256 for f in ok],
                     [sources[f].file_path for f in ok], [sources[f].round_no for f in ok],
                     [sources[f].city_code for f in ok]])
    row_number = "(x.rowid - files.base + 1)"

    def listed(fs) -> str:
        return ", ".join(str(f) for f in sorted(fs))

    results = {f: ReadResult() for f in ok}
    records = _Records(sources, shapes, header)
    with_rejects = [f for f, (_, nonclean, _) in ok.items() if nonclean]
    if with_rejects:
        # Rejected rows: the Python reader's own row code gives the reasons (and must reject them).
        tables = {}
        for f, number in con.execute(f"""
                SELECT f, {row_number} FROM {table} x JOIN {files} files USING (f)
                WHERE f IN ({listed(with_rejects)}) AND x.rowid > files.base AND flags & {PROJECT_ROW} <> 0
                ORDER BY x.rowid""").fetchall():
            if f not in tables:
                tables[f] = _Table(None, None, results[f])
                tables[f].header = header
            tables[f].project_row(number, records.cells(f, number))
        for f in with_rejects:
            if results[f].rows:  # Python would load a row SQL rejects: Python reads the file
                del ok[f]
    dropped = set(range(len(sources))) - set(ok)
    if dropped:
        con.execute(f"DELETE FROM {files} WHERE f IN ({listed(dropped)})")
    has_code = "project_code" in header.columns.values()
    clean = _clean_rows(con, table, list(ok), code if has_code else None)
    # (A sort of ~10^6 hashes: in another thread while DuckDB inserts, where DuckDB's count(DISTINCT)
    # kept both cores ~0.7 s at 10^7 rows before the insert could start.)
    if pool is None:
        duplicates: Future = Future()
        duplicates.set_result(clean.files_with_duplicates())
    else:
        duplicates = pool.submit(clean.files_with_duplicates)
    codes = clean.codes(list(ok)) if has_code else {}

    def optional(col: str) -> str:
        return f"nullif({normed(col)}, '')" if col in header.columns.values() else "NULL"

    def drop_duplicates(con, prepared: Prepared) -> int:
        """A project listed twice in one stage: the first listing loads, later ones are quarantined as
        duplicates and taken out of raw.submission_rows again (inside the caller's transaction, which
        reads the typed table and writes nothing to it)."""
        f = prepared.index
        dup_key = f"CASE WHEN {code} <> '' THEN 'c' || {code} ELSE 'n' || {name} END"
        later = con.execute(f"""
            SELECT number, first_row, project_code, project_name, stage_code FROM (
                SELECT x.rowid AS id, {row_number} AS number,
                       min({row_number}) OVER (PARTITION BY stage, {dup_key}) AS first_row,
                       {code} AS project_code, {name} AS project_name, {_STAGE_TEXT} AS stage_code
                FROM {table} x JOIN {files} files USING (f) WHERE clean AND f = {f})
            WHERE number > first_row ORDER BY id""").fetchall()
        out = prepared.result
        for number, first_row, project_code, project_name, stage_code in later:
            detail, column, reason = duplicate_messages(first_row, project_code or None, project_name, stage_code)
            out.findings.append({"sheet": None, "row_number": number, "finding": "duplicate_project",
                                 "detail": detail, "expected": None, "actual": None})
            out.quarantined.append({"sheet": None, "row_number": number, "column_name": column,
                                    "raw_values": raw_values_json(records.cells(f, number)), "reason": reason})
        out.quarantined.sort(key=lambda q: q["row_number"])
        if not later:
            return 0
        numbers = [number for number, *_ in later]
        con.execute("""DELETE FROM raw.submission_file_rows
                       WHERE file_id = ? AND sheet IS NULL AND row_number IN (SELECT unnest(CAST(? AS INTEGER[])))""",
                    [prepared.group.first_file_id + f, numbers])
        if has_code:
            got = con.execute(f"""SELECT hash({code}) AS code FROM {table} x JOIN {files} files USING (f)
                                  WHERE f = {f} AND clean AND {code} <> ''
                                    AND {row_number} NOT IN (SELECT unnest(CAST(? AS BIGINT[])))
                                  ORDER BY x.rowid""", [numbers]).fetchnumpy()
            prepared.codes = np.asarray(got["code"], dtype=np.uint64)
        return len(later)

    group = _Group(table, rows=sum(ok[f][2] for f in ok), duplicates=duplicates, drop_duplicates=drop_duplicates)
    group.files_sql = f"""
        INSERT INTO raw.submission_files (file_id, file_sha256, file_path, round_no, city_code)
        SELECT $1 + f, sha256, file_path, round_no, city_code FROM {files} ORDER BY f"""
    group.insert_sql = f"""
        INSERT INTO raw.submission_file_rows (file_id, sheet, row_number, stage_code, project_code, project_name,
            county, sector_label, investment_yi, enterprise)
        SELECT $1 + f, NULL, {row_number}, {_STAGE_TEXT},
               {optional('project_code')}, {name}, {optional('county')}, {optional('sector_label')},
               investment_yi, {optional('enterprise')}
        FROM {table} x JOIN {files} files USING (f)
        WHERE x.rowid > files.base AND clean"""
    empty = np.zeros(0, dtype=np.uint64)
    prepared: list[Prepared | None] = [None] * len(sources)
    for f in ok:
        results[f].quarantined.sort(key=lambda q: q["row_number"])
        prepared[f] = Prepared(results[f], ok[f][2], codes.get(f, empty), group, f)
    return prepared
