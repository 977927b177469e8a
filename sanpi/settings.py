"""Settings from environment variables, with defaults relative to the repository root.

SANPI_DATA_DIR   data folder (raw file store, sample data)        default: <repo>/data
SANPI_WAREHOUSE  DuckDB warehouse file                            default: <repo>/data/warehouse.duckdb
SANPI_GX_DIR     Great Expectations project root                  default: <repo>/expectations
SANPI_DBT_TARGET dbt target folder (artifacts, docs site)         default: <repo>/dbt_project/target
SANPI_PUBLISHED  read-only copy for analysts, swapped in after each build
                                                                  default: <data dir>/published/warehouse.duckdb
SANPI_LOCK_WAIT  seconds a run waits for another run writing the warehouse   default: 600
SANPI_HTTP_TIMEOUT      seconds before an HTTP source request gives up     default: 30
SANPI_HTTP_RETRIES      retries of a failed HTTP pull                      default: 3
SANPI_HTTP_RETRY_DELAY  seconds between those retries                      default: 5
SANPI_DUCKDB_MEMORY_LIMIT  memory DuckDB may use per connection before it spills to disk
                           (loader, dbt, GX)                               default: 1200MB
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
SAMPLE_DIR = REPO_ROOT / "data" / "sample"

# Each tool phones home unless told not to; offline that only adds delay and noise.
QUIET_TELEMETRY = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
}


def _path(var: str, default: Path) -> Path:
    value = os.environ.get(var)
    return Path(value).expanduser().resolve() if value else default


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    warehouse: Path
    gx_dir: Path
    dbt_target: Path
    published: Path = Path("warehouse.duckdb")
    lock_wait: float = 600.0
    http_timeout: float = 30.0
    http_retries: int = 3
    http_retry_delay: float = 5.0

    @property
    def raw_store(self) -> Path:
        """Content-addressed copies of every file ever loaded (so any load can be replayed)."""
        return self.data_dir / "raw_files"

    @property
    def dbt_docs_index(self) -> Path:
        return self.dbt_target / "index.html"

    @property
    def dbt_docs_static(self) -> Path:
        return self.dbt_target / "static_index.html"

    @property
    def gx_docs_index(self) -> Path:
        return self.gx_dir / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


def get_settings() -> Settings:
    data_dir = _path("SANPI_DATA_DIR", REPO_ROOT / "data")
    return Settings(
        data_dir=data_dir,
        warehouse=_path("SANPI_WAREHOUSE", data_dir / "warehouse.duckdb"),
        gx_dir=_path("SANPI_GX_DIR", REPO_ROOT / "expectations"),
        dbt_target=_path("SANPI_DBT_TARGET", DBT_PROJECT_DIR / "target"),
        published=_path("SANPI_PUBLISHED", data_dir / "published" / "warehouse.duckdb"),
        lock_wait=float(os.environ.get("SANPI_LOCK_WAIT", 600)),
        http_timeout=float(os.environ.get("SANPI_HTTP_TIMEOUT", 30)),
        http_retries=int(os.environ.get("SANPI_HTTP_RETRIES", 3)),
        http_retry_delay=float(os.environ.get("SANPI_HTTP_RETRY_DELAY", 5)),
    )


DEFAULT_DUCKDB_MEMORY_LIMIT = "1200MB"


def duckdb_memory_limit() -> str:
    """DuckDB takes 80% of RAM by default; capped, it spills to disk instead (2 GB peak target)."""
    return os.environ.get("SANPI_DUCKDB_MEMORY_LIMIT", DEFAULT_DUCKDB_MEMORY_LIMIT)


def duckdb_config() -> dict[str, str]:
    """`config=` for every writing or heavy `duckdb.connect` of the pipeline."""
    return {"memory_limit": duckdb_memory_limit()}


def quiet_telemetry() -> None:
    for key, value in QUIET_TELEMETRY.items():
        os.environ.setdefault(key, value)
