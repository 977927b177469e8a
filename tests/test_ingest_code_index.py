"""The in-memory code index only skips the code_in_two_units query when it would find nothing: the
findings are the same with and without it, over loads, revisions, reruns and a backfill."""
from __future__ import annotations

import random

import duckdb
import numpy as np

from sanpi.ingest import code_index, loader
from sanpi.ingest.backfill import clear_rounds
from sanpi.ingest.inbox import discover
from sanpi.raw_schema import ensure_raw_schema

_FILE_MAY_CLASH = code_index.file_may_clash
_FILES_MAY_CLASH = code_index.files_may_clash
HEADER = "序号,项目代码,项目名称,所在县区,所属行业,阶段,总投资(亿元)"


def _csv(codes: list[str]) -> bytes:
    lines = [HEADER] + [f"{i},{c},项目{c},县,行业,签约一批,1.5" for i, c in enumerate(codes, start=1)]
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def _write(root, files: dict[str, list[str]]) -> None:
    for rel, codes in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_csv(codes))


def _findings(con) -> list[tuple]:
    return con.execute("""SELECT file_path, sheet, row_number, finding, detail FROM raw.submission_findings
                          ORDER BY ALL""").fetchall()


def _run(tmp_path, name: str, use_index: bool, monkeypatch, batched: bool = False) -> tuple[list[tuple], list]:
    monkeypatch.setattr(code_index, "file_may_clash", _FILE_MAY_CLASH if use_index else (lambda *a: True))
    # (A batch's first fast files are checked together, in another thread.)
    monkeypatch.setattr(code_index, "files_may_clash",
                        _FILES_MAY_CLASH if use_index else (lambda con, files: [True] * len(files)))
    inbox = tmp_path / name / "inbox"
    inbox.mkdir(parents=True)
    con = duckdb.connect(str(tmp_path / name / "w.duckdb"))
    ensure_raw_schema(con)
    outcomes = []

    def load():
        if batched:  # batches of two files: the index is built or checked at each batch's start
            outcomes.extend(o.findings for o in loader.load_files(con, discover(inbox), "inbox",
                                                                   tmp_path / name / "store", max_files=2))
            return
        for f in discover(inbox):
            outcomes.append(loader.load_file(con, f, "inbox", tmp_path / name / "store").findings)

    _write(inbox, {"submissions/1/郑州市.csv": ["A", "B", "C"], "submissions/1/开封市.csv": ["D", "E"]})
    load()
    _write(inbox, {"submissions/2/洛阳市.csv": ["A", "F"], "submissions/2/郑州市.csv": ["B", "G"]})
    load()
    load()  # nothing new
    # 开封市 revises round 1 to take over code C; 郑州市 round 1 stays current with C too.
    # (洛阳市 round 3 shares H with 开封市 round 3: in one batch when batched.)
    _write(inbox, {"submissions/1/开封市.csv": ["D", "C"], "submissions/3/开封市.csv": ["G", "H"],
                   "submissions/3/洛阳市.csv": ["H"]})
    load()
    # Another connection loads a file meanwhile: the index must notice rows it did not see added.
    _write(inbox, {"submissions/4/洛阳市.csv": ["Z"]})
    other = duckdb.connect(str(tmp_path / name / "w.duckdb"))
    for f in discover(inbox):
        loader.load_file(other, f, "inbox", tmp_path / name / "store")
    other.close()
    _write(inbox, {"submissions/4/开封市.csv": ["Z", "Y"]})
    load()
    clear_rounds(con, [2])  # backfill: rows go, the index must notice
    _write(inbox, {"submissions/2/洛阳市.csv": ["F", "D"]})
    load()
    result = _findings(con)
    con.close()
    return result, outcomes


def test_index_gives_the_same_findings(tmp_path, monkeypatch):
    exact, exact_outcomes = _run(tmp_path, "exact", False, monkeypatch)
    indexed, indexed_outcomes = _run(tmp_path, "indexed", True, monkeypatch)
    assert indexed == exact and indexed_outcomes == exact_outcomes
    assert sum(1 for f in exact if f[3] == "code_in_two_units") >= 4


def test_index_gives_the_same_findings_in_batches(tmp_path, monkeypatch):
    exact, exact_outcomes = _run(tmp_path, "exact", False, monkeypatch, batched=True)
    indexed, indexed_outcomes = _run(tmp_path, "indexed", True, monkeypatch, batched=True)
    assert indexed == exact and indexed_outcomes == exact_outcomes
    assert sum(1 for f in exact if f[3] == "code_in_two_units") >= 5
    # Batched or not, the same findings.
    one_by_one, _ = _run(tmp_path, "one_by_one", True, monkeypatch)
    assert indexed == one_by_one


def test_segments_answer_like_a_set():
    rng = random.Random(7)
    index = code_index.CodeIndex(0)
    seen: dict[int, set[int]] = {}
    for step in range(60):
        unit = rng.randrange(1, 6)
        codes = [rng.randrange(1, 400) for _ in range(rng.randrange(0, 40))]
        arr = np.array(codes, dtype=np.uint64)
        expected = any(seen.get(c, set()) - {unit} for c in codes)
        assert index.maybe_clash(arr, np.uint64(unit)) == expected, step
        index.add(arr, np.uint64(unit), len(codes))
        for c in codes:
            seen.setdefault(c, set()).add(unit)
    assert index.entries() == len(seen) and len(index.slots) <= 4 * max(len(seen), 1 << 11)


def test_table_grows_and_collides_like_a_set():
    """Codes that share their low bits (one slot for all of them) and a table that grows many times."""
    rng = np.random.default_rng(3)
    index = code_index.CodeIndex(0)
    seen: dict[int, set[int]] = {}
    for step in range(40):
        n = int(rng.integers(0, 3000))
        codes = np.concatenate([rng.integers(0, 2**63, size=n, dtype=np.uint64),
                                (rng.integers(0, 50, size=20, dtype=np.uint64) << np.uint64(40)),
                                np.zeros(step % 2, dtype=np.uint64)])
        unit = int(rng.integers(1, 4))
        expected = any(seen.get(int(c), set()) - {unit} for c in codes)
        assert index.maybe_clash(codes, np.uint64(unit)) == expected, step
        index.add(codes, np.uint64(unit), 0)
        for c in codes:
            seen.setdefault(int(c), set()).add(unit)
    assert index.entries() == len(seen)


def test_a_batchs_first_fast_files_are_checked_together_and_the_rest_as_they_come(tmp_path, monkeypatch):
    """The first new files of a batch on the fast path are checked in another thread while their rows
    are inserted; a file read in Python (a 合计 row) and the ones after it are checked as they come.
    Clashes between all of them are found as by the exact query and as one file per transaction."""
    def run(name: str, use_index: bool, batched: bool) -> list[tuple]:
        monkeypatch.setattr(code_index, "file_may_clash", _FILE_MAY_CLASH if use_index else (lambda *a: True))
        monkeypatch.setattr(code_index, "files_may_clash",
                            _FILES_MAY_CLASH if use_index else (lambda con, files: [True] * len(files)))
        inbox = tmp_path / name / "inbox"
        _write(inbox, {"submissions/1/郑州市.csv": ["Q", "R"]})
        _write(inbox, {"submissions/5/郑州市.csv": ["A", "B"], "submissions/5/开封市.csv": ["B", "C"],
                       "submissions/5/平顶山市.csv": ["E", "Q"]})
        python_read = inbox / "submissions/5/洛阳市.csv"
        python_read.write_bytes(_csv(["C", "D"]) + "合计,,,,,,3\n".encode())
        _write(inbox, {"submissions/5/安阳市.csv": ["D", "F"]})
        con = duckdb.connect(str(tmp_path / name / "w.duckdb"))
        ensure_raw_schema(con)
        files = discover(inbox)
        if batched:
            loader.load_files(con, files[:1], "inbox", tmp_path / name / "store")
            loader.load_files(con, files[1:], "inbox", tmp_path / name / "store")
        else:
            for f in files:
                loader.load_file(con, f, "inbox", tmp_path / name / "store")
        result = _findings(con)
        con.close()
        return result

    started = []
    start = loader._Precheck.start

    def spy(*args):
        got = start(*args)
        started.append(None if got is None else sorted(got.at))
        return got
    monkeypatch.setattr(loader._Precheck, "start", spy)
    indexed = run("indexed", True, True)
    assert ["submissions/5/开封市.csv", "submissions/5/郑州市.csv"] in started
    assert indexed == run("exact", False, True) == run("one_by_one", True, False)
    clashes = {(path, detail.split()[2]) for path, _, _, finding, detail in indexed if finding == "code_in_two_units"}
    assert {("submissions/5/开封市.csv", "B"), ("submissions/5/洛阳市.csv", "C"), ("submissions/5/安阳市.csv", "D"),
            ("submissions/5/平顶山市.csv", "Q")} <= clashes


def _entries(index: code_index.CodeIndex) -> set[tuple[int, int | None]]:
    """(fingerprint, unit hash or None for several units) of every entry (unit ids are the index's own)."""
    units = {uid: unit for unit, uid in index.unit_ids.items()}
    return {(int(s) >> 16, units.get(int(s) & 0xFFFF)) for s in index.slots[index.slots != 0]}


def test_an_index_rebuilt_from_the_table_holds_what_adding_each_file_gave():
    """The rebuild groups the table's codes in SQL: one entry per code, with its unit or "several"."""
    con = duckdb.connect()
    ensure_raw_schema(con)
    rng = random.Random(5)
    files = {f"f{i}": (f"41{i % 4:02d}", [f"C{rng.randrange(400)}" for _ in range(rng.randrange(1, 60))])
             for i in range(30)}
    added = code_index.CodeIndex(0)
    for name, (unit, codes) in files.items():
        file_id = int(name[1:]) + 1
        con.execute("INSERT INTO raw.submission_files VALUES (?, ?, ?, 1, ?)", [file_id, name, name, unit])
        con.executemany("INSERT INTO raw.submission_file_rows (file_id, row_number, stage_code, project_code, "
                        "project_name, investment_yi) VALUES (?, ?, 'signed', ?, 'x', 1)",
                        [[file_id, i, c] for i, c in enumerate(codes)])
        hashes = np.asarray([h for (h,) in con.execute("SELECT hash(unnest(?))", [codes]).fetchall()], dtype=np.uint64)
        added.add(hashes, code_index.unit_hash(con, unit), len(codes))
    rows = sum(len(codes) for _, codes in files.values())
    rebuilt = code_index._rebuilt(con, rows)
    assert rebuilt.rows == added.rows == rows
    # the same entries: each code's fingerprint with its unit, or "several" for a code of two units
    assert _entries(rebuilt) == _entries(added)
    several = {c for c in {c for _, cs in files.values() for c in cs}
               if len({u for u, cs in files.values() if c in cs}) > 1}
    assert several and rebuilt.entries() == len({c for _, cs in files.values() for c in cs})
