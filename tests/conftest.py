"""Shared fixtures: an isolated workspace per test and one Prefect test API per session."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

# Before Prefect is imported anywhere: quiet, patient, and never pointing at a real server.
os.environ.update({
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_LOGGING_EXTRA_LOGGERS": "sanpi",
    # Tests call tasks' code outside flow runs too: their logs then stay local, without a warning.
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
})
os.environ.pop("PREFECT_API_URL", None)


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory):
    """A temporary Prefect API shared by the whole session (it takes ~10 s to start)."""
    os.environ["PREFECT_HOME"] = str(tmp_path_factory.mktemp("prefect_home"))
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


def workspace_env(root: Path) -> dict[str, str]:
    """Settings that put every output of a run under root."""
    return {
        "SANPI_DATA_DIR": str(root / "data"),
        "SANPI_WAREHOUSE": str(root / "data" / "warehouse.duckdb"),
        "SANPI_GX_DIR": str(root / "expectations"),
        "SANPI_DBT_TARGET": str(root / "dbt_target"),
    }


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    for key, value in workspace_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    return tmp_path


@pytest.fixture(scope="session")
def sample_build(prefect_api, tmp_path_factory):
    """One real pipeline run on the bundled sample into a temporary workspace, shared by the session."""
    from flows.pipeline import pipeline_flow

    root = tmp_path_factory.mktemp("sample_build")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in workspace_env(root).items():
            mp.setenv(key, value)
        result = pipeline_flow(source=str(REPO / "data" / "sample"))
    return {"root": root, "warehouse": root / "data" / "warehouse.duckdb", "result": result}
