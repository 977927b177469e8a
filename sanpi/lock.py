"""One writer at a time: an exclusive lock next to the warehouse file, held for a whole run.

DuckDB itself allows one writing process per file and fails the second with 'Could not set lock';
this lock makes the second run wait its turn (or give up after a while) with a message that says who
holds the warehouse, instead of failing half-way.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

log = logging.getLogger("sanpi.lock")
_held: set[Path] = set()  # locks this process holds: a subflow inside a locked run does not wait for itself


class WarehouseBusyError(RuntimeError):
    pass


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        return f"pid {info['pid']} ({info['what']}, since {info['since']})"
    except (OSError, ValueError, KeyError):
        return "another process"


@contextmanager
def warehouse_lock(warehouse: Path, what: str, wait_seconds: float, poll_seconds: float = 0.5):
    """Hold the warehouse's writer lock; wait up to wait_seconds for it, then raise WarehouseBusyError."""
    path = lock_path(warehouse).resolve()
    if path in _held:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as handle:
        deadline = time.monotonic() + wait_seconds
        announced = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseBusyError(
                        f"{warehouse} is being written by {_holder(path)}; gave up after waiting "
                        f"{wait_seconds:g} s (SANPI_LOCK_WAIT). Try again when that run has finished.") from None
                if not announced:
                    log.warning("%s is being written by %s: waiting up to %g s", warehouse, _holder(path), wait_seconds)
                    announced = True
                time.sleep(poll_seconds)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "what": what,
                                 "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}))
        handle.flush()
        _held.add(path)
        try:
            yield
        finally:
            _held.discard(path)
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)
