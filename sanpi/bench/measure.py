"""Run one measured thing in a child process: wall time, and peak memory from wait4().

Peak memory is ru_maxrss of the child as the kernel reports it on wait4(): the largest resident set
of the child or of any descendant it waited for (for `sanpi run`, the Prefect server it starts).
A sampler also sums the resident sets of the whole process tree every 0.2 s, for stages whose tree
holds several large processes at once.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sanpi.settings import QUIET_TELEMETRY, REPO_ROOT


class StageFailed(RuntimeError):
    pass


@dataclass
class Measurement:
    name: str
    wall_s: float                 # the whole child process, start-up included
    seconds: float                # the stage's own timing (child.py), or wall_s for commands
    peak_rss_mb: float
    tree_rss_mb: float
    returncode: int
    result: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"name": self.name, "seconds": round(self.seconds, 3), "wall_s": round(self.wall_s, 3),
                "peak_rss_mb": round(self.peak_rss_mb, 1), "tree_rss_mb": round(self.tree_rss_mb, 1),
                "returncode": self.returncode,
                **{k: v for k, v in self.result.items() if k != "seconds"}}


def workspace_env(root: Path, prefect_home: Path) -> dict[str, str]:
    """An environment whose every sanpi output lives under root (never data/warehouse.duckdb)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SANPI_", "PREFECT_API_"))}
    env.update(QUIET_TELEMETRY)
    env.update({
        "SANPI_DATA_DIR": str(root / "data"),
        "SANPI_WAREHOUSE": str(root / "data" / "warehouse.duckdb"),
        "SANPI_PUBLISHED": str(root / "data" / "published" / "warehouse.duckdb"),
        "SANPI_GX_DIR": str(root / "gx"),
        "SANPI_DBT_TARGET": str(root / "dbt_target"),
        "SANPI_LOCK_WAIT": "5",
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p),
    })
    return env


def _tree_rss_kb(pid: int) -> int:
    """Resident set of pid and all its descendants, from /proc (Linux; 0 elsewhere)."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return 0
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo += children.get(p, [])
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
        except (OSError, ValueError, IndexError):
            continue
    return total


def settle_page_cache(work: Path, inputs: Path, keep: tuple[Path, ...] = ()) -> int:
    """Before a measured run, outside its time: what earlier stages wrote under `work` (warehouses, raw
    copies, other sizes' inboxes) dropped from the kernel's page cache, and the files under `inputs`
    read into it, so that each run starts with its inputs cached and memory free whatever ran before.
    (After the stages before it had filled 20 of the 24 GB with cache, the 10^7 ingest ran 12.6-14.9 s
    against 12.1 s alone: its raw copies and commits waited for the kernel to reclaim memory; the bare
    read_csv, which writes less, much less.) Python, the libraries and the folders in `keep` (e.g.
    PREFECT_HOME) stay cached. Returns the bytes of the files dropped."""
    os.sync()   # (only clean pages can be dropped)
    inputs, dropped = inputs.resolve(), 0
    kept = (inputs, *(k.resolve() for k in keep))
    for path in work.resolve().rglob("*"):
        if path.is_file() and not path.is_symlink() and not any(path.is_relative_to(k) for k in kept):
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                continue
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                dropped += os.fstat(fd).st_size
            finally:
                os.close(fd)
    for path in sorted(inputs.rglob("*")):
        if path.is_file():
            with open(path, "rb") as f:
                while f.read(1 << 22):
                    pass
    return dropped


def run_measured(name: str, argv: list[str], env: dict[str, str], log: Path, result_file: Path | None = None,
                 check: bool = True, timeout: float | None = None) -> Measurement:
    """Run argv as a child; wait4() for its rusage; read the stage's JSON result if it wrote one."""
    log.parent.mkdir(parents=True, exist_ok=True)
    peak_tree = [0]
    # Earlier stages' writes still waiting for the disk would be written back while this one runs and
    # compete with its own writes and commits (seconds at 10^7 after the history scenarios): flushed
    # first, outside the measured time.
    if hasattr(os, "sync"):
        os.sync()
    started = time.perf_counter()
    with open(log, "ab") as out:
        out.write(f"\n$ {' '.join(argv)}\n".encode())
        out.flush()
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=str(REPO_ROOT))
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.2):
                peak_tree[0] = max(peak_tree[0], _tree_rss_kb(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        deadline = None if timeout is None else started + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if deadline and time.perf_counter() > deadline:
                proc.kill()
            time.sleep(0.05)
        stop.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    # ru_maxrss is in kilobytes on Linux (bytes on macOS).
    peak_mb = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    result: dict = {}
    if result_file is not None and result_file.exists():
        result = json.loads(result_file.read_text(encoding="utf-8"))
    if check and (proc.returncode != 0 or (result_file is not None and not result)):
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise StageFailed(f"{name} failed (exit {proc.returncode}); log {log}:\n{tail}")
    return Measurement(name, wall, float(result.get("seconds", wall)), peak_mb,
                       max(peak_tree[0] / 1024, peak_mb), proc.returncode, result)


def run_stage(name: str, stage: str, args: dict, env: dict[str, str], log: Path, check: bool = True) -> Measurement:
    """One function of sanpi/bench/child.py in a fresh interpreter."""
    with tempfile.TemporaryDirectory(prefix="sanpi-bench-") as tmp:
        result_file = Path(tmp) / "result.json"
        argv = [sys.executable, "-m", "sanpi.bench.child", stage, json.dumps(args), str(result_file)]
        return run_measured(name, argv, env, log, result_file, check)


def run_sanpi(name: str, args: list[str], env: dict[str, str], log: Path, check: bool = True) -> Measurement:
    """A `sanpi ...` command, exactly as a user runs it (the console script's module)."""
    return run_measured(name, [sys.executable, "-m", "sanpi.cli", *args], env, log, None, check)
