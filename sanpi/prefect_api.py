"""A temporary local Prefect API for one `sanpi run`, started at once, in the background.

With no `PREFECT_API_URL`, Prefect starts its own temporary API when the flow begins and waits for it
(≈ 6 s on an idle machine, more under load; STACK.md), after our imports and the inbox check. Starting the same
server ourselves as the command starts lets it boot on the other core while Python imports dbt, GX and
Prefect: the flow then runs against it as against any server, so runs are real and recorded in
PREFECT_HOME's database as before. A configured `PREFECT_API_URL` (e.g. `sanpi serve`) is used as is.
"""
from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request


class PrefectApiError(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TemporaryPrefectApi:
    """`uvicorn prefect.server.api.server:create_app` on 127.0.0.1, as Prefect's own temporary API runs it
    (UI off, ephemeral services only), stopped when the command exits."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        # The server's errors go to a file, shown only if it does not come up.
        self._stderr = tempfile.TemporaryFile()
        env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1",
               "PREFECT__SERVER_FINAL": "1"}
        env.pop("PREFECT_API_URL", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "error", "--lifespan", "on",
             # The client's event websocket may still be open at exit: do not wait for it.
             "--timeout-graceful-shutdown", "1"],
            env=env, stdout=subprocess.DEVNULL, stderr=self._stderr)
        self._ready = False

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self._ready:
            if self.process.poll() is not None:
                raise PrefectApiError(f"the temporary Prefect API exited with code {self.process.returncode}: "
                                      f"{self._server_errors()}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:
                    self._ready = response.status == 200
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if not self._ready:
                if time.monotonic() > deadline:
                    self.stop()
                    raise PrefectApiError(f"the temporary Prefect API on {self.url} did not answer within "
                                          f"{timeout:.0f} s (PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS)"
                                          f": {self._server_errors()}")
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            _send_pending_logs_and_events()
            # SIGINT: uvicorn's clean shutdown (the server writes the events it still holds).
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def _server_errors(self) -> str:
        self._stderr.seek(0)
        text = self._stderr.read().decode("utf-8", "replace").strip()
        return text[-2000:] or "(no output)"


def _send_pending_logs_and_events() -> None:
    """Run logs and events are sent by background workers; at exit Prefect flushes them after the
    handlers registered at import time (logging's), i.e. after this server would be gone."""
    if "prefect.logging.handlers" in sys.modules:
        from prefect.events.worker import EventsWorker
        from prefect.logging.handlers import APILogWorker

        APILogWorker.drain_all(timeout=10)
        EventsWorker.drain_all(timeout=10)


def start_temporary_api() -> TemporaryPrefectApi | None:
    """Start the temporary API unless a server is configured or ephemeral mode is switched off; point
    this process's Prefect client at it. Call before Prefect is imported."""
    if os.environ.get("PREFECT_API_URL") or os.environ.get(
            "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE", "true").lower() in ("0", "false", "no"):
        return None
    api = TemporaryPrefectApi()
    atexit.register(api.stop)  # registered before Prefect's exit handlers, so it runs after them
    os.environ["PREFECT_API_URL"] = api.url
    # No UI is served and the API is gone after the run: no "View at http://…" links to nowhere.
    os.environ.setdefault("PREFECT_UI_URL", "")
    return api


def heartbeats_off():
    """A context in which flow runs send no heartbeats. Heartbeats tell a lasting server that a run is
    alive (it marks runs that go quiet as crashed); a temporary API ends with the command, so no one is
    there to act on them, and at each flow's end Prefect waits for the heartbeat thread to wake from its
    one-second sleep: 0-1 s, twice a run (pipeline and ingest), at random."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    return temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None})


def wait_for_api(api: TemporaryPrefectApi | None) -> None:
    if api is not None:
        api.wait_ready(float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", 120)))
