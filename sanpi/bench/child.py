"""What runs inside each measured child process: one stage of sanpi, or its bare baseline.

`python -m sanpi.bench.child STAGE ARGS_JSON RESULT_PATH`. Each stage times its own work with
perf_counter (interpreter start-up and the bench's own imports excluded; imports the stage does
itself, as sanpi does them lazily, included) and writes {"seconds": ..., ...} to RESULT_PATH.
The parent reads the process's peak memory from wait4() (see measure.py).

Settings come from the environment the parent sets (SANPI_DATA_DIR, SANPI_WAREHOUSE, ...): every
stage works in temporary folders, never on data/warehouse.duckdb.
"""
from __future__ import annotations

import cProfile
import json
import sys
import time
from pathlib import Path


def ingest_sanpi(args: dict) -> dict:
    """sanpi's real loading code, as flows.ingest.load_inbox_files runs it, without Prefect."""
    import duckdb

    from sanpi.settings import duckdb_config, get_settings

    started = time.perf_counter()
    from sanpi.ingest.inbox import discover
    from sanpi.ingest.loader import load_files
    from sanpi.raw_schema import ensure_raw_schema

    settings = get_settings()
    root = Path(args["source"]).resolve()
    files = discover(root)
    statuses: dict[str, int] = {}
    rows = 0
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.warehouse), config=duckdb_config()) as con:
        ensure_raw_schema(con)
        for outcome in load_files(con, files, str(root), settings.raw_store):
            statuses[outcome.status] = statuses.get(outcome.status, 0) + 1
            rows += outcome.rows_loaded if outcome.kind == "submission" else 0
    return {"seconds": time.perf_counter() - started, "files": len(files), "statuses": statuses,
            "rows_loaded": rows}


def ingest_baseline(args: dict) -> dict:
    from sanpi.bench.baselines import native_ingest

    return native_ingest(Path(args["source"]), Path(args["warehouse"]))


def build_dbt(args: dict) -> dict:
    """`dbt build` through sanpi.transform.run_dbt (in-process dbtRunner), as the pipeline runs it."""
    from sanpi.settings import get_settings

    started = time.perf_counter()
    from sanpi.transform import run_dbt

    outcome = run_dbt(get_settings(), *args.get("dbt_args", ["build"]))
    return {"seconds": time.perf_counter() - started, "success": outcome.success, "nodes": outcome.nodes,
            "failures": outcome.failures[:5]}


def build_baseline(args: dict) -> dict:
    from sanpi.bench.baselines import run_compiled_models

    return run_compiled_models(Path(args["warehouse"]), Path(args["manifest"]), args["seed_types"])


def validate_gx(args: dict) -> dict:
    """The GX checkpoints (sanpi.validate.runner.run_validation), as the pipeline runs them."""
    from sanpi.settings import get_settings

    started = time.perf_counter()
    from sanpi.validate.runner import run_validation

    report = run_validation(get_settings(), args.get("run_id", "bench"))
    return {"seconds": time.perf_counter() - started, "success": report.success}


def validate_baseline(args: dict) -> dict:
    from sanpi.bench.baselines import one_pass_checks

    return one_pass_checks(Path(args["warehouse"]), args["checks"])


def prefect_probe(args: dict) -> dict:
    """An empty Prefect flow run: the cost of the temporary local API every `sanpi run` starts."""
    started = time.perf_counter()
    from prefect import flow

    @flow(name="sanpi-bench-probe")
    def probe() -> int:
        return 1

    probe()
    return {"seconds": time.perf_counter() - started}


STAGES = {f.__name__: f for f in (ingest_sanpi, ingest_baseline, build_dbt, build_baseline, validate_gx,
                                   validate_baseline, prefect_probe)}


def main(argv: list[str]) -> int:
    stage, args, result_path = argv[0], json.loads(argv[1]), Path(argv[2])
    profile_path = args.get("profile")
    if profile_path:
        profiler = cProfile.Profile()
        result = profiler.runcall(STAGES[stage], args)
        profiler.dump_stats(profile_path)
    else:
        result = STAGES[stage](args)
    result_path.write_text(json.dumps(result, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
