"""Which project codes some other unit has ever submitted: a pre-filter for the code_in_two_units
finding, so that loading a file costs in proportion to its own rows, not to all history.

Per connection, in memory: the hash of every project code in raw.submission_rows with the one unit
that submitted it (or "several"), in an open-addressing hash table over numpy arrays (linear
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
_SEVERAL = np.uint32(0)   # unit id of a code several units submitted
_EMPTY = np.uint64(0)     # free slot (a code hashing to 0 is stored as 1: at worst one more maybe)


class CodeIndex:
    def __init__(self, rows: int):
        self.rows = rows   # rows of raw.submission_rows it accounts for
        self.keys = np.zeros(1 << 12, dtype=np.uint64)
        self.units = np.zeros(1 << 12, dtype=np.uint32)
        self.size = 0
        self.unit_ids: dict[int, int] = {}

    def _ids(self, units: np.ndarray) -> np.ndarray:
        if len(units) and units[0] == units[-1] and bool(np.all(units == units[0])):   # one file: one unit
            return np.full(len(units), self.unit_ids.setdefault(int(units[0]), len(self.unit_ids) + 1), np.uint32)
        values, inverse = np.unique(units, return_inverse=True)
        ids = np.array([self.unit_ids.setdefault(int(v), len(self.unit_ids) + 1) for v in values], dtype=np.uint32)
        return ids[inverse.reshape(-1)] if len(values) else np.zeros(0, dtype=np.uint32)

    @staticmethod
    def _keys(codes: np.ndarray) -> np.ndarray:
        codes = np.asarray(codes, dtype=np.uint64)
        return np.where(codes == _EMPTY, np.uint64(1), codes)

    def add(self, codes: np.ndarray, units: np.ndarray, rows: int) -> None:
        self.rows += rows
        keys = self._keys(codes)
        if len(keys) == 0:
            return
        ids = self._ids(np.asarray(units, dtype=np.uint64))
        if ids[0] != ids[-1] or not bool(np.all(ids == ids[0])):
            # Several units (a rebuild from the table): one entry per distinct code, its unit or
            # "several", so that no two entries of one insert race for one slot's unit.
            order = np.argsort(keys, kind="stable")
            keys, ids = keys[order], ids[order]
            starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
            low, high = np.minimum.reduceat(ids, starts), np.maximum.reduceat(ids, starts)
            keys, ids = keys[starts], np.where(low == high, low, _SEVERAL)
        self.reserve(len(keys))
        self._insert(keys, ids)

    def reserve(self, more: int) -> None:
        """Room for `more` new codes, at most half full."""
        if (self.size + more) * 2 > len(self.keys):
            self.size = int(np.count_nonzero(self.keys))   # (size counts a code twice when it came twice)
            if (self.size + more) * 2 > len(self.keys):
                self._grow(self.size + more)

    def _grow(self, entries: int) -> None:
        capacity = len(self.keys)
        while entries * 2 > capacity:
            capacity *= 2
        used = self.keys != _EMPTY
        keys, ids = self.keys[used], self.units[used]
        self.keys = np.zeros(capacity, dtype=np.uint64)
        self.units = np.zeros(capacity, dtype=np.uint32)
        self.size = 0
        self._insert(keys, ids)

    def _insert(self, keys: np.ndarray, ids: np.ndarray) -> None:
        """Each key finds its own slot or a free one (of several claiming one free slot, one wins and
        the others probe on; a key given twice with one unit may take its slot twice, harmlessly).
        Keys given twice must have the same unit (add() makes sure)."""
        mask = len(self.keys) - 1
        pos = (keys & np.uint64(mask)).astype(np.int64)
        while len(keys):
            at = self.keys[pos]
            hit = at == keys
            if hit.any():
                where, new = pos[hit], ids[hit]
                self.units[where] = np.where(self.units[where] == new, new, _SEVERAL)
            free = at == _EMPTY
            if free.any():
                where, claim = pos[free], keys[free]
                self.keys[where] = claim
                won = self.keys[where] == claim
                self.units[where[won]] = ids[free][won]
                self.size += int(won.sum())
                hit[free] = won
            left = ~hit
            keys, ids, pos = keys[left], ids[left], (pos[left] + 1) & mask

    def maybe_clash(self, codes: np.ndarray, unit: np.uint64) -> bool:
        """Whether a unit other than `unit` may have submitted one of these codes."""
        keys = self._keys(codes)
        own = np.uint32(self.unit_ids.get(int(unit), 0xFFFFFFFF))   # (not a unit seen: any match clashes)
        mask = np.uint64(len(self.keys) - 1)
        pos = (keys & mask).astype(np.int64)
        while len(keys):
            at = self.keys[pos]
            found = at == keys
            if found.any() and np.any(self.units[pos[found]] != own):
                return True
            left = ~found & (at != _EMPTY)
            keys, pos = keys[left], (pos[left] + 1) & int(mask)
        return False


_INDEXES: "weakref.WeakKeyDictionary[object, CodeIndex]" = weakref.WeakKeyDictionary()
_UNIT_HASHES: dict[str, int] = {}


def _hashes(con, where: str = "", params: list | None = None) -> tuple[np.ndarray, np.ndarray]:
    got = con.execute(f"""SELECT hash(project_code) AS code, hash(city_code) AS unit FROM raw.submission_rows
                          WHERE project_code IS NOT NULL {where}""", params or []).fetchnumpy()
    return (np.asarray(got["code"], dtype=np.uint64), np.asarray(got["unit"], dtype=np.uint64))


def ready(con: duckdb.DuckDBPyConnection, expected: int = 0) -> None:
    """Build or check the index now, before the caller's transaction inserts rows (the caller then
    passes verify=False): a rebuild reads only the rows already there, where one after a batch's
    insert read the whole batch's rows and added each file's codes again. Room made at once for
    `expected` more codes (each growth re-inserts every entry)."""
    index = _INDEXES.get(con)
    total = con.execute("SELECT count(*) FROM raw.submission_rows").fetchone()[0]
    if index is None or index.rows != total:
        index = CodeIndex(total)
        index.add(*_hashes(con), 0)
        _INDEXES[con] = index
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
        verdicts.append(bool(unit == _MANY or index.maybe_clash(codes, unit)))
        index.add(codes, np.full(len(codes), unit, dtype=np.uint64), 0)
    return verdicts


def file_may_clash(con: duckdb.DuckDBPyConnection, file_sha256: str, file_path: str, city_code: str,
                   codes: np.ndarray | None = None, verify: bool = True) -> bool:
    """Whether some code of this just-inserted file may also be another unit's (exactly: False means
    no other unit's row, current or not, has any of its codes). Adds the file to the index. `codes`:
    hash(project_code) of the file's rows with a code, when the caller has them (else read here).
    verify=False: the caller knows every row inserted since the index was last checked (inserted())."""
    index = _INDEXES.get(con)
    unit = unit_hash(con, city_code)
    total = con.execute("SELECT count(*) FROM raw.submission_rows").fetchone()[0] if verify or index is None else None
    if index is None or (verify and index.rows != total):
        # Every row but the file's own: rows of files loaded after it in its batch, already inserted,
        # can only make a "maybe" of what is not a clash.
        index = CodeIndex(total)
        others, units = _hashes(con, "AND NOT (file_sha256 = ? AND file_path = ?)", [file_sha256, file_path])
        index.add(others, units, 0)
        _INDEXES[con] = index
    if codes is None:
        codes, _ = _hashes(con, "AND file_sha256 = ? AND file_path = ?", [file_sha256, file_path])
    maybe = unit == _MANY or index.maybe_clash(codes, unit)
    index.add(codes, np.full(len(codes), unit, dtype=np.uint64), 0)
    return maybe
