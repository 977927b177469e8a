"""Loading in batches (one transaction per batch) leaves exactly what loading one file per transaction
leaves: every raw table row for row, the same outcomes, the same order of load times; a failed batch
falls back to one transaction per file."""
from __future__ import annotations

import datetime
import shutil
import threading
from pathlib import Path

import duckdb
import pytest

from sanpi.ingest import fast_csv, loader
from sanpi.ingest.inbox import discover
from sanpi.raw_schema import ensure_raw_schema
from sanpi.settings import SAMPLE_DIR
from tests.submission_corpus import CASES

TABLES = ("load_manifest", "submission_rows", "bulletins", "bulletin_figures", "bulletin_warnings",
          "submission_findings", "quarantine")
CSV_HEADER = "序号,项目代码,项目名称,所在县区,所属行业,阶段,总投资(亿元)\n"
# Passes the fast path's checks, then read_csv (strict_mode) fails on the extra field (inside a
# transaction that error would abort it).
BREAKS_READ_CSV = (CSV_HEADER + "1,X-1,甲,县,业,签约一批,1,EXTRA\n2,X-2,乙,县,业,签约一批,2\n").encode()


def _state(con, store: Path) -> dict[str, list[tuple]]:
    """Every raw table, sorted; timestamps replaced by their rank among all load times of the
    warehouse (so order and equality between them count, not the clock)."""
    con.execute("""CREATE OR REPLACE TEMP TABLE _stamps AS
                   SELECT t, dense_rank() OVER (ORDER BY t) AS r FROM (
                       SELECT loaded_at AS t FROM raw.load_manifest
                       UNION SELECT superseded_at FROM raw.load_manifest WHERE superseded_at IS NOT NULL
                       UNION SELECT quarantined_at FROM raw.quarantine)""")
    rank = "(SELECT r FROM _stamps WHERE t = {})"
    select = {
        "load_manifest": f"""SELECT * EXCLUDE (loaded_at, superseded_at, stored_path, file_stat),
                                    replace(stored_path, '{store}', '<store>'), {rank.format('loaded_at')},
                                    {rank.format('superseded_at')} FROM raw.load_manifest""",
        "quarantine": f"SELECT * EXCLUDE (quarantined_at), {rank.format('quarantined_at')} FROM raw.quarantine",
    }
    return {t: con.execute(select.get(t, f"SELECT * FROM raw.{t}") + " ORDER BY ALL").fetchall() for t in TABLES}


class Warehouse:
    def __init__(self, folder: Path, inbox: Path, batched: bool, **batch_args):
        folder.mkdir(parents=True)
        self.store, self.inbox, self.batched, self.batch_args = folder / "store", inbox, batched, batch_args
        self.con = duckdb.connect(str(folder / "w.duckdb"))
        ensure_raw_schema(self.con)
        self.outcomes: list[list[loader.LoadOutcome]] = []

    def load(self) -> None:
        files = discover(self.inbox)
        if self.batched:
            reported = []
            got = loader.load_files(self.con, files, str(self.inbox), self.store,
                                    on_outcome=lambda i, o: reported.append((i, o)), **self.batch_args)
            assert reported == list(enumerate(got, start=1))
        else:
            got = [loader.load_file(self.con, f, str(self.inbox), self.store) for f in files]
        self.outcomes.append(got)

    def state(self):
        return _state(self.con, self.store)


def _corpus_inbox(root: Path) -> dict[str, Path]:
    """The corpus, every case under its own path: most cases are 郑州市's round 13 list, so each later
    one is a new version of the same (round, unit) and supersedes the one before."""
    paths = {}
    for i, case in enumerate(CASES):
        stem, suffix = case.file_name.rsplit(".", 1)
        path = root / "submissions" / case.folder / f"{stem}_v{i + 1}.{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(case.build())
        paths[case.name] = path
    return paths


def _corpus_runs(inbox: Path, paths: dict[str, Path], load) -> None:
    load()
    first, second = paths[CASES[0].name], paths[CASES[1].name]
    original = first.read_bytes()
    # Run 2: a file changes, another unit's file arrives, one breaks DuckDB's CSV reader.
    first.write_bytes(second.read_bytes())
    (inbox / "submissions" / "13" / "开封市.csv").write_text(
        CSV_HEADER + "1,410100-R13-0001,同码项目,县,业,签约一批,3\n", encoding="utf-8")
    (inbox / "submissions" / "14").mkdir()
    (inbox / "submissions" / "14" / "洛阳市.csv").write_bytes(BREAKS_READ_CSV)
    load()
    # Run 3: the changed file goes back to what it was (the earlier version is current again).
    first.write_bytes(original)
    load()
    load()  # nothing new


@pytest.mark.parametrize("batch_args", [{}, {"max_files": 4}, {"max_files": 1}], ids=["default", "4", "1"])
def test_corpus_loads_the_same_in_batches(tmp_path, batch_args, monkeypatch):
    fallbacks = []
    load_file = loader.load_file
    monkeypatch.setattr(loader, "load_file", lambda con, f, *a: (fallbacks.append(f.rel_path), load_file(con, f, *a))[1])
    inbox = tmp_path / "inbox"
    paths = _corpus_inbox(inbox)
    batched = Warehouse(tmp_path / "batched", inbox, True, **batch_args)
    single = Warehouse(tmp_path / "single", inbox, False)

    def both():
        fallbacks.clear()
        batched.load()
        single.load()
        # read_csv runs before the batch's transaction: the file that breaks it goes to the Python
        # reader (alone, not its shape's other files) and no batch falls back.
        assert fallbacks[:-len(single.outcomes[-1])] == []
    _corpus_runs(inbox, paths, both)
    assert batched.outcomes == single.outcomes
    statuses = [o.status for run in batched.outcomes for o in run]
    assert {"loaded", "revised", "rejected", "unchanged"} <= set(statuses)
    assert [o.status for o in batched.outcomes[-1]] == ["unchanged"] * len(batched.outcomes[-1])
    state = batched.state()
    assert state == single.state()
    assert sum(1 for row in state["load_manifest"] if row[-1] is not None) >= len(CASES) // 2  # superseded
    assert any("code_in_two_units" in row for row in state["submission_findings"])


def test_bundled_sample_loads_the_same_in_batches(tmp_path):
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLE_DIR, inbox)
    batched = Warehouse(tmp_path / "batched", inbox, True, max_files=40)
    single = Warehouse(tmp_path / "single", inbox, False)
    for w in (batched, single):
        w.load()
    assert batched.outcomes == single.outcomes
    state = batched.state()
    assert state == single.state()
    assert state["bulletin_figures"] and state["submission_rows"]
    assert any(row[-1] is not None for row in state["load_manifest"])  # some version was superseded


def _crash_on(monkeypatch, rel_path: str, times: int) -> list[str]:
    """_insert_findings raises for this file the first `times` times (rows and quarantine are
    written by then; the manifest entry is not)."""
    crashes = []
    insert = loader._insert_findings

    def crash(con, f, *args):
        if f.rel_path == rel_path and len(crashes) < times:
            crashes.append(f.rel_path)
            raise RuntimeError("power cut")
        return insert(con, f, *args)
    monkeypatch.setattr(loader, "_insert_findings", crash)
    return crashes


def _assert_loads_as_one_file_per_transaction(tmp_path, inbox: Path, batched: Warehouse) -> None:
    single = Warehouse(tmp_path / "single", inbox, False)
    single.load()
    assert batched.outcomes == single.outcomes
    assert batched.state() == single.state()


def _corpus_pair(tmp_path):
    inbox = tmp_path / "inbox"
    _corpus_inbox(inbox)
    files = discover(inbox)
    return inbox, files


def test_a_crash_mid_batch_without_fallback_leaves_nothing_of_the_batch(tmp_path, monkeypatch):
    inbox, files = _corpus_pair(tmp_path)
    victim = files[6].rel_path   # in the second batch of 4
    monkeypatch.setattr(loader, "FALLBACK", False)
    crashes = _crash_on(monkeypatch, victim, times=1)
    batched = Warehouse(tmp_path / "batched", inbox, True, max_files=4)
    with pytest.raises(RuntimeError, match="power cut"):
        batched.load()
    assert crashes == [victim]
    # Exactly the first batch is there.
    reference = Warehouse(tmp_path / "reference", inbox, True, max_files=4)
    loader.load_files(reference.con, files[:4], str(inbox), reference.store)
    assert batched.state() == reference.state()
    assert len(batched.state()["load_manifest"]) == 4


def test_a_crash_once_mid_batch_is_recovered_by_the_fallback(tmp_path, monkeypatch):
    inbox, files = _corpus_pair(tmp_path)
    crashes = _crash_on(monkeypatch, files[6].rel_path, times=1)
    batched = Warehouse(tmp_path / "batched", inbox, True, max_files=4)
    batched.load()
    assert crashes == [files[6].rel_path]
    monkeypatch.undo()
    _assert_loads_as_one_file_per_transaction(tmp_path, inbox, batched)


def test_a_file_that_always_crashes_stops_where_one_file_per_transaction_stops(tmp_path, monkeypatch):
    inbox, files = _corpus_pair(tmp_path)
    victim = files[6].rel_path
    _crash_on(monkeypatch, victim, times=10**6)
    batched = Warehouse(tmp_path / "batched", inbox, True, max_files=4)
    single = Warehouse(tmp_path / "single", inbox, False)
    for w in (batched, single):
        with pytest.raises(RuntimeError, match="power cut"):
            w.load()
    state = batched.state()
    assert state == single.state()
    # The files before it in its batch are committed, nothing of it or after it.
    assert sorted(row[0] for row in state["load_manifest"]) == sorted(f.rel_path for f in files[:6])


def test_load_time_is_stored_as_now_was_in_the_connection_time_zone(tmp_path):
    inbox = tmp_path / "inbox"
    _corpus_inbox(inbox)
    files = discover(inbox)[:3]
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_raw_schema(con)
    con.execute("SET TimeZone = 'Asia/Shanghai'")  # not the machine's: a naive UTC value would be 8 h off
    clock = "SELECT CAST(get_current_timestamp() AS TIMESTAMP)"
    before = con.execute(clock).fetchone()[0]
    loader.load_files(con, files, str(inbox), tmp_path / "store")
    after = con.execute(clock).fetchone()[0]
    stamps = [t for (t,) in con.execute("SELECT loaded_at FROM raw.load_manifest ORDER BY loaded_at").fetchall()]
    assert len(stamps) == 3 and len(set(stamps)) == 3
    assert before <= stamps[0] and stamps[-1] <= after + datetime.timedelta(seconds=1)
    assert con.execute("""SELECT list(file_path ORDER BY loaded_at) FROM raw.load_manifest""").fetchone()[0] == [
        f.rel_path for f in files]


def test_later_batches_are_read_ahead_in_a_thread_and_load_the_same(tmp_path, monkeypatch):
    """The first batch's files are read, hashed, copied and shaped by two threads before anything else
    runs; while a batch is written, the next one's files in another thread. What is loaded is what one
    file per transaction loads."""
    inbox, files = _corpus_pair(tmp_path)
    threads: dict[str, str] = {}
    read = loader._read

    def spy(f, *args):
        threads[f.rel_path] = threading.current_thread().name
        return read(f, *args)
    monkeypatch.setattr(loader, "_read", spy)
    batched = Warehouse(tmp_path / "batched", inbox, True, max_files=4)
    single = Warehouse(tmp_path / "single", inbox, False)
    for w in (batched, single):
        w.load()
    assert sorted(threads) == sorted(f.rel_path for f in files)
    first = [f.rel_path for f in files[:4]]   # (max_files=4)
    assert all(threads[path].startswith("sanpi-read-first") for path in first)
    assert all(name.startswith("sanpi-read-ahead") for path, name in threads.items() if path not in first)
    assert batched.outcomes == single.outcomes
    assert batched.state() == single.state()


def test_a_file_gone_before_it_is_read_ahead_fails_as_one_file_per_transaction_fails(tmp_path, monkeypatch):
    inbox, files = _corpus_pair(tmp_path)
    victim = files[6]   # in the second batch of 4: read ahead while the first is written
    read = loader._read

    def vanish(f, *args):
        if f.rel_path == victim.rel_path:
            f.path.unlink()
        return read(f, *args)
    monkeypatch.setattr(loader, "_read", vanish)
    batched = Warehouse(tmp_path / "batched", inbox, True, max_files=4)
    with pytest.raises(FileNotFoundError, match=victim.path.name):
        batched.load()
    single = Warehouse(tmp_path / "single", inbox, False)
    with pytest.raises(FileNotFoundError, match=victim.path.name):
        for f in files:  # the list the batched load was given (the inbox has lost the victim since)
            loader.load_file(single.con, f, str(inbox), single.store)
    state = batched.state()
    assert state == single.state()
    assert sorted(row[0] for row in state["load_manifest"]) == sorted(f.rel_path for f in files[:6])


def test_a_list_naming_a_path_twice_loads_it_once(tmp_path):
    """Read ahead only when every path is named once (earlier loads are looked up once for all);
    otherwise as it comes: the second time the file is unchanged."""
    inbox, files = _corpus_pair(tmp_path)
    twice = files[:5] + files[2:3]
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_raw_schema(con)
    got = loader.load_files(con, twice, str(inbox), tmp_path / "store", max_files=2)
    single = duckdb.connect(str(tmp_path / "single.duckdb"))
    ensure_raw_schema(single)
    expected = [loader.load_file(single, f, str(inbox), tmp_path / "single_store") for f in twice]
    assert got == expected and got[-1].status == "unchanged"
    assert _state(con, tmp_path / "store") == _state(single, tmp_path / "single_store")


def test_threads_storing_the_same_bytes_at_once_leave_one_whole_copy(tmp_path):
    """The first batch is read by two threads, and a later batch's files while a batch is written: the same
    bytes under two paths are stored by two threads at once."""
    import hashlib
    from concurrent.futures import ThreadPoolExecutor

    data = "序号,项目名称,总投资(亿元)\n".encode() + b"1,x,2.5\n" * 2_000_000
    sha = hashlib.sha256(data).hexdigest()
    start = threading.Barrier(4)

    def store(_):
        start.wait()
        return loader.store_raw_bytes(data, sha, ".csv", tmp_path)
    with ThreadPoolExecutor(max_workers=4) as pool:
        stored = set(pool.map(store, range(4)))
    assert len(stored) == 1
    target = stored.pop()
    assert target.read_bytes() == data
    assert [p.name for p in target.parent.iterdir()] == [target.name]   # no part file left behind


def test_a_batch_whose_staging_fails_in_the_other_thread_loads_the_same(tmp_path, monkeypatch):
    """The next batch is staged (begun, typed, checked) in another thread on a second connection; when that
    fails, the batch is staged again in turn, and load times still follow the files' order."""
    inbox, files = _corpus_pair(tmp_path)
    failed = []
    prepare = fast_csv.prepare

    def flaky(con, *args, **kwargs):
        if threading.current_thread().name.startswith("sanpi-read-ahead") and not failed:
            failed.append(threading.current_thread().name)
            raise OSError("disk hiccup")
        return prepare(con, *args, **kwargs)
    monkeypatch.setattr(fast_csv, "prepare", flaky)
    batched = Warehouse(tmp_path / "batched", inbox, True, max_files=4)
    batched.load()
    assert failed
    monkeypatch.undo()
    _assert_loads_as_one_file_per_transaction(tmp_path, inbox, batched)


def test_duckdb_runs_one_thread_per_statement_while_the_next_batch_is_staged(tmp_path, monkeypatch):
    """Each batch's insert but the last runs while the next batch is typed on the second connection:
    DuckDB is held to one thread then; the last insert gets the database's own setting back, and so does
    the connection afterwards (also when a batch fails and falls back)."""
    inbox, files = _corpus_pair(tmp_path)
    seen: dict[str, set[int]] = {}   # per typed table (one a batch here): the settings its inserts saw
    insert = fast_csv.insert

    def spy(con, prepared):
        setting = con.execute("SELECT current_setting('threads')").fetchone()[0]
        seen.setdefault(prepared.group.table, set()).add(setting)
        return insert(con, prepared)
    monkeypatch.setattr(fast_csv, "insert", spy)
    batched = Warehouse(tmp_path / "batched", inbox, True, max_files=4)
    default = batched.con.execute("SELECT current_setting('threads')").fetchone()[0]
    batched.con.execute(f"SET threads = {default + 1}")   # (what a user's setting would be)
    batched.load()
    batches = list(seen.values())
    assert len(files) > 8 and len(batches) > 2
    assert all(s == {1} for s in batches[:-1]) and batches[-1] == {default + 1}
    assert batched.con.execute("SELECT current_setting('threads')").fetchone()[0] == default + 1
    crashes = _crash_on(monkeypatch, files[5].rel_path, 1)
    shutil.copytree(inbox, tmp_path / "again")
    again = Warehouse(tmp_path / "again_w", tmp_path / "again", True, max_files=4)
    again.load()
    assert crashes
    assert again.con.execute("SELECT current_setting('threads')").fetchone()[0] == default
