"""Which project codes some other unit has ever submitted: a pre-filter for the code_in_two_units
finding, so that loading a file costs in proportion to its own rows, not to all history.

Per connection, in memory: the hash of every project code in raw.submission_rows with the hash of
the one unit that submitted it (0 when several did), in sorted segments merged like a binary counter
(O(log n) segments). Built once from the table; each loaded file adds its codes (the loader counts
the rows it inserts). It only ever says "maybe" too often (hash collisions, rows deleted since, rows
of files not yet checked): a "maybe" runs the exact query. It is rebuilt whenever the table holds
another number of rows than it expects (another writer, a rolled-back load).
"""
from __future__ import annotations

import weakref

import duckdb
import numpy as np

_MANY = np.uint64(0)   # several units submitted this code


class _Segment:
    __slots__ = ("codes", "units")

    def __init__(self, codes: np.ndarray, units: np.ndarray):
        self.codes, self.units = codes, units   # codes sorted and unique

    @classmethod
    def of(cls, codes: np.ndarray, units: np.ndarray) -> "_Segment":
        order = np.argsort(codes, kind="stable")
        codes, units = codes[order], units[order]
        if len(codes) == 0:
            return cls(codes, units)
        starts = np.flatnonzero(np.concatenate(([True], codes[1:] != codes[:-1])))
        low = np.minimum.reduceat(units, starts)
        high = np.maximum.reduceat(units, starts)
        return cls(codes[starts], np.where(low == high, low, _MANY))

    def clashes(self, codes: np.ndarray, unit: np.uint64) -> bool:
        if len(self.codes) == 0 or len(codes) == 0:
            return False
        at = np.minimum(np.searchsorted(self.codes, codes), len(self.codes) - 1)
        found = self.codes[at] == codes
        return bool(np.any(found & (self.units[at] != unit)))


class CodeIndex:
    def __init__(self, rows: int):
        self.segments: list[_Segment] = []
        self.rows = rows   # rows of raw.submission_rows it has seen

    def add(self, codes: np.ndarray, units: np.ndarray, rows: int) -> None:
        self.segments.append(_Segment.of(codes, units))
        self.rows += rows
        while len(self.segments) > 1 and len(self.segments[-1].codes) * 2 >= len(self.segments[-2].codes):
            b, a = self.segments.pop(), self.segments.pop()
            merged = _Segment.of(np.concatenate((a.codes, b.codes)), np.concatenate((a.units, b.units)))
            # A code both segments hold from different single units is held by several.
            self.segments.append(merged)

    def maybe_clash(self, codes: np.ndarray, unit: np.uint64) -> bool:
        return any(s.clashes(codes, unit) for s in self.segments)


_INDEXES: "weakref.WeakKeyDictionary[object, CodeIndex]" = weakref.WeakKeyDictionary()


def _hashes(con, where: str = "", params: list | None = None) -> tuple[np.ndarray, np.ndarray]:
    got = con.execute(f"""SELECT hash(project_code) AS code, hash(city_code) AS unit FROM raw.submission_rows
                          WHERE project_code IS NOT NULL {where}""", params or []).fetchnumpy()
    return (np.asarray(got["code"], dtype=np.uint64), np.asarray(got["unit"], dtype=np.uint64))


def inserted(con: duckdb.DuckDBPyConnection, rows: int) -> None:
    """Rows just inserted into raw.submission_rows whose codes file_may_clash will be given (a batch
    of fast CSVs inserts several files' rows at once, before their files are checked one by one)."""
    index = _INDEXES.get(con)
    if index is not None:
        index.rows += rows


def file_may_clash(con: duckdb.DuckDBPyConnection, file_sha256: str, file_path: str, city_code: str,
                   codes: np.ndarray | None = None) -> bool:
    """Whether some code of this just-inserted file may also be another unit's (exactly: False means
    no other unit's row, current or not, has any of its codes). Adds the file to the index. `codes`:
    hash(project_code) of the file's rows with a code, when the caller has them (else read here)."""
    index = _INDEXES.get(con)
    total, unit = con.execute("SELECT (SELECT count(*) FROM raw.submission_rows), hash(CAST(? AS VARCHAR))",
                              [city_code]).fetchone()
    unit = np.uint64(unit)
    if index is None or index.rows != total:
        # Every row but the file's own: rows of files loaded after it in its batch, already inserted,
        # can only make a "maybe" of what is not a clash.
        index = CodeIndex(total)
        others, units = _hashes(con, "AND NOT (file_sha256 = ? AND file_path = ?)", [file_sha256, file_path])
        index.add(others, units, 0)
        _INDEXES[con] = index
    if codes is None:
        codes, _ = _hashes(con, "AND file_sha256 = ? AND file_path = ?", [file_sha256, file_path])
    # hash 0 is the "several units" mark: a unit hashing to 0 makes every match a maybe (still exact).
    # Sorted, unique queries: searchsorted then walks each segment once instead of jumping at random.
    maybe = unit == _MANY or index.maybe_clash(np.unique(codes), unit)
    index.add(codes, np.full(len(codes), unit, dtype=np.uint64), 0)
    return maybe
