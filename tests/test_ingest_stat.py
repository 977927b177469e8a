"""A rerun does not read a file whose stat (size, times, inode, device) is what its latest load kept,
unless the file had changed too recently then to trust the stat; any other file is read and hashed as
before. The same outcomes either way."""
from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb
import pytest

from sanpi.ingest import inbox as inbox_module
from sanpi.ingest import loader
from sanpi.ingest.inbox import discover
from sanpi.raw_schema import ensure_raw_schema

HEADER = "序号,项目代码,项目名称,所在县区,所属行业,阶段,总投资(亿元)\n"


def _csv(code: str, amount: str = "1.5") -> bytes:
    return (HEADER + f"1,{code},项目{code},县,行业,签约一批,{amount}\n").encode()


@pytest.fixture
def setup(tmp_path, monkeypatch):
    root = tmp_path / "inbox"
    for unit, code in (("郑州市", "A-1"), ("开封市", "B-1"), ("洛阳市", "C-1")):
        path = root / "submissions" / "1" / f"{unit}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_csv(code))
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_raw_schema(con)
    reads: list[str] = []
    read_bytes = Path.read_bytes

    def spy(path):
        if root in path.parents:
            reads.append(path.name)
        return read_bytes(path)
    monkeypatch.setattr(Path, "read_bytes", spy)
    later = {"ns": 0}   # how far the loader's clock is ahead of the file system's
    real_time_ns = time.time_ns
    monkeypatch.setattr(inbox_module.time, "time_ns", lambda: real_time_ns() + later["ns"])

    def load(batched: bool = True) -> list[str]:
        reads.clear()
        files = discover(root)
        if batched:
            got = loader.load_files(con, files, str(root), tmp_path / "store", max_files=2)
        else:
            got = [loader.load_file(con, f, str(root), tmp_path / "store") for f in files]
        return [o.status for o in got]
    return root, con, reads, later, load


@pytest.mark.parametrize("batched", [True, False], ids=["batches", "one by one"])
def test_a_settled_file_is_not_read_again_and_a_recent_one_is(setup, batched):
    root, con, reads, later, load = setup
    assert load(batched) == ["loaded"] * 3
    # Written a moment ago: too recent to trust, so no stat was kept and the rerun reads them all.
    assert con.execute("SELECT count(file_stat) FROM raw.load_manifest").fetchone()[0] == 0
    assert load(batched) == ["unchanged"] * 3 and len(reads) == 3
    # Once they have settled (the clock 10 s on), the rerun reads them and keeps their stats...
    later["ns"] = 10_000_000_000
    assert load(batched) == ["unchanged"] * 3 and len(reads) == 3
    assert con.execute("SELECT count(file_stat) FROM raw.load_manifest").fetchone()[0] == 3
    # ... and the next one reads none of them.
    assert load(batched) == ["unchanged"] * 3 and reads == []


@pytest.mark.parametrize("batched", [True, False], ids=["batches", "one by one"])
def test_a_change_that_keeps_size_and_mtime_is_still_seen(setup, batched):
    """Same size, mtime put back: the ctime moved (no one can set it back), so the file is read."""
    root, con, reads, later, load = setup
    later["ns"] = 10_000_000_000
    load(batched)
    victim = root / "submissions" / "1" / "开封市.csv"
    before = victim.stat()
    time.sleep(0.05)   # past the file system clock's tick
    victim.write_bytes(_csv("B-1", "2.5"))
    os.utime(victim, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert victim.stat().st_size == before.st_size and victim.stat().st_mtime_ns == before.st_mtime_ns
    assert load(batched) == ["unchanged", "revised", "unchanged"] and reads == ["开封市.csv"]
    assert con.execute("""SELECT investment_yi FROM raw.submission_rows r JOIN raw.load_manifest m
                          ON m.sha256 = r.file_sha256 AND m.file_path = r.file_path
                          WHERE m.superseded_at IS NULL AND r.city_code = '410200'""").fetchone()[0] == 2.5


def test_a_touched_file_is_read_once_then_trusted_again(setup):
    root, con, reads, later, load = setup
    later["ns"] = 10_000_000_000
    load()
    victim = root / "submissions" / "1" / "洛阳市.csv"
    os.utime(victim, ns=(time.time_ns(), time.time_ns() + 1_000_000_000))
    assert load() == ["unchanged"] * 3 and reads == ["洛阳市.csv"]
    assert load() == ["unchanged"] * 3 and reads == []


def test_a_file_changed_back_keeps_its_new_stat(setup):
    """A file that changes and changes back is the earlier version again (reinstated), with the
    stat it has now: the next run does not read it."""
    root, con, reads, later, load = setup
    later["ns"] = 10_000_000_000
    load()
    victim = root / "submissions" / "1" / "郑州市.csv"
    original = victim.read_bytes()
    victim.write_bytes(_csv("A-1", "9"))
    assert load()[0] == "revised"
    victim.write_bytes(original)
    assert load()[0] == "revised"
    assert load() == ["unchanged"] * 3 and reads == []
