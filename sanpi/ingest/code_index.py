"""Which project codes some other unit has ever submitted: a pre-filter for the code_in_two_units
finding, so that loading a file costs in proportion to its own rows, not to all history.

Per connection, in memory: the hash of every project code in raw.submission_rows with the one unit
that submitted it (or "several"), in an open-addressing hash table over a numpy array (linear
probing, at most half full), queried and filled a whole file's codes at a time: a lookup costs the
same at 10^4 rows as at 10^7 (sorted segments searched per file cost ~10 s at 10^7 rows). Built once
from the table; each loaded file adds its codes (the loader counts the rows it inserts). It only
ever says "maybe" too often (hash collisions, rows deleted since, rows of files not yet checked): a
"maybe" runs the exact query. It is rebuilt whenever the table holds another number of rows than it
expects (another writer, a rolled-back load).
"""
from __future__ import annotations

import weakref
from typing import Sequence

import duckdb
import numpy as np

_MANY = np.uint64(0)   # hash(city_code) == 0: treated as "several units", every match a maybe
_SEVERAL = 0              # unit id of a code several units submitted (and of units past _MAX_UNITS)
_MAX_UNITS = 0xFFFF       # unit ids 1..65535 fit an entry's low 16 bits
_UNIT = np.uint64(0xFFFF)
_SHIFT = np.uint64(16)
_FINGERPRINT = np.uint64((1 << 48) - 1)


class CodeIndex:
    """Each slot one uint64: the low 48 bits of a code's hash (its fingerprint, never 0) above the
    16-bit id of the unit that submitted it; 0 is a free slot. A probe reads one array, one cache
    line a slot (keys and units in two arrays cost two). 48 bits are plenty for a pre-filter: at
    10^7 codes a fresh code matches a stored one by chance once in ~3*10^7 lookups, and a match only
    sends that file to the exact query."""

    def __init__(self, rows: int):
        self.rows = rows   # rows of raw.submission_rows it accounts for
        self.slots = np.zeros(1 << 12, dtype=np.uint64)
        self.size = 0
        self.unit_ids: dict[int, int] = {}

    def entries(self) -> int:
        return int(np.count_nonzero(self.slots))

    def _unit_id(self, unit: int) -> int:
        """The unit's id, given one now if it is new (_SEVERAL once ids run out: its codes then
        match every other code, only more maybes)."""
        uid = self.unit_ids.get(unit)
        if uid is None:
            if len(self.unit_ids) >= _MAX_UNITS:
                return _SEVERAL
            uid = self.unit_ids[unit] = len(self.unit_ids) + 1
        return uid

    @staticmethod
    def _fingerprints(codes: np.ndarray) -> np.ndarray:
        fp = np.asarray(codes, dtype=np.uint64) & _FINGERPRINT
        fp[fp == 0] = 1   # (a code whose low bits are 0 is stored as 1: at worst one more maybe)
        return fp

    def add(self, codes: np.ndarray, unit: np.uint64, rows: int) -> None:
        """Codes of one unit (hash of city_code); rows: rows of the table they account for. (A
        rebuild from the table, of many units, is _rebuilt.)"""
        self.rows += rows
        fp = self._fingerprints(codes)
        if len(fp):
            self.reserve(len(fp))
            self._probe(fp, np.uint64(self._unit_id(int(unit))), insert=True)

    def reserve(self, more: int) -> None:
        """Room for `more` new codes, at most half full."""
        if (self.size + more) * 2 > len(self.slots):
            self.size = self.entries()   # (size counts a code twice when it came twice)
            if (self.size + more) * 2 > len(self.slots):
                self._grow(self.size + more)

    def _grow(self, entries: int) -> None:
        capacity = len(self.slots)
        while entries * 2 > capacity:
            capacity *= 2
        old = self.slots[self.slots != 0]
        self.slots = np.zeros(capacity, dtype=np.uint64)
        self.size = 0
        self._probe(old >> _SHIFT, old & _UNIT, insert=True)

    def _probe(self, fp: np.ndarray, uid, insert: bool) -> bool:
        """Whether a code of another unit (or of several) matches one of these fingerprints; with
        insert, each also takes its slot (a match of another unit's turns that slot to "several") or
        a free one (of several claiming one free slot, one wins and the others probe on). uid: one
        id for all, or one each. A probe never meets a free slot before its code's slot: slots are
        never freed, so the file's own codes taking free slots hide nothing."""
        mask = len(self.slots) - 1
        pos = (fp & np.uint64(mask)).astype(np.int64)
        mine = (fp << _SHIFT) | uid
        every = np.isscalar(uid) and uid == _SEVERAL   # (an id of _SEVERAL: every match clashes)
        clash = False
        while len(fp):
            at = self.slots[pos]
            hit = (at >> _SHIFT) == fp
            if hit.any():
                other = hit if every else hit & ((at & _UNIT) != (mine & _UNIT))
                if other.any():
                    clash = True
                    if not insert:
                        return True
                    self.slots[pos[other]] = fp[other] << _SHIFT   # unit _SEVERAL
            if insert:
                free = at == 0
                if free.any():
                    where, claim = pos[free], mine[free]
                    self.slots[where] = claim
                    won = self.slots[where] == claim
                    self.size += int(won.sum())
                    hit[free] = won
                left = ~hit
            else:
                left = ~hit & (at != 0)
            fp, mine, pos = fp[left], mine[left], (pos[left] + 1) & mask
        return clash

    def maybe_clash(self, codes: np.ndarray, unit: np.uint64) -> bool:
        """Whether a unit other than `unit` may have submitted one of these codes."""
        # (A unit never seen: any match clashes.)
        return self._probe(self._fingerprints(codes), np.uint64(self.unit_ids.get(int(unit), _SEVERAL)),
                           insert=False)

    def check_and_add(self, codes: np.ndarray, unit: np.uint64) -> bool:
        """maybe_clash, then add the codes as the unit's, in one probe of each slot."""
        fp = self._fingerprints(codes)
        self.reserve(len(fp))
        return self._probe(fp, np.uint64(self._unit_id(int(unit))), insert=True)


_INDEXES: "weakref.WeakKeyDictionary[object, CodeIndex]" = weakref.WeakKeyDictionary()
_UNIT_HASHES: dict[str, int] = {}


def _hashes(con, where: str = "", params: list | None = None) -> tuple[np.ndarray, np.ndarray]:
    got = con.execute(f"""SELECT hash(project_code) AS code, hash(city_code) AS unit FROM raw.submission_rows
                          WHERE project_code IS NOT NULL {where}""", params or []).fetchnumpy()
    return (np.asarray(got["code"], dtype=np.uint64), np.asarray(got["unit"], dtype=np.uint64))


def _rebuilt(con, rows: int, where: str = "", params: list | None = None) -> CodeIndex:
    """An index of the table's codes (those `where` selects). DuckDB groups the rows by fingerprint
    first, on every core (one entry each: its unit's id, or "several"), where sorting them in numpy
    took 0.35 s at 10^6 codes; the index then only places the entries."""
    index = CodeIndex(rows)
    # (every unit with a file: the small table, not the rows again; an id for a unit without codes is unused)
    units = [u for (u,) in con.execute("SELECT DISTINCT hash(city_code) FROM raw.submission_files ORDER BY 1")
             .fetchall()]
    ids = [index._unit_id(int(u)) for u in units]
    got = con.execute(f"""
        SELECT fp, CASE WHEN min(uid) = max(uid) THEN min(uid) ELSE {_SEVERAL} END AS uid
        FROM (SELECT CASE WHEN fp = 0 THEN 1 ELSE fp END AS fp,
                     CAST(list_extract(?, list_position(?, unit)) AS UBIGINT) AS uid
              FROM (SELECT hash(project_code) & {int(_FINGERPRINT)} AS fp, hash(city_code) AS unit
                    FROM raw.submission_rows WHERE project_code IS NOT NULL {where}))
        GROUP BY fp""", [ids, units, *(params or [])]).fetchnumpy()
    fp = np.asarray(got["fp"], dtype=np.uint64)
    index.reserve(len(fp))
    index._probe(fp, np.asarray(got["uid"], dtype=np.uint64), insert=True)
    return index


def ready(con: duckdb.DuckDBPyConnection, expected: int = 0) -> None:
    """Build or check the index now, before the caller's transaction inserts rows (the caller then
    passes verify=False): a rebuild reads only the rows already there, where one after a batch's
    insert read the whole batch's rows and added each file's codes again. Room made at once for
    `expected` more codes (each growth re-inserts every entry)."""
    index = _INDEXES.get(con)
    total = con.execute("SELECT count(*) FROM raw.submission_file_rows").fetchone()[0]
    if index is None or index.rows != total:
        index = _INDEXES[con] = _rebuilt(con, total)
    index.reserve(expected)


def inserted(con: duckdb.DuckDBPyConnection, rows: int) -> None:
    """Rows just inserted into raw.submission_rows whose codes file_may_clash will be given (a batch
    of fast CSVs inserts several files' rows at once, before their files are checked one by one)."""
    index = _INDEXES.get(con)
    if index is not None:
        index.rows += rows


def unit_hash(con: duckdb.DuckDBPyConnection, city_code: str) -> np.uint64:
    if city_code not in _UNIT_HASHES:
        _UNIT_HASHES[city_code] = con.execute("SELECT hash(CAST(? AS VARCHAR))", [city_code]).fetchone()[0]
    return np.uint64(_UNIT_HASHES[city_code])


def files_may_clash(con: duckdb.DuckDBPyConnection, files: Sequence[tuple[np.ndarray, np.uint64]]) -> list[bool]:
    """file_may_clash (verify=False) for several files in their order, each given as (codes, unit_hash(..)):
    what it would say of each had it been called for them one after another. Uses no connection (the
    index must be ready: code_index.ready): the loader runs it in another thread while DuckDB inserts
    the files' rows, and calls nothing else of this module meanwhile."""
    index = _INDEXES[con]
    verdicts = []
    for codes, unit in files:
        verdicts.append(index.check_and_add(codes, unit) or bool(unit == _MANY))
    return verdicts


def file_may_clash(con: duckdb.DuckDBPyConnection, file_sha256: str, file_path: str, city_code: str,
                   codes: np.ndarray | None = None, verify: bool = True) -> bool:
    """Whether some code of this just-inserted file may also be another unit's (exactly: False means
    no other unit's row, current or not, has any of its codes). Adds the file to the index. `codes`:
    hash(project_code) of the file's rows with a code, when the caller has them (else read here).
    verify=False: the caller knows every row inserted since the index was last checked (inserted())."""
    index = _INDEXES.get(con)
    unit = unit_hash(con, city_code)
    total = con.execute("SELECT count(*) FROM raw.submission_file_rows").fetchone()[0] if verify or index is None else None
    if index is None or (verify and index.rows != total):
        # Every row but the file's own: rows of files loaded after it in its batch, already inserted,
        # can only make a "maybe" of what is not a clash.
        index = _INDEXES[con] = _rebuilt(con, total, "AND NOT (file_sha256 = ? AND file_path = ?)",
                                         [file_sha256, file_path])
    if codes is None:
        codes, _ = _hashes(con, "AND file_sha256 = ? AND file_path = ?", [file_sha256, file_path])
    return index.check_and_add(codes, unit) or bool(unit == _MANY)
