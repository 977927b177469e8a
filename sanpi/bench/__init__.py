"""`sanpi bench`: each stage of sanpi against a bare DuckDB baseline doing the same work.

    sanpi bench --rows 100000                  one size, a readable table
    sanpi bench --rows 2000 --json --quick     one JSON object (the test suite's call)
    sanpi bench --rows 100000 1000000 --markdown bench/results.md

Every measured stage runs in its own child process (time and peak memory per stage), against
temporary folders; see scenarios.py for what is compared and baselines.py for the floor.
"""
from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path

from sanpi.bench.report import as_json, machine, table
from sanpi.bench.scenarios import ALL_STAGES, HISTORY_MAX_ROWS, Bench, StageFailed

QUICK_STAGES = ("ingest", "build", "validate", "e2e")  # and no dbt-run-only or first-GX-run extras
REQUIRED_KEYS = ("ingest_ratio", "build_ratio", "validate_ratio", "cold_run_s", "noop_rerun_s",
                 "add_round_1x_s", "add_round_10x_s", "peak_rss_mb", "ingest_s", "ingest_baseline_s",
                 "build_s", "build_baseline_s", "validate_s", "validate_baseline_s")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sanpi bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, nargs="+", default=[100_000], metavar="N",
                   help="campaign sizes in project-stage rows (default 100000)")
    p.add_argument("--seed", type=int, default=20210710)
    p.add_argument("--stages", default=",".join(ALL_STAGES),
                   help=f"comma-separated subset of {','.join(ALL_STAGES)} (default: all)")
    p.add_argument("--quick", action="store_true",
                   help=f"only {','.join(QUICK_STAGES)} of --stages, without the extra runs (dbt run alone, "
                        "GX's first run): no history scenarios, no bundled-sample or Prefect runs")
    p.add_argument("--history-max", type=int, default=HISTORY_MAX_ROWS, metavar="N",
                   help=f"run the add-a-round scenarios only up to N rows (default {HISTORY_MAX_ROWS}: "
                        "at 10^7 the 10x history needs far more memory than 24 GiB today)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    p.add_argument("--markdown", type=Path, help="also write the table (Markdown) and the JSON next to it")
    p.add_argument("--profile", action="store_true", help="cProfile the ingest, build and validate children")
    p.add_argument("--work", type=Path, help="work folder (default: a temporary one, removed afterwards)")
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    return p


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    stages = {s.strip() for s in args.stages.split(",") if s.strip()}
    unknown = stages - set(ALL_STAGES)
    if unknown:
        print(f"sanpi bench: unknown stage(s) {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    if args.quick:
        stages &= set(QUICK_STAGES)
    bench_log = logging.getLogger("sanpi.bench")  # progress on stderr; other libraries' logs stay quiet
    if not bench_log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s bench: %(message)s", "%H:%M:%S"))
        bench_log.addHandler(handler)
    bench_log.setLevel(logging.INFO)
    bench_log.propagate = False
    work = args.work or Path(tempfile.mkdtemp(prefix="sanpi-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    bench = Bench(work.resolve(), args.seed, profile=args.profile, quick=args.quick,
                  history_max=args.history_max)
    started = time.perf_counter()
    common: dict = {}
    sizes: list[dict] = []
    notes: list[str] = []
    try:
        if "sample" in stages:
            common.update(bench.prefect())
            common.update(bench.sample())
        for rows in args.rows:
            result = bench.size(rows, stages)
            sizes.append({"rows": rows, **result.figures})
            notes += [f"rows={rows}: {n}" for n in result.notes]
            (work / f"details_{rows}.json").write_text(json.dumps(result.details, indent=2, default=str),
                                                       encoding="utf-8")
    except StageFailed as exc:
        print(f"sanpi bench: {exc}", file=sys.stderr)
        return 1
    finally:
        if not (args.keep or args.work):
            shutil.rmtree(work, ignore_errors=True)
    total = round(time.perf_counter() - started, 1)
    for figures in sizes:
        for key in REQUIRED_KEYS:
            figures.setdefault(key, None)
    payload = ({**sizes[0], **common} if len(sizes) == 1 else {"sizes": sizes, **common})
    payload.update({"bench_seconds": total, "machine": machine(), "notes": notes})
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(f"Measured {time.strftime('%Y-%m-%d')} on {machine()}; `sanpi bench --rows "
                                 f"{' '.join(map(str, args.rows))}` took {total:.0f} s. Times in seconds.\n\n"
                                 + table(sizes, common, markdown=True)
                                 + "".join(f"- note: {n}\n" for n in notes), encoding="utf-8")
        args.markdown.with_suffix(".json").write_text(as_json(payload) + "\n", encoding="utf-8")
    if args.json:
        print(as_json(payload))
    else:
        print(table(sizes, common))
        for n in notes:
            print(f"note: {n}")
    return 0
