"""Running unattended: one writer at a time (real processes), scheduled deployments on a real
`prefect server` on 127.0.0.1."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REPO, workspace_env

BIN = Path(sys.executable).parent
SAMPLE = REPO / "data" / "sample"


def small_inbox(root: Path, rounds=(13,)) -> Path:
    """A copy of a few rounds of the sample: quick to load, still real files."""
    inbox = root / "inbox"
    (inbox / "bulletins").mkdir(parents=True)
    for r in rounds:
        shutil.copytree(SAMPLE / "submissions" / str(r), inbox / "submissions" / str(r))
        shutil.copy(SAMPLE / "bulletins" / f"round_{r:02d}.json", inbox / "bulletins")
    return inbox


def process_env(root: Path, prefect_home: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SANPI_"))}
    env.update(workspace_env(root))
    env.update({"PREFECT_HOME": str(prefect_home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180", **extra})
    return env


def test_a_second_writer_gives_up_with_a_clear_message(tmp_path):
    inbox = small_inbox(tmp_path)
    env = process_env(tmp_path, tmp_path / "ph", SANPI_LOCK_WAIT="0")
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom pathlib import Path\nfrom sanpi.lock import warehouse_lock\n"
         f"with warehouse_lock(Path({str(warehouse)!r}), 'a long run', 0):\n"
         "    print('holding', flush=True)\n    time.sleep(120)"],
        stdout=subprocess.PIPE, text=True, env=env, cwd=REPO)
    try:
        assert holder.stdout.readline().strip() == "holding"
        second = subprocess.run([str(BIN / "sanpi"), "ingest", "--source", str(inbox)],
                                capture_output=True, text=True, env=env, timeout=300)
    finally:
        holder.kill()
        holder.wait()
    assert second.returncode == 3, second.stderr[-2000:]
    assert f"being written by pid {holder.pid} (a long run" in second.stderr
    assert not warehouse.exists() or duckdb.connect(str(warehouse), read_only=True).sql(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw'").fetchall() == [(0,)]


def test_two_runs_started_together_take_turns(tmp_path):
    inbox = small_inbox(tmp_path, rounds=(12, 13))
    runs = [subprocess.Popen([str(BIN / "sanpi"), "ingest", "--source", str(inbox)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=process_env(tmp_path, tmp_path / f"ph{i}"))
            for i in range(2)]
    results = [(p.wait(timeout=400), p.stdout.read(), p.stderr.read()) for p in runs]
    assert [rc for rc, _, _ in results] == [0, 0], [err[-2000:] for _, _, err in results]
    summaries = sorted(out.strip().splitlines()[-1] for _, out, _ in results)
    files = len(list(inbox.rglob("*.*")))
    assert summaries[0].startswith(f"sanpi ingest: {files} files ({files} loaded)")
    assert summaries[1].startswith(f"sanpi ingest: {files} files ({files} unchanged)")
    with duckdb.connect(str(tmp_path / "data" / "warehouse.duckdb"), read_only=True) as con:
        assert con.sql("SELECT count(*), count(DISTINCT sha256) FROM raw.load_manifest").fetchall() == [(files, files)]
        rows = con.sql("SELECT count(*) FROM raw.submission_rows").fetchall()[0][0]
        assert rows == con.sql("SELECT sum(rows_loaded) FROM raw.load_manifest WHERE kind = 'submission'").fetchall()[0][0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise AssertionError(f"prefect server at {url} did not become healthy in {seconds} s")


@pytest.fixture
def prefect_server(tmp_path):
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = process_env(tmp_path, tmp_path / "server_home", PREFECT_UI_ENABLED="false")
    server = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        _wait_healthy(url, 120)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=60)


def test_deployments_are_scheduled_and_run_on_demand(prefect_server, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    inbox = small_inbox(tmp_path)
    env = process_env(tmp_path, tmp_path / "serve_home", PREFECT_API_URL=prefect_server)
    serving = subprocess.Popen([str(BIN / "sanpi"), "serve", "--source", str(inbox)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        with temporary_settings(updates={PREFECT_API_URL: prefect_server}):
            with get_client(sync_client=True) as client:
                deadline = time.monotonic() + 120
                daily = None
                while daily is None and time.monotonic() < deadline:
                    try:
                        daily = client.read_deployment_by_name("sanpi-pipeline/sanpi-daily")
                    except Exception:
                        time.sleep(1)
                assert daily is not None, "the daily deployment was not registered"
                [schedule] = daily.schedules
                assert (schedule.schedule.cron, schedule.schedule.timezone, schedule.active) == \
                    ("0 7 * * *", "Asia/Shanghai", True)
                scheduled = []
                while not scheduled and time.monotonic() < deadline:  # the scheduler service creates them
                    scheduled = client.read_flow_runs(
                        deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[daily.id])))
                    time.sleep(1)
                assert scheduled and all(r.state.is_scheduled() for r in scheduled)
                starts = {r.expected_start_time.astimezone().astimezone(__import__("zoneinfo").ZoneInfo(
                    "Asia/Shanghai")).strftime("%H:%M") for r in scheduled}
                assert starts == {"07:00"}

            run = run_deployment("sanpi-pipeline/sanpi-on-demand", timeout=600)
            assert run.state.is_completed(), run.state
        with duckdb.connect(str(tmp_path / "data" / "published" / "warehouse.duckdb"), read_only=True) as con:
            assert con.sql("SELECT count(*) FROM marts.fct_bulletin_total WHERE round_no = 13").fetchall() == [(3,)]
    finally:
        serving.send_signal(signal.SIGINT)
        try:
            serving.wait(timeout=60)
        except subprocess.TimeoutExpired:
            serving.kill()
    with temporary_settings(updates={PREFECT_API_URL: prefect_server}):
        with get_client(sync_client=True) as client:
            daily = client.read_deployment_by_name("sanpi-pipeline/sanpi-daily")
            assert not daily.paused and daily.schedules[0].active  # stopping serve did not pause it
