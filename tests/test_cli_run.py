"""`sanpi run` as a user types it: no Prefect server configured, so the command starts a temporary
Prefect API itself (sanpi/prefect_api.py) and the pipeline is a real flow run recorded there."""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, workspace_env

SAMPLE = REPO / "data" / "sample"
SANPI = Path(sys.executable).parent / "sanpi"


def _tiny_inbox(root: Path) -> Path:
    """Rounds 1 and 2 of the bundled sample: a complete campaign, small enough to build quickly."""
    inbox = root / "inbox"
    for round_no in (1, 2):
        shutil.copytree(SAMPLE / "submissions" / str(round_no), inbox / "submissions" / str(round_no))
        (inbox / "bulletins").mkdir(parents=True, exist_ok=True)
        for bulletin in (SAMPLE / "bulletins").glob(f"round_{round_no:02d}.*"):
            shutil.copy2(bulletin, inbox / "bulletins" / bulletin.name)
    return inbox


def _processes_with(home: Path) -> list[int]:
    """Live processes whose environment names this PREFECT_HOME (i.e. a server left behind)."""
    needle = f"PREFECT_HOME={home}".encode()
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) != os.getpid():
            try:
                if needle in (proc / "environ").read_bytes().split(b"\0"):
                    pids.append(int(proc.name))
            except OSError:
                continue
    return pids


def _flow_runs(home: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(home / "prefect.db") as db:
        return db.execute("""SELECT f.name, r.state_type FROM flow_run r JOIN flow f ON f.id = r.flow_id
                             ORDER BY r.start_time""").fetchall()


def _logged(home: Path, text: str) -> bool:
    with sqlite3.connect(home / "prefect.db") as db:
        return db.execute("SELECT count(*) FROM log WHERE message LIKE ?", (f"%{text}%",)).fetchone()[0] > 0


def test_sanpi_run_records_a_real_flow_run_and_regenerates_docs_only_when_the_project_changes(tmp_path):
    inbox = _tiny_inbox(tmp_path)
    home = tmp_path / "prefect_home"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(workspace_env(tmp_path), PREFECT_HOME=str(home))

    first = subprocess.run([str(SANPI), "run", "--source", str(inbox)], capture_output=True, text=True,
                           env=env, timeout=600)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "All checks passed" in first.stdout
    # Our server, not Prefect's own one started late (it logs this line when it starts).
    assert "Starting temporary server" not in first.stdout + first.stderr
    assert "View at http" not in first.stdout + first.stderr  # no links to a UI that is not there
    assert ("sanpi-pipeline", "COMPLETED") in _flow_runs(home)
    assert ("sanpi-ingest", "COMPLETED") in _flow_runs(home)
    assert _logged(home, "Ingest done") and _logged(home, "All checks passed")  # sent before it stopped
    with sqlite3.connect(home / "prefect.db") as db:  # and the events it held were written
        assert db.execute("SELECT count(*) FROM events WHERE event = 'prefect.flow-run.Completed'").fetchone()[0] >= 2
        # No heartbeats for a server that ends with the command (each flow's end waited up to 1 s for them).
        assert db.execute("SELECT count(*) FROM events WHERE event = 'prefect.flow-run.heartbeat'").fetchone()[0] == 0
    assert _processes_with(home) == []  # and it was stopped
    static = tmp_path / "dbt_target" / "static_index.html"
    assert static.exists()
    generated = static.stat().st_mtime_ns

    # A corrected file: the warehouse is rebuilt, the docs site (same dbt project) is kept.
    victim = next((inbox / "submissions" / "2").glob("*.csv"))
    victim.write_bytes(victim.read_bytes() + b"\n")
    second = subprocess.run([str(SANPI), "run", "--source", str(inbox)], capture_output=True, text=True,
                            env=env, timeout=600)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert [state for name, state in _flow_runs(home) if name == "sanpi-pipeline"] == ["COMPLETED", "COMPLETED"]
    assert _logged(home, "dbt docs are up to date")
    assert static.stat().st_mtime_ns == generated


def test_a_temporary_api_that_cannot_start_is_reported_with_its_error(tmp_path, monkeypatch):
    from sanpi.prefect_api import PrefectApiError, start_temporary_api, wait_for_api

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "home"))
    # A database in a folder that does not exist: the server fails while it starts.
    monkeypatch.setenv("PREFECT_API_DATABASE_CONNECTION_URL",
                       f"sqlite+aiosqlite:///{tmp_path}/missing/folder/prefect.db")
    api = start_temporary_api()
    assert api is not None and os.environ["PREFECT_API_URL"] == api.url
    with pytest.raises(PrefectApiError, match="exited with code"):
        wait_for_api(api)
    api.stop()


def test_a_configured_server_is_used_as_is(monkeypatch):
    from sanpi.prefect_api import start_temporary_api

    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    assert start_temporary_api() is None
    assert os.environ["PREFECT_API_URL"] == "http://127.0.0.1:4200/api"
