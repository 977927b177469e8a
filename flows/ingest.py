"""Ingest flow: every file of an inbox folder into the `raw` schema, in batches of files (one
transaction each; a failed batch is loaded again one transaction per file)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import duckdb
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from sanpi.ingest import http_source
from sanpi.ingest.backfill import clear_rounds, parse_rounds
from sanpi.ingest.inbox import InboxFile, discover, not_loaded
from sanpi.ingest.loader import LoadOutcome, load_files
from sanpi.lock import warehouse_lock
from sanpi.raw_schema import ensure_raw_schema
from sanpi.settings import SAMPLE_DIR, duckdb_config, get_settings


@dataclass(frozen=True)
class IngestSummary:
    files: int
    statuses: dict[str, int]
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    findings: int = 0

    @property
    def changed(self) -> bool:
        return any(self.statuses.get(s) for s in ("loaded", "revised", "rejected"))

    def __str__(self) -> str:
        by_status = ", ".join(f"{n} {s}" for s, n in sorted(self.statuses.items()))
        return (f"{self.files} files ({by_status}); rows read {self.rows_read}, "
                f"loaded {self.rows_loaded}, quarantined {self.rows_quarantined}; findings {self.findings}")


@task(cache_policy=NO_CACHE)
def find_inbox_files(source: Path) -> list[InboxFile]:
    if not source.is_dir():
        raise FileNotFoundError(f"source folder {source} does not exist")
    return discover(source)


@task(cache_policy=NO_CACHE)
def pull_remote_inbox(url: str) -> Path:
    """Mirror an HTTP(S) inbox into the data folder, downloading only new or changed files. Safe to
    retry: files already mirrored are not fetched again."""
    logger = get_run_logger()
    settings = get_settings()
    root = http_source.mirror_dir(settings.data_dir, url)
    remote = http_source.list_remote(url, settings.http_timeout)
    state = http_source.load_state(root)
    changed = refused = 0
    try:
        for i, remote_file in enumerate(remote, start=1):
            try:
                changed += http_source.fetch(remote_file, root, state, settings.http_timeout)
            except http_source.UnsafePathError as exc:
                refused += 1
                logger.warning("Not downloaded: %s", exc)
            if i % 50 == 0:
                logger.info("Checked %d/%d remote files", i, len(remote))
    finally:
        http_source.save_state(root, state)
    logger.info("Pulled %s: %d files listed, %d new or changed, %d refused; mirror %s",
                url, len(remote), changed, refused, root)
    return root


def _report(logger, outcome: LoadOutcome) -> None:
    if outcome.status == "rejected":
        logger.warning("%s: %s", outcome.file_path, outcome.message)
    elif outcome.rows_quarantined:
        logger.warning("%s: %d of %d rows quarantined (see raw.quarantine)",
                       outcome.file_path, outcome.rows_quarantined, outcome.rows_read)
    elif outcome.status == "revised":
        logger.info("%s: new version replaces the previous one", outcome.file_path)
    if outcome.findings:
        logger.warning("%s: %d finding(s) (see raw.submission_findings)", outcome.file_path, outcome.findings)


@task(cache_policy=NO_CACHE)
def forget_rounds(rounds: list[int]) -> int:
    """Backfill: drop what was loaded for these rounds so their files load afresh."""
    settings = get_settings()
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.warehouse), config=duckdb_config()) as con:
        ensure_raw_schema(con)
        forgotten = clear_rounds(con, rounds)
    get_run_logger().info("Backfill of rounds %s: forgot %d loaded file versions", rounds, forgotten)
    return forgotten


@task(cache_policy=NO_CACHE)
def load_inbox_files(files: list[InboxFile], source: str) -> list[LoadOutcome]:
    """Load the files in batches, one transaction per batch (sanpi.ingest.loader.load_files). One task
    for all files: a task run per file only adds overhead and, at hundreds of files, floods the
    temporary API's event recorder at shutdown."""
    logger = get_run_logger()
    settings = get_settings()
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    step = max(1, len(files) // 10)

    def report(i: int, outcome: LoadOutcome) -> None:
        _report(logger, outcome)
        if i % step == 0 or i == len(files):
            logger.info("Progress: %d/%d files", i, len(files))

    with duckdb.connect(str(settings.warehouse), config=duckdb_config()) as con:
        ensure_raw_schema(con)
        return load_files(con, files, source, settings.raw_store, on_outcome=report)


def _publish_outcomes(outcomes: list[LoadOutcome]) -> None:
    changed = [o for o in outcomes if o.status != "unchanged"]
    table = [{"file": o.file_path, "status": o.status, "rows read": o.rows_read, "loaded": o.rows_loaded,
              "quarantined": o.rows_quarantined, "findings": o.findings, "note": o.message} for o in changed[:500]]
    create_table_artifact(
        key="sanpi-ingest", table=table or [{"file": "(none)", "status": "nothing new"}],
        description=f"Files loaded by this run: {len(changed)} of {len(outcomes)} changed"
                    + (" (first 500 shown)" if len(changed) > 500 else ""))


@flow(name="sanpi-ingest")
def ingest_flow(source: str | None = None, rounds: str | None = None) -> IngestSummary:
    """Load bulletins and city submissions from SOURCE: a folder or an HTTP(S) URL (a directory index
    or a JSON manifest). Default: the bundled sample data. With ROUNDS (e.g. "4-9"), reprocess only
    those rounds: what was loaded for them is forgotten and their files are loaded again."""
    logger = get_run_logger()
    settings = get_settings()
    selected = parse_rounds(rounds) if rounds else None
    with warehouse_lock(settings.warehouse, "sanpi ingest", settings.lock_wait):
        if http_source.is_http(source):
            root = pull_remote_inbox.with_options(
                retries=settings.http_retries, retry_delay_seconds=settings.http_retry_delay)(source)
        else:
            root = Path(source).resolve() if source else SAMPLE_DIR
        files = find_inbox_files(root)
        skipped = not_loaded(root, files)
        if selected:
            files = [f for f in files if f.kind == "bulletin" or f.round_no in selected]
            forget_rounds(selected)
        logger.info("Ingesting %d files from %s into %s", len(files), root, settings.warehouse)
        if skipped:
            logger.info("Not loaded (neither a bulletin nor a submission by name and place): %d files, first: %s",
                        len(skipped), ", ".join(skipped[:3]))
        # (quote: Prefect would otherwise walk every file of the list looking for futures, 0.1 s a
        # thousand files on each run, whether or not they changed)
        outcomes = load_inbox_files(quote(files), source if http_source.is_http(source) else str(root))
    summary = IngestSummary(
        files=len(outcomes), statuses=dict(Counter(o.status for o in outcomes)),
        rows_read=sum(o.rows_read for o in outcomes), rows_loaded=sum(o.rows_loaded for o in outcomes),
        rows_quarantined=sum(o.rows_quarantined for o in outcomes), findings=sum(o.findings for o in outcomes))
    _publish_outcomes(outcomes)
    logger.info("Ingest done: %s", summary)
    return summary
