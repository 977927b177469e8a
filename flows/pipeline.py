"""The sanpi pipeline: ingest -> build -> validate -> docs -> publish.

One run writes the warehouse at a time (a lock next to the file). A run with nothing new says so and
stops after ingest. A reconciliation failure fails the flow run, but only after the warehouse is built,
documented and published, so the gap can be queried and read.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone

import duckdb
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from flows.ingest import IngestSummary, ingest_flow
from sanpi.lock import warehouse_lock
from sanpi.publish import publish_copy
from sanpi.runs import build_fingerprint, last_run, mark_run_failed, record_run
from sanpi.settings import get_settings
from sanpi.transform import DbtError, DbtOutcome, run_dbt
from sanpi.validate.runner import ValidationReport, describe_failures, describe_gaps, run_validation


class DataQualityError(RuntimeError):
    """The warehouse was built, but its data failed validation (e.g. city sums ≠ provincial totals)."""


@dataclass(frozen=True)
class PipelineResult:
    ingest: IngestSummary
    build: DbtOutcome | None          # None when there was nothing new to build
    validation: ValidationReport | None

    @property
    def nothing_new(self) -> bool:
        return self.build is None


@task(cache_policy=NO_CACHE)
def build_warehouse() -> DbtOutcome:
    """dbt seed + run + test, staging -> intermediate -> marts."""
    outcome = run_dbt(get_settings(), "build")
    if not outcome.success:
        raise DbtError("dbt build failed:\n  " + "\n  ".join(outcome.failures or ["see dbt log"]))
    return outcome


@task(cache_policy=NO_CACHE)
def validate_warehouse(run_id: str) -> ValidationReport:
    return run_validation(get_settings(), run_id)


@task(cache_policy=NO_CACHE)
def generate_docs(fingerprint: str) -> DbtOutcome | None:
    """The dbt docs site: index.html (served) and static_index.html (opens from file://).

    The catalog holds names, types and descriptions, no row counts (dbt-duckdb gathers no table
    statistics), so the site only changes with the dbt project: it is regenerated when the build
    fingerprint changes. The build has just compiled every node: no second compilation."""
    settings = get_settings()
    stamp = settings.dbt_target / "sanpi_docs.json"
    wanted = {"build_fingerprint": fingerprint, "warehouse": str(settings.warehouse)}
    if (settings.dbt_docs_index.exists() and settings.dbt_docs_static.exists() and stamp.exists()
            and json.loads(stamp.read_text()) == wanted):
        get_run_logger().info("dbt docs are up to date (same dbt project): %s", settings.dbt_docs_static)
        return None
    outcome = run_dbt(settings, "docs", "generate", "--static", "--no-compile")
    if not outcome.success:
        raise DbtError("dbt docs generate failed")
    stamp.write_text(json.dumps(wanted))
    return outcome


@task(cache_policy=NO_CACHE)
def publish_for_analysts() -> str:
    settings = get_settings()
    return str(publish_copy(settings.warehouse, settings.published))


def _reconciliation_artifact() -> None:
    with duckdb.connect(str(get_settings().warehouse), read_only=True) as con:
        rows = con.sql("""SELECT round_no, stage_code, measure, provincial_value, city_sum, difference, status
                          FROM marts.rpt_reconciliation ORDER BY round_no, stage_code, measure""").fetchall()
    table = [{"round": r, "stage": s, "measure": m, "bulletin": str(p), "city sum": str(c), "gap": str(d),
              "status": st} for r, s, m, p, c, d, st in rows]
    gaps = sum(1 for row in table if row["status"] not in ("match",))
    create_table_artifact(key="sanpi-reconciliation", table=table,
                          description=f"City sums against the provincial bulletins: {gaps} row(s) not matching")


def _links_artifact(report: ValidationReport) -> None:
    s = get_settings()
    create_markdown_artifact(key="sanpi-links", description="Where this run's results are", markdown=(
        f"- Warehouse: `{s.warehouse}`\n- Read-only copy for analysts: `{s.published}`\n"
        f"- dbt docs: `{s.dbt_docs_static}` (or `sanpi docs --serve`)\n"
        f"- GX Data Docs: `{report.data_docs}`\n"))


@flow(name="sanpi-pipeline")
def pipeline_flow(source: str | None = None, rounds: str | None = None) -> PipelineResult:
    """Run the whole pipeline on SOURCE (default: the bundled sample data); ROUNDS (e.g. "4-9")
    reprocesses those rounds only."""
    logger = get_run_logger()
    settings = get_settings()
    run_id = str(flow_run.id or "local")
    started = datetime.now(timezone.utc).replace(tzinfo=None)
    with warehouse_lock(settings.warehouse, f"sanpi pipeline run {flow_run.name or run_id}", settings.lock_wait):
        ingested = ingest_flow(source, rounds)
        fingerprint = build_fingerprint()
        previous = last_run(settings.warehouse)
        log_run = dict(run_id=run_id, run_name=flow_run.name, started_at=started, source=source or "sample",
                       rounds=rounds, files_changed=sum(n for s, n in ingested.statuses.items() if s != "unchanged"),
                       build_fingerprint=fingerprint)
        if (not ingested.changed and previous and previous.status in ("passed", "unchanged")
                and previous.build_fingerprint == fingerprint and settings.published.exists()):
            logger.info("Nothing new: no file changed since run %s (%s) and the build is the same; "
                        "the warehouse is up to date", previous.run_id, previous.finished_at)
            record_run(settings.warehouse, **log_run, finished_at=_now(), status="unchanged",
                       message="nothing new")
            return PipelineResult(ingested, None, None)
        try:
            built = build_warehouse()
            logger.info("Warehouse built: %d dbt nodes", built.nodes)
            report = validate_warehouse(run_id)
            generate_docs(fingerprint)
        except BaseException as exc:
            # Recorded, so that the next run builds again: the last passed run's record would otherwise
            # tell it nothing is new, the files being loaded (by this run) and the build the same.
            _record_failure(logger, lambda: record_run(settings.warehouse, **log_run, finished_at=_now(),
                                                       status="failed", message=_error(exc)))
            raise
        problems = [] if report.success else describe_gaps(report) + describe_failures(report)
        record_run(settings.warehouse, **log_run, finished_at=_now(),
                   status="passed" if report.success else "failed", message="; ".join(problems)[:2000] or None)
        try:
            published = publish_for_analysts()
        except BaseException as exc:
            # The analysts' copy is still the previous one: the next run must not find "nothing new".
            _record_failure(logger, lambda: mark_run_failed(settings.warehouse, run_id,
                                                            "publishing the analysts' copy: " + _error(exc)))
            raise
        _reconciliation_artifact()  # read under the lock: a reader would block the next writer
    _links_artifact(report)
    logger.info("Warehouse: %s | analysts' copy: %s | dbt docs: %s | GX Data Docs: %s",
                settings.warehouse, published, settings.dbt_docs_static, report.data_docs)
    if problems:
        raise DataQualityError("Validation failed; the warehouse is built so the gaps can be queried "
                               "(marts.rpt_reconciliation, dq.validation_results):\n  " + "\n  ".join(problems))
    logger.info("All checks passed")
    return PipelineResult(ingested, built, report)


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def _record_failure(logger, record) -> None:
    """Record a failed run, without hiding the error that failed it if recording fails too."""
    try:
        record()
    except Exception:
        logger.exception("Could not record the failed run in ops.pipeline_runs")


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)
