"""Load inbox files into the `raw` schema, every row accounted for: a crash leaves no file half loaded.

rows_read = rows_loaded + rows_quarantined for every file, recorded in raw.load_manifest.
Bytes already loaded are skipped (reruns change nothing); a new version of the same round's
bulletin or the same (round, unit) submission supersedes the previous one.

load_files commits consecutive files in batches (one transaction per batch, ~128 MB of input): below
a row group (122,880 rows) per transaction DuckDB sends every row through its write-ahead log and
writes it again at the checkpoint, and every COMMIT syncs the file. When anything raises inside a
batch, the batch is rolled back and loaded as load_file does, one transaction per file, so errors
behave as they always did. Each file keeps its own load time (loaded_at), taken when its load starts,
not the transaction's now().
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import re
import threading
import unicodedata
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import duckdb

from sanpi.ingest import allocator, code_index, direct_write, fast_csv
from sanpi.ingest.inbox import InboxFile, settled_stat
from sanpi.ingest.submissions import ReadResult, SubmissionFormatError, read_submission
from sanpi.raw_schema import next_file_id

if TYPE_CHECKING:
    import pandas as pd


# Findings recorded for the record, not for anyone's attention.
INFORMATIONAL_FINDINGS = {"total_checked", "note_row"}


@dataclass(frozen=True)
class LoadOutcome:
    file_path: str
    kind: str
    status: str            # loaded | revised | unchanged | rejected
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    message: str = ""
    findings: int = 0


_last_stamp: datetime | None = None
_stamp_lock = threading.Lock()


def _stamp() -> datetime:
    """This file's load time: strictly after the previous file's, so versions keep their order even in
    one batch (dbt orders them by loaded_at). Stored as now() was: converted to the connection's
    TimeZone (see _TS)."""
    global _last_stamp
    with _stamp_lock:   # (the next batch's files begin in another thread)
        stamp = datetime.now(timezone.utc)
        if _last_stamp is not None and stamp <= _last_stamp:
            stamp = _last_stamp + timedelta(microseconds=1)
        _last_stamp = stamp
    return stamp


# A TIMESTAMPTZ parameter cast to the TIMESTAMP columns, as now() (a TIMESTAMPTZ) was.
_TS = "CAST(CAST(? AS TIMESTAMPTZ) AS TIMESTAMP)"


def store_raw_bytes(data: bytes, sha256: str, suffix: str, store: Path) -> Path:
    """Keep the raw bytes, content-addressed, so any load can be replayed."""
    target = store / sha256[:2] / f"{sha256}{suffix.lower()}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        # (A name of its own: two threads may store the same bytes at once.)
        tmp = target.with_name(f"{target.name}.{threading.get_ident()}.part")
        direct_write.write_bytes(tmp, data)   # (past the page cache: the copy is rarely read)
        os.replace(tmp, target)   # (same folder: a rename, where shutil.move stats the target first)
    return target


def _previous(history: Sequence[str], sha256: str) -> str | None:
    """None when these bytes were never loaded from this path; 'same' when they are what this path
    last held (even if another file's newer version superseded them since); 'reverted' when the
    path changed and has now changed back. A load is identified by path and bytes: identical bytes
    sent as another unit's file are that unit's load. history: the path's loads, latest first."""
    if sha256 not in history:
        return None
    return "same" if history[0] == sha256 else "reverted"


@dataclass(frozen=True)
class _Loads:
    """A path's earlier loads: their hashes, latest first, and the file's stat at the latest (settled_stat)."""
    hashes: tuple[str, ...] = ()
    stat: str | None = None


_NEVER_LOADED = _Loads()


def _previous_loads(con, files: Sequence[InboxFile]) -> dict[str, _Loads]:
    """Each path's earlier loads, for many files at once (their paths are distinct, so no file of them
    changes what another one finds)."""
    return {path: _Loads(tuple(hashes), stat) for path, hashes, stat in con.execute(
        """SELECT file_path, list(sha256 ORDER BY loaded_at DESC), arg_max(file_stat, loaded_at)
           FROM raw.load_manifest WHERE file_path IN (SELECT unnest(CAST(? AS VARCHAR[]))) GROUP BY file_path""",
        [[f.rel_path for f in files]]).fetchall()}


_MANIFEST_COLUMNS = ("file_path, sha256, kind, round_no, city_code, rows_read, rows_loaded, rows_quarantined, "
                     "rows_skipped, loaded_at, source_root, stored_path, file_stat")


@dataclass
class _Batch:
    """What a batch's transaction knows without asking again: the manifest's current versions (keys
    as _supersede matches them; a superset, so only a key missing here skips the query), and whether
    the code index was checked against the table in this transaction. Its manifest rows wait in
    `records` until something reads the manifest or the batch commits (flush): a statement per file
    cost ~0.35 s at 300 files."""
    current: set
    index_checked: bool = False
    records: list = field(default_factory=list)
    restats: list = field(default_factory=list)   # (stat, path, sha256) of unchanged files read again
    precheck: "_Precheck | None" = None

    def flush(self, con) -> None:
        if self.records:
            self._insert_records(con)
        if self.restats:
            _restat(con, self.restats)
            self.restats.clear()

    def _insert_records(self, con) -> None:
        columns = list(zip(*self.records))
        con.execute(f"""INSERT INTO raw.load_manifest ({_MANIFEST_COLUMNS})
                        SELECT unnest(?), unnest(?), unnest(?), unnest(?), unnest(?), unnest(?), unnest(?),
                               unnest(?), unnest(?), CAST(CAST(unnest(?) AS TIMESTAMPTZ) AS TIMESTAMP),
                               unnest(?), unnest(?), CAST(unnest(?) AS VARCHAR)""", [list(c) for c in columns])
        self.records.clear()

    @classmethod
    def of(cls, con) -> "_Batch":
        current = set()
        for kind, path, round_no, city in con.execute("""SELECT kind, file_path, round_no, city_code
                                                         FROM raw.load_manifest WHERE superseded_at IS NULL""").fetchall():
            current.update({(kind, "path", path), (kind, "unit", round_no, city)})
        return cls(current)


@dataclass
class _Precheck:
    """code_index.file_may_clash's verdicts for the batch's first new submissions, all on the fast path,
    worked out in another thread (code_index.files_may_clash) while DuckDB inserts their rows: ~1.3 s
    of numpy at 10^7 rows that kept both cores waiting."""
    at: dict[str, int]
    future: Future

    @classmethod
    def start(cls, con, pending: Sequence["_Pending"], prepared: Sequence[fast_csv.Prepared | None],
              pool: ThreadPoolExecutor) -> "_Precheck | None":
        at, files = {}, []
        for p, ready in zip(pending, prepared):
            if p.previous is not None or p.f.kind != "submission":
                continue
            if ready is None:
                break   # read in Python: its codes are known only once inserted, so it and the rest wait
            if ready.rows:   # (a file that loads no row is not checked)
                at[p.f.rel_path] = len(files)
                files.append((ready.codes, code_index.unit_hash(con, p.f.city_code)))
        if len(files) < 2:
            return None
        return cls(at, pool.submit(code_index.files_may_clash, con, files))

    def wait(self) -> None:
        wait([self.future])


def _reinstate(con, f: InboxFile, sha256: str, stamp: datetime, batch: _Batch | None = None,
               stat: str | None = None) -> LoadOutcome:
    """A file changed back to bytes loaded before: that earlier version becomes current again.
    Inside the caller's transaction."""
    if batch is not None:
        batch.flush(con)
    round_no = con.execute("SELECT max(round_no) FROM raw.load_manifest WHERE file_path = ? AND sha256 = ?",
                           [f.rel_path, sha256]).fetchall()[0][0]
    _supersede(con, f, round_no, sha256, stamp, batch)
    # It becomes this path's latest load again, so the next run sees it as unchanged.
    con.execute(f"""UPDATE raw.load_manifest SET superseded_at = NULL, loaded_at = {_TS}, file_stat = ?
                    WHERE file_path = ? AND sha256 = ?""", [stamp, stat, f.rel_path, sha256])
    return LoadOutcome(f.rel_path, f.kind, "revised", message="an earlier version is current again")


def _insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, casts: dict[str, str]) -> None:
    if frame.empty:
        return
    select = ", ".join(f"CAST({c} AS {casts[c]})" if c in casts else c for c in frame.columns)
    _incoming = frame  # noqa: F841 - read by DuckDB's replacement scan below
    con.execute(f"INSERT INTO {table} ({', '.join(frame.columns)}) SELECT {select} FROM _incoming")


def _quarantine_rows(f: InboxFile, sha256: str, result: ReadResult, stamp: datetime) -> pd.DataFrame:
    import pandas as pd

    # quarantined_at is the file's load time (it was now() of the file's own transaction).
    return pd.DataFrame([
        {"file_path": f.rel_path, "file_sha256": sha256, "sheet": q["sheet"], "row_number": q["row_number"],
         "column_name": q["column_name"], "raw_values": q["raw_values"], "reason": q["reason"],
         "quarantined_at": stamp}
        for q in result.quarantined
    ], columns=["file_path", "file_sha256", "sheet", "row_number", "column_name", "raw_values", "reason",
                "quarantined_at"])


def _read_submission_file(f: InboxFile, data: bytes) -> ReadResult:
    result = read_submission(data, f.path.suffix)
    problem = None
    if f.round_no is None:
        problem = f"round number not found in folder name {f.path.parent.name!r}"
    elif f.city_code is None:
        problem = f"unknown reporting unit {f.unit_label!r} in file name (not a name, alias or code in ref_units.csv)"
    if problem:
        # The whole file is unattributable: every row goes to quarantine, none is dropped.
        for row in result.rows:
            result.quarantined.append({
                "sheet": row["sheet"], "row_number": row["row_number"], "column_name": None,
                "raw_values": json.dumps({k: str(v) for k, v in row.items()}, ensure_ascii=False),
                "reason": problem})
        result.rows.clear()
    return result


def _supersede(con, f: InboxFile, round_no: int | None, sha256: str, stamp: datetime,
               batch: _Batch | None = None) -> int:
    """Mark the previous current version superseded. A submission is the same document when round and
    unit match (whatever its file name); a bulletin only when its path matches, because several
    sources for one round are all kept, so that where they disagree the conflict stays visible."""
    if f.kind == "bulletin":
        where, params, key = "file_path = ?", [f.rel_path], (f.kind, "path", f.rel_path)
    elif round_no is not None and f.city_code is not None:
        where, params, key = "round_no = ? AND city_code = ?", [round_no, f.city_code], (f.kind, "unit", round_no, f.city_code)
    else:
        return 0
    if batch is not None:
        if key not in batch.current:
            batch.current.add(key)   # this file's version is current from now on
            return 0
        batch.current.add(key)
        batch.flush(con)
    # Not this very version (same path and bytes); the same bytes under another name are superseded too:
    # a renamed list is the same document, not a second copy of its rows.
    condition = f"kind = ? AND {where} AND superseded_at IS NULL AND NOT (sha256 = ? AND file_path = ?)"
    # Most files supersede nothing: a read is cheaper than an UPDATE that finds no row.
    if not con.execute(f"SELECT count(*) FROM raw.load_manifest WHERE {condition}",
                       [f.kind, *params, sha256, f.rel_path]).fetchone()[0]:
        return 0
    rows = con.execute(f"UPDATE raw.load_manifest SET superseded_at = {_TS} WHERE {condition} RETURNING 1",
                       [stamp, f.kind, *params, sha256, f.rel_path]).fetchall()
    return len(rows)


@dataclass(frozen=True)
class _Counts:
    round_no: int | None
    read: int = 0
    loaded: int = 0
    quarantined: int = 0
    skipped: int = 0
    findings: int = 0


def _record(con, p: "_Pending", counts: _Counts, source_root: str, stored: Path, batch: _Batch | None = None) -> None:
    f = p.f
    row = (f.rel_path, p.sha256, f.kind, counts.round_no, f.city_code, counts.read, counts.loaded,
           counts.quarantined, counts.skipped, p.stamp, source_root, str(stored), p.stat)
    if batch is not None:
        batch.records.append(row)
        return
    con.execute(f"INSERT INTO raw.load_manifest ({_MANIFEST_COLUMNS}) "
                f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, {_TS}, ?, ?, ?)", list(row))


def _restat(con, restats: Sequence[tuple[str, str, str]]) -> None:
    """Keep the stats of files read again whose bytes had not changed (e.g. touched, or too recent to
    trust last time), on their path's latest load: the next run need not read them."""
    con.execute("""UPDATE raw.load_manifest m SET file_stat = n.stat
                   FROM (SELECT unnest(?) AS stat, unnest(?) AS path, unnest(?) AS sha256) n
                   WHERE m.file_path = n.path AND m.sha256 = n.sha256
                     AND m.loaded_at = (SELECT max(loaded_at) FROM raw.load_manifest WHERE file_path = n.path)""",
                [list(c) for c in zip(*restats)])


def _codes_in_other_units(con, f: InboxFile, sha256: str, codes, batch: _Batch | None = None) -> list[dict]:
    """The same project code submitted by another unit (in any current file) is a finding. The exact
    query reads all history: it runs only when the in-memory index of codes says a clash is possible.
    Only files recorded in the manifest count: rows of later files of a batch, inserted already, do not."""
    # In a batch's transaction only its own inserts change the table: checked once is enough.
    verify = batch is None or not batch.index_checked
    if batch is not None:
        batch.index_checked = True
    precheck = None if batch is None else batch.precheck
    if precheck is not None and f.rel_path in precheck.at:
        maybe = precheck.future.result()[precheck.at[f.rel_path]]
    else:
        if precheck is not None:
            precheck.wait()   # the index is the other thread's until it is done
        maybe = code_index.file_may_clash(con, sha256, f.rel_path, f.city_code, codes, verify)
    if not maybe:
        return []
    if batch is not None:
        batch.flush(con)
    clashes = con.execute(
        """SELECT DISTINCT r.sheet, r.row_number, r.project_code, o.city_code, o.file_path
           FROM raw.submission_rows r
           JOIN raw.submission_rows o ON o.project_code = r.project_code AND o.city_code <> r.city_code
           JOIN raw.load_manifest m
             ON m.sha256 = o.file_sha256 AND m.file_path = o.file_path AND m.superseded_at IS NULL
           WHERE r.file_sha256 = ? AND r.file_path = ? AND r.project_code IS NOT NULL
           ORDER BY ALL""", [sha256, f.rel_path]).fetchall()
    return [{"sheet": sheet, "row_number": row, "finding": "code_in_two_units",
             "detail": f"project code {code} is also submitted by unit {other} ({path})",
             "expected": None, "actual": None}
            for sheet, row, code, other, path in clashes]


def _insert_findings(con, f: InboxFile, sha256: str, findings: list[dict]) -> None:
    import pandas as pd

    if not findings:
        return
    frame = pd.DataFrame(findings, columns=["sheet", "row_number", "finding", "detail", "expected", "actual"])
    for column in ("expected", "actual"):
        frame[column] = frame[column].map(lambda v: None if v is None else str(v))
    frame.insert(0, "file_sha256", sha256)
    frame.insert(1, "file_path", f.rel_path)
    frame.insert(2, "round_no", f.round_no)
    frame.insert(3, "city_code", f.city_code)
    _insert_frame(con, "raw.submission_findings", frame,
                  {"expected": "DECIMAL(18, 4)", "actual": "DECIMAL(18, 4)"})


# Off only to compare the two CSV paths (tests/test_ingest_fast_csv.py).
FAST_CSV = True


def _prepare_fast_csvs(con, pending: Sequence["_Pending"], store: Path,
                       pool: ThreadPoolExecutor | None = None) -> list[fast_csv.Prepared | None]:
    """The DuckDB-native path for the regular CSVs of a known round and unit among new files (None:
    read it in Python), read and checked outside any transaction (a read_csv error would abort it).
    read_csv reads the stored copy: the very bytes hashed, whatever happens to the inbox meanwhile."""
    sources, shapes, at = [], [], []
    for i, p in enumerate(pending):
        f = p.f
        if p.previous is None and _fast_candidate(f):
            stored = store_raw_bytes(p.data, p.sha256, f.path.suffix, store)
            sources.append(fast_csv.Source(str(stored), p.data, p.sha256, f.rel_path, f.round_no, f.city_code))
            shapes.append(p.shape)
            at.append(i)
    prepared: list[fast_csv.Prepared | None] = [None] * len(pending)
    if sources:
        for i, got in zip(at, fast_csv.prepare(con, sources, shapes, pool)):
            prepared[i] = got
    return prepared


def _load_submission(con, f: InboxFile, data: bytes, sha256: str, prepared: fast_csv.Prepared | None,
                     stamp: datetime, batch: _Batch | None = None) -> _Counts:
    import pandas as pd

    fast = None if prepared is None else fast_csv.insert(con, prepared)
    codes = None
    if fast is not None:
        result, rows_read, rows_loaded, codes = fast.result, fast.rows_read, fast.rows_loaded, fast.codes
        code_index.inserted(con, fast.inserted)
    else:
        try:
            result = _read_submission_file(f, data)
        except SubmissionFormatError as exc:
            con.execute(f"INSERT INTO raw.quarantine (file_path, file_sha256, reason, quarantined_at) "
                        f"VALUES (?, ?, ?, {_TS})", [f.rel_path, sha256, f"file not readable: {exc}", stamp])
            return _Counts(f.round_no)
        rows = pd.DataFrame(result.rows, columns=["sheet", "row_number", "stage_code", "project_code",
                                                  "project_name", "county", "sector_label", "enterprise",
                                                  "investment_yi"])
        rows["investment_yi"] = rows["investment_yi"].astype(str)
        if not rows.empty:
            file_id = next_file_id(con)
            con.execute("INSERT INTO raw.submission_files VALUES (?, ?, ?, ?, ?)",
                        [file_id, sha256, f.rel_path, f.round_no, f.city_code])
            rows.insert(0, "file_id", file_id)
            _insert_frame(con, "raw.submission_file_rows", rows, {"investment_yi": "DECIMAL(18, 4)"})
        rows_read, rows_loaded = result.rows_read, len(result.rows)
        code_index.inserted(con, rows_loaded)
    if result.quarantined:
        _insert_frame(con, "raw.quarantine", _quarantine_rows(f, sha256, result, stamp),
                      {"quarantined_at": "TIMESTAMPTZ"})
    findings = result.findings + (_codes_in_other_units(con, f, sha256, codes, batch) if rows_loaded else [])
    _insert_findings(con, f, sha256, findings)
    return _Counts(f.round_no, rows_read, rows_loaded, len(result.quarantined),
                   result.rows_skipped, sum(x["finding"] not in INFORMATIONAL_FINDINGS for x in findings))


_AMOUNT_IN_TEXT = re.compile(r"(\d+(?:\.\d+)?)\s*(万亿|亿|万)")
_SCALE = {"万亿": 4, "亿": 0, "万": -4}  # powers of ten from the written unit to 亿元


def _decimals(value, measure: str, source_text: str | None) -> int:
    """Decimals, in 亿元, as published: half a unit of the last one is the rounding tolerance.
    4364 -> 0, 5782.7 -> 1; '1.8万亿元' (18000 亿元) -> -3, i.e. known to ±500 亿元. The written number
    is found in the sentence when it can be; otherwise the value's own digits tell."""
    if measure == "investment_yi" and source_text:
        for number, unit in _AMOUNT_IN_TEXT.findall(unicodedata.normalize("NFKC", source_text).replace(",", "")):
            written = Decimal(number)
            if written.scaleb(_SCALE[unit]) == Decimal(str(value)):
                return -written.as_tuple().exponent - _SCALE[unit]
    if isinstance(value, int):
        return 0
    text = repr(float(value))
    return 0 if "e" in text else len(text.split(".")[1])


def _load_bulletin(con, f: InboxFile, data: bytes, sha256: str, stamp: datetime) -> _Counts:
    import pandas as pd

    try:
        from sanpi.bulletin import read_bulletin   # (imported ahead by load_files: ~0.5 s, cn2an and bs4)

        reading = read_bulletin(data, f.path.name)
    except ValueError as exc:
        con.execute(f"INSERT INTO raw.quarantine (file_path, file_sha256, reason, quarantined_at) "
                    f"VALUES (?, ?, ?, {_TS})", [f.rel_path, sha256, f"bulletin not readable: {exc}", stamp])
        return _Counts(None)
    round_no = reading.get("round")
    cumulative = reading.get("cumulative") or {}
    con.execute(
        """INSERT INTO raw.bulletins VALUES (?, ?, ?, ?, CAST(? AS DATE), ?, ?, ?, ?, CAST(? AS DECIMAL(18,4)), ?)""",
        [sha256, f.rel_path, reading.get("province"), round_no, reading.get("held_on"), reading.get("main_venue"),
         reading.get("source_url"), cumulative.get("rounds"), cumulative.get("projects"),
         None if cumulative.get("investment_yi") is None else str(cumulative["investment_yi"]),
         cumulative.get("qualifier")])
    figures = pd.DataFrame([{
        "file_sha256": sha256, "file_path": f.rel_path, "round_no": round_no,
        "unit": fig["unit"], "unit_level": fig["unit_level"], "stage": fig["stage"], "measure": fig["measure"],
        "value": str(fig["value"]), "value_decimals": _decimals(fig["value"], fig["measure"], fig.get("source_text")),
        "qualifier": fig.get("qualifier") or "exact",
        "breakdown_dimension": (fig.get("breakdown") or {}).get("dimension"),
        "breakdown_category": (fig.get("breakdown") or {}).get("category"),
        "source_text": fig.get("source_text"), "char_start": fig.get("char_start"), "char_end": fig.get("char_end"),
    } for fig in reading.get("figures") or []])
    _insert_frame(con, "raw.bulletin_figures", figures, {"value": "DECIMAL(18, 4)"})
    warnings = pd.DataFrame([{"file_sha256": sha256, "file_path": f.rel_path, "round_no": round_no,
                              "sentence": w.get("sentence"), "reason": w.get("reason") or "unreadable figure"}
                             for w in reading.get("warnings") or []])
    _insert_frame(con, "raw.bulletin_warnings", warnings, {})
    # A bulletin's "rows" are its figures; figures it would not read are warnings, not rows.
    return _Counts(round_no, len(figures), len(figures), findings=len(warnings))


@dataclass
class _Pending:
    """A file whose bytes are read and compared with what was loaded before."""
    f: InboxFile
    data: bytes
    sha256: str
    previous: str | None
    stamp: datetime
    shape: object = fast_csv.NOT_LOOKED   # fast_csv's look at a new CSV, when read ahead
    stat: str | None = None               # settled_stat(), taken before the bytes were read
    restat: bool = False                  # unchanged bytes, read again: keep the stat now taken


@dataclass(frozen=True)
class _Read:
    """A file read (ahead, see load_files): its bytes, their hash and, for a new CSV of the fast path,
    its raw copy kept and its shape looked at. A file whose stat is its latest load's is not read:
    no bytes, and the hash of that load."""
    data: bytes
    sha256: str
    shape: object = fast_csv.NOT_LOOKED
    stat: str | None = None


def _fast_candidate(f: InboxFile) -> bool:
    """A submission CSV of a known round and unit: read by DuckDB when it is regular (fast_csv)."""
    return (FAST_CSV and f.kind == "submission" and f.path.suffix.lower() in (".csv", ".txt")
            and f.round_no is not None and f.city_code is not None)


def _read_bytes(f: InboxFile, loads: _Loads) -> _Read:
    stat = settled_stat(f.path)
    if stat is not None and stat == loads.stat and loads.hashes:
        return _Read(b"", loads.hashes[0], stat=stat)
    data = f.path.read_bytes()
    return _Read(data, hashlib.sha256(data).hexdigest(), stat=stat)


def _read(f: InboxFile, history: dict[str, _Loads], store: Path) -> _Read | None:
    """A file's work that needs no database: read, hash, and for a new fast-path CSV its raw copy and
    shape. None when it cannot be read: _begin reads it again, and raises as it always did."""
    loads = history.get(f.rel_path, _NEVER_LOADED)
    try:
        read = _read_bytes(f, loads)
    except OSError:
        return None
    if _previous(loads.hashes, read.sha256) is not None or not _fast_candidate(f):
        return read
    store_raw_bytes(read.data, read.sha256, f.path.suffix, store)
    return _Read(read.data, read.sha256, fast_csv.shape(read.data), read.stat)


def _begin(con, f: InboxFile, history: dict[str, _Loads] | None = None, read: _Read | None = None) -> _Pending:
    loads = (_previous_loads(con, [f]) if history is None else history).get(f.rel_path, _NEVER_LOADED)
    if read is None:
        read = _read_bytes(f, loads)
    previous = _previous(loads.hashes, read.sha256)
    restat = previous == "same" and read.stat is not None and read.stat != loads.stat
    return _Pending(f, read.data, read.sha256, previous, _stamp(), read.shape, read.stat, restat)


def _write(con, p: _Pending, source_root: str, store: Path, prepared: fast_csv.Prepared | None,
           batch: _Batch | None = None) -> LoadOutcome:
    """Everything one file writes, inside the caller's transaction (a new or reverted file)."""
    f, data, sha256, stamp = p.f, p.data, p.sha256, p.stamp
    if p.previous == "reverted":
        return _reinstate(con, f, sha256, stamp, batch, p.stat)
    stored = store_raw_bytes(data, sha256, f.path.suffix, store)
    if f.kind == "bulletin":
        counts = _load_bulletin(con, f, data, sha256, stamp)
    else:
        counts = _load_submission(con, f, data, sha256, prepared, stamp, batch)
    superseded = _supersede(con, f, counts.round_no, sha256, stamp, batch)
    _record(con, p, counts, source_root, stored, batch)
    notes = []
    if counts.quarantined:
        notes.append(f"{counts.quarantined} row(s) quarantined")
    if counts.findings:
        notes.append(f"{counts.findings} finding(s)")
    if counts.read == 0 and counts.skipped == 0:
        status, notes = "rejected", ["file could not be read; see raw.quarantine"]
    else:
        status = "revised" if superseded else "loaded"
    return LoadOutcome(f.rel_path, f.kind, status, counts.read, counts.loaded, counts.quarantined,
                       "; ".join(notes), counts.findings)


def load_file(con: duckdb.DuckDBPyConnection, f: InboxFile, source_root: str, store: Path) -> LoadOutcome:
    """Load one file in one transaction: a crash mid-file leaves nothing of it behind.
    The caller has created the raw schema (ensure_raw_schema) once."""
    p = _begin(con, f)
    if p.previous == "same":
        if p.restat:
            _restat(con, [(p.stat, f.rel_path, p.sha256)])
        return LoadOutcome(f.rel_path, f.kind, "unchanged")
    prepared = None
    try:
        # Read and typed before the transaction: a read_csv error there would abort it.
        prepared = _prepare_fast_csvs(con, [p], store)[0]
        con.execute("BEGIN TRANSACTION")
        try:
            outcome = _write(con, p, source_root, store, prepared)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        fast_csv.discard(con, [prepared])
    return outcome


# A batch ends after this many input bytes or files, whichever comes first: at 10^7 rows (~35k rows a
# file) ~1.2M rows, ten row groups, per transaction; a bounded amount of uncommitted data and of work
# redone on a fallback. Each insert writes its row groups as it goes (optimistic writes) and leaves one
# partly filled, which the checkpoint at close merges with its neighbours: at 10^7 rows 64 MB batches
# cost ~1.5 s of that, 128 MB ~0.4 s, 256 MB no less.
BATCH_BYTES = 128 * 1024 * 1024
BATCH_FILES = 200


def _batches(files: Sequence[InboxFile], max_bytes: int, max_files: int) -> list[tuple[list[InboxFile], int]]:
    """The files in batches, each with its size in bytes."""
    batches, batch, size = [], [], 0
    for f in files:
        batch.append(f)
        size += f.path.stat().st_size
        if size >= max_bytes or len(batch) >= max_files:
            batches.append((batch, size))
            batch, size = [], 0
    if batch:
        batches.append((batch, size))
    return batches


_Staged = tuple  # (pending, prepared) of a batch: what _stage returns


def _begin_batch(con, batch: Sequence[InboxFile], reads: Sequence[_Read | None] | None,
                 history: dict[str, _Loads]) -> list[_Pending]:
    """Each file of a batch begun: its bytes compared with earlier loads (paths are unique in a batch, so
    no file of it changes what another one finds there) and its load time taken."""
    return [_begin(con, f, history, reads[i] if reads else None) for i, f in enumerate(batch)]


def _stage(con, batch: Sequence[InboxFile], reads: Sequence[_Read | None] | None, history: dict[str, _Loads],
           store: Path, checker: ThreadPoolExecutor | None) -> _Staged:
    """What a batch needs before its transaction: its files begun and its regular CSVs read and checked
    together. con: the loader's connection, or a second one to the same database (the loader stages the
    next batch there while this one is written)."""
    pending = _begin_batch(con, batch, reads, history)
    return pending, _prepare_fast_csvs(con, pending, store, checker)


def _load_batch(con, batch: Sequence[InboxFile], source_root: str, store: Path,
                reads: Sequence[_Read | None] | None = None, history: dict[str, _Loads] | None = None,
                bytes_after: int = 0, checker: ThreadPoolExecutor | None = None,
                staged: _Staged | None = None) -> list[LoadOutcome]:
    """The files of one batch in one transaction: all committed, or (when anything raises) none.
    Staged first (_stage), unless `staged` is given. reads: the batch's files read ahead (None: read
    them here); history: their paths' earlier loads, when known; bytes_after: input bytes of the
    batches to come (the code index makes room for their rows at once); checker: a thread for
    code_index's work."""
    outcomes = []
    prepared: list = []
    try:
        if staged is None:
            history = _previous_loads(con, batch) if history is None else history
            staged = _stage(con, batch, reads, history, store, checker)
        pending, prepared = staged
        con.execute("BEGIN TRANSACTION")
        known = None
        try:
            known = _Batch.of(con)
            if any(p.previous is None and p.f.kind == "submission" for p in pending):
                # Built or checked before this transaction inserts anything (then not again), with
                # room for the fast path's rows at once, and for the rows the next batches will
                # likely bring (each growth re-inserts every entry: four of them cost ~1.3 s at 10^7).
                fast = [(len(p.data), r.rows) for p, r in zip(pending, prepared) if r is not None]
                rows, size = sum(r for _, r in fast), sum(b for b, _ in fast)
                code_index.ready(con, rows + (rows * bytes_after // size if size else 0))
                known.index_checked = True
                if checker is not None:
                    known.precheck = _Precheck.start(con, pending, prepared, checker)
            for p, ready in zip(pending, prepared):
                if p.previous == "same":
                    if p.restat:
                        known.restats.append((p.stat, p.f.rel_path, p.sha256))
                    outcomes.append(LoadOutcome(p.f.rel_path, p.f.kind, "unchanged"))
                else:
                    outcomes.append(_write(con, p, source_root, store, ready, known))
            known.flush(con)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            if known is not None and known.precheck is not None:
                known.precheck.wait()
            # The in-memory code index has seen rows that are gone: rebuild it from the table.
            code_index._INDEXES.pop(con, None)
            raise
    finally:
        fast_csv.discard(con, prepared)
    return outcomes


# Off only to test what a failed batch leaves behind (tests/test_ingest_batches.py).
FALLBACK = True


def _unstaged(con, ahead: Future | None) -> Future | None:
    """The next batch, read but no longer staged (its typed tables dropped): its files took their load
    times before this batch's files, which are now loaded again one by one, so they begin again after
    them (load times keep the files' order)."""
    if ahead is None:
        return None
    unstaged: Future = Future()
    try:
        reads, staged = ahead.result()
    except Exception:
        reads, staged = None, None   # (staging failed: the batch is read and staged again in turn)
    if staged is not None:
        fast_csv.discard(con, staged[1])
    unstaged.set_result((reads, None))
    return unstaged


class _Threads:
    """DuckDB's worker threads while the loader runs two statements at once (this batch's insert, the
    next batch's typing on the second connection): with one thread each, DuckDB splits no statement
    across threads and the two share the cores by themselves; at 10^7 rows that cost ~2 CPU-s less
    than both statements spreading over every thread. set(None): the setting the database had."""

    def __init__(self, con):
        self._con = con
        self._default = con.execute("SELECT current_setting('threads')").fetchone()[0]
        self._now = self._default

    def set(self, threads: int | None) -> None:
        threads = self._default if threads is None else min(threads, self._default)
        if threads != self._now:
            self._con.execute(f"SET threads = {int(threads)}")
            self._now = threads


def load_files(con: duckdb.DuckDBPyConnection, files: Sequence[InboxFile], source_root: str, store: Path,
               on_outcome: Callable[[int, LoadOutcome], None] | None = None,
               max_bytes: int = BATCH_BYTES, max_files: int = BATCH_FILES) -> list[LoadOutcome]:
    """Load files in order, one transaction per batch: the same rows, outcomes and order of versions as
    load_file on each file. If a batch fails, it is rolled back and its files are loaded one per
    transaction by load_file: the files before a culprit are committed and its error is raised as
    load_file raises it. on_outcome(index, outcome) is called for each file once it is committed.

    While DuckDB writes a batch (it lets go of the GIL), a thread stages the next one: reads its files
    (bytes, hash, raw copies and CSV shapes of new files: ~8 s of one core at 10^7 rows that left the
    other idle), then types and checks its regular CSVs on a second connection (each of the two
    statements keeps ~1.4 of 2 cores busy; the two at once ~2)."""
    outcomes: list[LoadOutcome] = []
    batches = _batches(files, max_bytes, max_files)
    # Every path's earlier loads at once: paths are unique, so no batch changes what a later one finds.
    # (A list naming a path twice is read batch by batch, as it comes.)
    unique = len({f.rel_path for f in files}) == len(files)
    history = _previous_loads(con, files) if unique and len(batches) > 1 else None
    left = sum(size for _, size in batches)
    second = con.cursor() if history is not None else None   # a second connection to the same database
    with allocator.reusing_freed_blocks(), contextlib.closing(second) if second else contextlib.nullcontext(), \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="sanpi-read-ahead") as reader, \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="sanpi-code-index") as checker:
        read_ahead: dict[int, Future] = {}

        def read(i: int) -> list[_Read | None]:
            return [_read(f, history, store) for f in batches[i][0]]

        def stage_ahead(i: int) -> Future | None:
            """Batch i staged in the reader thread, and the one after it read there next: its files
            are read (the loader's GIL-bound work) while this thread would wait for the insert."""
            if history is None or i >= len(batches):
                return None
            done = read_ahead.pop(i, None)

            def stage():
                reads = done.result() if done is not None else read(i)
                return reads, _stage(second, batches[i][0], reads, history, store, checker)
            staged = reader.submit(stage)
            if i + 1 < len(batches):
                read_ahead[i + 1] = reader.submit(read, i + 1)
            return staged

        # Imports only some files need (pandas: files read in Python, quarantine, findings; the bulletin
        # reader), in another thread while the first batch is read and typed.
        checker.submit(importlib.import_module, "pandas")
        if any(f.kind == "bulletin" for f in files):
            checker.submit(importlib.import_module, "sanpi.bulletin")
        ahead: Future | None = None
        threads = _Threads(con)
        try:
            for i, (batch, size) in enumerate(batches):
                reads = staged = None
                if i == 0 and history is not None:
                    # Nothing else runs yet: the first batch is read by two threads (hashing and file I/O
                    # let go of the GIL).
                    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="sanpi-read-first") as first:
                        reads = list(first.map(lambda f: _read(f, history, store), batch))
                elif ahead is not None:
                    try:
                        reads, staged = ahead.result()
                    except Exception:
                        pass   # staged here, or by _load_batch, which then fails as it would have
                ahead = None
                if history is not None and staged is None:
                    # Its files begin here, before the next batch's (load times keep the files' order);
                    # then the next batch is staged in the other thread while DuckDB types this one.
                    try:
                        pending = _begin_batch(con, batch, reads, history)
                        ahead = stage_ahead(i + 1)
                        staged = pending, _prepare_fast_csvs(con, pending, store, checker)
                    except Exception:
                        # Staged again by _load_batch (which then fails as it would have); the next
                        # batch begins again after it.
                        staged, ahead = None, _unstaged(con, ahead)
                elif history is not None:
                    ahead = stage_ahead(i + 1)
                # While the next batch is staged, each connection's statement runs on its own thread;
                # the last batch's insert, alone, gets every thread again.
                threads.set(1 if ahead is not None else None)
                left -= size
                try:
                    got = _load_batch(con, batch, source_root, store, reads, history, left, checker, staged)
                except Exception:
                    # KeyboardInterrupt and the like stop the load (the batch rolled back); errors fall back.
                    if not FALLBACK:
                        raise
                    got = None
                if got is None:  # one transaction per file, each reported once committed
                    ahead = _unstaged(con, ahead)
                    got = (load_file(con, f, source_root, store) for f in batch)
                for outcome in got:
                    outcomes.append(outcome)
                    if on_outcome:
                        on_outcome(len(outcomes), outcome)
        finally:
            _unstaged(con, ahead)   # (a batch staged for nothing: its tables dropped)
            threads.set(None)
    return outcomes
