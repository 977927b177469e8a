"""The sanpi pipeline: ingest -> build -> validate -> docs.

A reconciliation failure fails the flow run, but only after the warehouse is built and the docs are
written, so the gap can be queried and read.
"""
from __future__ import annotations

from dataclasses import dataclass

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from flows.ingest import IngestSummary, ingest_flow
from sanpi.settings import get_settings
from sanpi.transform import DbtError, DbtOutcome, run_dbt
from sanpi.validate.runner import ValidationReport, describe_failures, describe_gaps, run_validation


class DataQualityError(RuntimeError):
    """The warehouse was built, but its data failed validation (e.g. city sums ≠ provincial totals)."""


@dataclass(frozen=True)
class PipelineResult:
    ingest: IngestSummary
    build: DbtOutcome
    validation: ValidationReport


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
def generate_docs() -> DbtOutcome:
    """The dbt docs site: index.html (served) and static_index.html (opens from file://)."""
    outcome = run_dbt(get_settings(), "docs", "generate", "--static")
    if not outcome.success:
        raise DbtError("dbt docs generate failed")
    return outcome


@flow(name="sanpi-pipeline")
def pipeline_flow(source: str | None = None) -> PipelineResult:
    """Run the whole pipeline on SOURCE (default: the bundled sample data)."""
    logger = get_run_logger()
    settings = get_settings()
    ingested = ingest_flow(source)
    built = build_warehouse()
    logger.info("Warehouse built: %d dbt nodes", built.nodes)
    report = validate_warehouse(str(flow_run.id or "local"))
    generate_docs()
    logger.info("Warehouse: %s | dbt docs: %s | GX Data Docs: %s",
                settings.warehouse, settings.dbt_docs_static, report.data_docs)
    if not report.success:
        problems = describe_gaps(report) + describe_failures(report)
        raise DataQualityError("Validation failed; the warehouse is built so the gaps can be queried "
                               "(marts.rpt_reconciliation, dq.validation_results):\n  " + "\n  ".join(problems))
    logger.info("All checks passed")
    return PipelineResult(ingested, built, report)
