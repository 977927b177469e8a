"""The `sanpi` command line."""
from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from pathlib import Path

from sanpi.settings import get_settings, quiet_telemetry


def _prefect_defaults() -> None:
    """Set before Prefect is imported: quiet, our loggers in the run logs, patient ephemeral API."""
    quiet_telemetry()
    os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "sanpi")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


def _where(settings) -> str:
    return (f"  warehouse     {settings.warehouse}\n"
            f"  for analysts  {settings.published}  (read-only copy: sanpi sql, duckdb -readonly)\n"
            f"  dbt docs      {settings.dbt_docs_static}  (or: sanpi docs --serve)\n"
            f"  GX Data Docs  {settings.gx_docs_index}")


def _nothing_new(args, settings) -> bool:
    """Answer a run with nothing to do before starting Prefect's temporary API (~10 s on its own).
    Scheduled runs under `sanpi serve` talk to a running server and take the flow's own shortcut."""
    import uuid
    from datetime import datetime, timezone

    from sanpi.ingest.http_source import is_http
    from sanpi.ingest.inbox import discover
    from sanpi.lock import warehouse_lock
    from sanpi.runs import build_fingerprint, nothing_new, record_run
    from sanpi.settings import SAMPLE_DIR

    if args.rounds or is_http(args.source) or not settings.warehouse.exists():
        return False
    root = Path(args.source).resolve() if args.source else SAMPLE_DIR
    files = discover(root) if root.is_dir() else []
    previous = nothing_new(settings.warehouse, settings.published, files) if files else None
    if previous is None:
        return False
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    with warehouse_lock(settings.warehouse, "sanpi run (nothing new)", settings.lock_wait):
        record_run(settings.warehouse, run_id=f"cli-{uuid.uuid4()}", run_name="sanpi run", started_at=now,
                   finished_at=now, source=args.source or "sample", rounds=None, files_changed=0,
                   build_fingerprint=build_fingerprint(), status="unchanged", message="nothing new (no flow run)")
    print(f"sanpi run: nothing new. All {len(files)} files are as loaded by run {previous.run_id} "
          f"({previous.finished_at:%Y-%m-%d %H:%M} UTC), the build is the same and that run passed: "
          f"the warehouse is up to date.\n{_where(settings)}")
    return True


def _import_heavy_modules() -> None:
    """Pay for dbt's and GX's imports (several seconds) while the temporary Prefect API boots."""
    import dbt.cli.main  # noqa: F401
    import great_expectations  # noqa: F401


def cmd_run(args) -> int:
    settings = get_settings()
    if _nothing_new(args, settings):
        return 0
    _prefect_defaults()
    from sanpi.prefect_api import PrefectApiError, heartbeats_off, start_temporary_api, wait_for_api

    api = start_temporary_api()  # boots while the imports below run
    from flows.pipeline import DataQualityError, pipeline_flow

    from sanpi.lock import WarehouseBusyError

    if api is not None:
        _import_heavy_modules()
    try:
        wait_for_api(api)
        with heartbeats_off() if api is not None else contextlib.nullcontext():
            result = pipeline_flow(source=args.source, rounds=args.rounds)
    except DataQualityError as exc:
        print(f"\nsanpi run: FAILED validation\n{exc}\n\n{_where(settings)}", file=sys.stderr)
        return 1
    except WarehouseBusyError as exc:
        print(f"\nsanpi run: not started: {exc}", file=sys.stderr)
        return 3
    except PrefectApiError as exc:
        print(f"\nsanpi run: not started: {exc}", file=sys.stderr)
        return 4
    verdict = "Nothing new: the warehouse was already up to date." if result.nothing_new else "All checks passed."
    print(f"\nsanpi run: done. Ingest: {result.ingest}. {verdict}\n{_where(settings)}")
    return 0


def cmd_ingest(args) -> int:
    _prefect_defaults()
    from flows.ingest import ingest_flow
    from sanpi.lock import WarehouseBusyError
    from sanpi.prefect_api import heartbeats_off

    # Without a configured server Prefect runs the flow against its own temporary API.
    temporary = not os.environ.get("PREFECT_API_URL")
    try:
        with heartbeats_off() if temporary else contextlib.nullcontext():
            summary = ingest_flow(source=args.source, rounds=args.rounds)
        print(f"sanpi ingest: {summary}")
    except WarehouseBusyError as exc:
        print(f"sanpi ingest: not started: {exc}", file=sys.stderr)
        return 3
    return 0


def cmd_sample(args) -> int:
    from sanpi.sample import generate_sample
    from sanpi.settings import SAMPLE_DIR

    if args.scale:
        from sanpi.sample.scale import generate_scaled

        if not args.out:
            print("sanpi sample --scale needs --out DIR (data/sample is the committed sample)", file=sys.stderr)
            return 2
        summary = generate_scaled(Path(args.out), rows=args.scale, seed=args.seed)
        print(f"sanpi sample: wrote a synthetic campaign of {args.scale} project-stage rows to {args.out}: {summary}")
        return 0
    out = Path(args.out) if args.out else SAMPLE_DIR
    summary = generate_sample(out, seed=args.seed)
    print(f"sanpi sample: wrote synthetic sample data to {out}: {summary}")
    return 0


def cmd_bench(args) -> int:
    _prefect_defaults()
    from sanpi.bench import main as bench_main

    return bench_main(args.bench_args)


def cmd_sql(args) -> int:
    import duckdb

    settings = get_settings()
    # The published copy: an analyst's query never blocks a run, nor sees a half-built warehouse.
    database = settings.warehouse if args.live else settings.published
    if not database.exists():
        print(f"sanpi sql: no warehouse at {database}; run `sanpi run` first", file=sys.stderr)
        return 2
    with duckdb.connect(str(database), read_only=True) as con:
        try:
            relation = con.sql(args.query)
        except duckdb.Error as exc:
            print(f"sanpi sql: {exc}", file=sys.stderr)
            return 1
        if relation is None:
            return 0
        relation.show(max_width=args.max_width, max_rows=args.max_rows)
    return 0


def cmd_docs(args) -> int:
    from sanpi.docs import serve_docs
    from sanpi.transform import run_dbt

    settings = get_settings()
    if not args.serve or not settings.dbt_docs_index.exists():
        outcome = run_dbt(settings, "docs", "generate", "--static")
        if not outcome.success:
            print("sanpi docs: dbt docs generate failed", file=sys.stderr)
            return 1
        print(f"sanpi docs: {settings.dbt_docs_static}")
    if args.serve:
        serve_docs(settings.dbt_target, host="127.0.0.1", port=args.port)
    return 0


def cmd_serve(args) -> int:
    _prefect_defaults()
    import os as _os

    if not _os.environ.get("PREFECT_API_URL"):
        print("sanpi serve: PREFECT_API_URL is not set. Schedules only fire against a real Prefect API:\n"
              "  start one with `.venv/bin/prefect server start` and\n"
              "  export PREFECT_API_URL=http://127.0.0.1:4200/api   (see the README)", file=sys.stderr)
        return 2
    from flows.deployments import serve_pipeline

    serve_pipeline(source=args.source, cron=args.cron)
    return 0


def cmd_parse_bulletin(args) -> int:
    from sanpi.bulletin.command import run_parse_bulletin

    return run_parse_bulletin(args.files, as_json=args.json)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sanpi", description="sanpi (三批): Henan 三个一批 data warehouse")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="ingest -> build -> validate -> docs -> publish")
    p.add_argument("--source", help="inbox folder or HTTP(S) URL (default: bundled sample data)")
    p.add_argument("--rounds", help="reprocess only these rounds, e.g. 4-9 or 3,5,8-9 (backfill)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("ingest", help="load an inbox into the raw schema")
    p.add_argument("--source", help="inbox folder or HTTP(S) URL (default: bundled sample data)")
    p.add_argument("--rounds", help="reprocess only these rounds, e.g. 4-9")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("sample", help="generate the synthetic sample data")
    p.add_argument("--out", help="output folder (default: data/sample)")
    p.add_argument("--seed", type=int, default=20210710)
    p.add_argument("--scale", type=int, metavar="N",
                   help="instead, a campaign of N project-stage rows (for benchmarks; needs --out)")
    p.set_defaults(func=cmd_sample)

    sub.add_parser("bench", help="benchmark each stage against a bare DuckDB baseline (sanpi bench --help)")

    p = sub.add_parser("serve", help="serve the scheduled (daily 07:00 Asia/Shanghai) and on-demand deployments")
    p.add_argument("--source", help="inbox folder or HTTP(S) URL the deployments pull from")
    p.add_argument("--cron", default="0 7 * * *", help="schedule, in Asia/Shanghai time (default: 0 7 * * *)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("parse-bulletin", help="read round bulletins (text, HTML or JSON) and print their figures")
    p.add_argument("files", nargs="+", help="bulletin files")
    p.add_argument("--json", action="store_true", help="one JSON object per file, per line")
    p.set_defaults(func=cmd_parse_bulletin)

    p = sub.add_parser("sql", help="run a read-only query against the warehouse")
    p.add_argument("query")
    p.add_argument("--max-rows", type=int, default=200)
    p.add_argument("--max-width", type=int, default=200)
    p.add_argument("--live", action="store_true",
                   help="query the warehouse itself instead of the published read-only copy")
    p.set_defaults(func=cmd_sql)

    p = sub.add_parser("docs", help="generate (and serve) the dbt docs site")
    p.add_argument("--serve", action="store_true", help="serve on 127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.set_defaults(func=cmd_docs)
    return parser


def _exit_without_teardown(code: int) -> None:
    """Exit once the exit handlers have run (Prefect sends its last logs, the temporary API stops),
    skipping the interpreter's teardown of dbt's, GX's and Prefect's module graphs: seconds spent
    freeing memory the OS takes back anyway. Every DuckDB connection is closed by then."""
    import atexit

    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    as_command = argv is None  # the console script; tests pass argv and keep their interpreter
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:  # the benchmark parses its own options
        return cmd_bench(argparse.Namespace(bench_args=argv[1:]))
    args = build_parser().parse_args(argv)
    logging.getLogger("sanpi").setLevel(logging.INFO)
    code = args.func(args)
    if as_command and args.func in (cmd_run, cmd_ingest):
        _exit_without_teardown(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
