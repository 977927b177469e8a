"""The benchmark's scenarios at one size: each sanpi stage against its baseline, and end to end.

Everything happens under one work folder (a temporary one unless --keep): generated inboxes,
warehouses, GX projects, dbt targets and PREFECT_HOME. data/warehouse.duckdb is never touched.

Stages (each in its own child process, see measure.py):
  ingest    sanpi's loader (discover + load_files)     vs  DuckDB read_csv of the same files
  build     dbt build (sanpi.transform.run_dbt)         vs  the compiled SQL of every model in plain DuckDB
  validate  GX checkpoints (run_validation)             vs  one SQL pass computing the same checks
End to end (`sanpi run`, the real CLI, Prefect's temporary API included):
  cold run and no-change rerun on the N-row campaign; one more round added to a history of 1x and
  10x (9 and 90 rounds of N/90 rows each); once per bench, the bundled sample cold and rerun.
"""
from __future__ import annotations

import contextlib
import io
import logging
import shutil
import warnings
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from sanpi.bench.baselines import seed_types, validation_sql
from sanpi.bench.measure import (Measurement, StageFailed, run_sanpi, run_stage, settle_page_cache,
                                 workspace_env)
from sanpi.sample.scale import ROWS_PER_ROUND_MIN, generate_scaled

log = logging.getLogger("sanpi.bench")

ALL_STAGES = ("ingest", "build", "validate", "e2e", "history", "sample")
HISTORY_ROUNDS = 9        # 1x history: 9 rounds; 10x: 90 rounds (round codes stay R\d{2})
# At 10^6 rows the 10x-history run already peaks at 9 GB (rpt_cumulative_comparison joins every round to
# every earlier one): above this size the history scenarios are skipped unless asked for.
HISTORY_MAX_ROWS = 1_000_000
INGEST_PAIRS = 3          # sanpi's ingest and its baseline, measured alternately; medians reported
ADD_ROUND_RUNS = 3        # one round added this many times to the same history; the median reported


@dataclass
class SizeResult:
    rows: int
    figures: dict = field(default_factory=dict)       # the flat numbers (JSON keys)
    details: dict = field(default_factory=dict)       # every measurement, for the record
    notes: list[str] = field(default_factory=list)

    def add(self, key: str, m: Measurement) -> Measurement:
        self.figures[f"{key}_s"] = round(m.seconds, 3)
        self.figures[f"{key}_peak_rss_mb"] = round(m.peak_rss_mb, 1)
        self.details[key] = m.as_dict()
        return m


class Bench:
    def __init__(self, work: Path, seed: int, profile: bool = False, quick: bool = False,
                 history_max: int = HISTORY_MAX_ROWS):
        self.work = work
        self.quick = quick
        self.history_max = history_max
        self.seed = seed
        self.profile = profile
        self.prefect_home = work / "prefect_home"
        self.logs = work / "logs"
        self._checks: dict | None = None

    def env(self, name: str) -> dict[str, str]:
        return workspace_env(self.work / name, self.prefect_home)

    def _args(self, name: str, **args) -> dict:
        if self.profile:
            args["profile"] = str(self.work / "profiles" / f"{name}.prof")
            (self.work / "profiles").mkdir(parents=True, exist_ok=True)
        return args

    # -- Prefect and the bundled sample (once per bench run) ---------------------------------
    def prefect(self) -> dict:
        first = run_stage("prefect_first_start", "prefect_probe", {}, self.env("prefect"), self.logs / "prefect.log")
        warm = run_stage("prefect_overhead", "prefect_probe", {}, self.env("prefect"), self.logs / "prefect.log")
        return {"prefect_first_start_s": round(first.seconds, 3), "prefect_overhead_s": round(warm.seconds, 3)}

    def sample(self) -> dict:
        shutil.rmtree(self.work / "sample", ignore_errors=True)   # cold: nothing left from an earlier bench
        env = self.env("sample")
        cold = run_sanpi("sample_cold_run", ["run"], env, self.logs / "sample.log", check=False)
        rerun = run_sanpi("sample_noop_rerun", ["run"], env, self.logs / "sample.log", check=False)
        return {"sample_cold_run_s": round(cold.seconds, 3), "sample_noop_rerun_s": round(rerun.seconds, 3),
                "sample_peak_rss_mb": round(max(cold.peak_rss_mb, rerun.peak_rss_mb), 1),
                "sample_exit_codes": [cold.returncode, rerun.returncode]}

    # -- one size ---------------------------------------------------------------------------
    def size(self, rows: int, stages: set[str]) -> SizeResult:
        out = SizeResult(rows)
        base = self.work / f"rows_{rows}"
        inbox = base / "inbox"
        started = time.perf_counter()
        summary = generate_scaled(inbox, rows, self.seed)
        out.figures["generate_s"] = round(time.perf_counter() - started, 3)
        out.details["campaign"] = {k: v for k, v in summary.items() if k != "rows_per_round"}
        log.info("rows=%d: campaign generated in %.1f s (%d csv, %d xlsx files, %.0f MB)", rows,
                 out.figures["generate_s"], summary["csv_files"], summary["xlsx_files"], summary["bytes"] / 1e6)
        logs = self.logs / f"rows_{rows}.log"

        if stages & {"ingest", "build", "validate"}:
            # The pair is measured INGEST_PAIRS times, alternating, and each side's median is reported
            # (single runs of the pair vary by 5-10% on this machine); only the last sanpi warehouse is kept.
            pairs = 1 if self.quick or "ingest" not in stages else INGEST_PAIRS
            sanpi_runs, baseline_runs = [], []
            ingest_ws = workspace_env(base / "ingest", self.prefect_home)
            # Each run starts with the inbox in the page cache, earlier stages' files out of it.
            for _ in range(pairs):
                shutil.rmtree(base / "ingest", ignore_errors=True)
                settle_page_cache(self.work, inbox, (self.prefect_home,))
                sanpi_runs.append(run_stage("ingest", "ingest_sanpi",
                                            self._args(f"ingest_{rows}", source=str(inbox)), ingest_ws, logs))
                log.info("rows=%d: sanpi ingest %.1f s", rows, sanpi_runs[-1].seconds)
                if "ingest" in stages:
                    shutil.rmtree(base / "ingest_baseline", ignore_errors=True)
                    settle_page_cache(self.work, inbox, (self.prefect_home,))
                    baseline_runs.append(run_stage(
                        "ingest_baseline", "ingest_baseline",
                        {"source": str(inbox), "warehouse": str(base / "ingest_baseline" / "warehouse.duckdb")},
                        self.env(f"rows_{rows}/ingest_baseline"), logs))
                    log.info("rows=%d: baseline ingest %.1f s", rows, baseline_runs[-1].seconds)
            m = out.add("ingest", _median(sanpi_runs))
            ingested = Path(ingest_ws["SANPI_WAREHOUSE"])
            if "ingest" in stages:
                b = out.add("ingest_baseline", _median(baseline_runs))
                out.details["ingest_pairs"] = [{"sanpi_s": round(a.seconds, 3), "baseline_s": round(c.seconds, 3)}
                                               for a, c in zip(sanpi_runs, baseline_runs)]
                if b.result.get("rows_loaded") != m.result.get("rows_loaded"):
                    out.notes.append(f"ingest: baseline loaded {b.result.get('rows_loaded')} rows, "
                                     f"sanpi {m.result.get('rows_loaded')}")
                out.figures["ingest_ratio"] = _ratio(m.seconds, b.seconds)
                out.figures["ingest_pairs"] = len(baseline_runs)
                out.figures["ingest_rows_per_s"] = round(rows / m.seconds)
                out.figures["ingest_baseline_rows_per_s"] = round(rows / b.seconds)

        if stages & {"build", "validate"}:
            build_ws = workspace_env(base / "build", self.prefect_home)
            built = Path(build_ws["SANPI_WAREHOUSE"])
            built.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ingested, built)
            m = out.add("build", run_stage("build", "build_dbt", self._args(f"build_{rows}"), build_ws, logs))
            if not m.result.get("success"):
                out.notes.append(f"dbt build did not pass: {m.result.get('failures')}")
            log.info("rows=%d: dbt build %.1f s", rows, m.seconds)
            if "build" in stages:
                # The baseline runs on the ingested warehouse itself (its last use), with dbt's compiled SQL.
                b = out.add("build_baseline", run_stage(
                    "build_baseline", "build_baseline",
                    {"warehouse": str(ingested), "manifest": str(Path(build_ws["SANPI_DBT_TARGET"]) / "manifest.json"),
                     "seed_types": seed_types(built)}, self.env(f"rows_{rows}/build_baseline"), logs))
                out.figures["build_ratio"] = _ratio(m.seconds, b.seconds)
                out.details["build_baseline_slowest"] = b.result.get("slowest")
                log.info("rows=%d: bare SQL build %.1f s", rows, b.seconds)
                if not self.quick:  # how much of dbt build is its tests
                    run_only = run_stage("build_run_only", "build_dbt", {"dbt_args": ["run", "--full-refresh"]}, build_ws, logs)
                    out.add("build_run_only", run_only)

        if "validate" in stages:
            validate_ws = workspace_env(base / "build", self.prefect_home)
            # First run creates the GX project (suites, checkpoints); a scheduled run finds it there.
            if not self.quick:
                out.add("validate_first", run_stage("validate_first", "validate_gx", {}, validate_ws, logs))
            m = out.add("validate", run_stage("validate", "validate_gx", self._args(f"validate_{rows}"),
                                              validate_ws, logs))
            if not m.result.get("success"):
                out.notes.append("GX validation did not pass (see dq.validation_results)")
            b = out.add("validate_baseline", run_stage(
                "validate_baseline", "validate_baseline",
                {"warehouse": validate_ws["SANPI_WAREHOUSE"], "checks": self.checks()},
                self.env(f"rows_{rows}/validate_baseline"), logs))
            if b.result.get("success") != m.result.get("success"):
                out.notes.append(f"validate: GX success={m.result.get('success')}, one-pass SQL "
                                 f"success={b.result.get('success')} ({b.result.get('failing')})")
            out.figures["validate_ratio"] = _ratio(m.seconds, b.seconds)
            log.info("rows=%d: GX %.1f s, one SQL pass %.2f s", rows, m.seconds, b.seconds)

        if "e2e" in stages:
            shutil.rmtree(base / "e2e", ignore_errors=True)   # cold: nothing left from an earlier bench
            env = workspace_env(base / "e2e", self.prefect_home)
            cold = out.add("cold_run", run_sanpi("cold_run", ["run", "--source", str(inbox)], env, logs, check=False))
            rerun = out.add("noop_rerun", run_sanpi("noop_rerun", ["run", "--source", str(inbox)], env, logs,
                                                    check=False))
            for m in (cold, rerun):
                if m.returncode:
                    out.notes.append(f"{m.name}: sanpi run exited {m.returncode} (see {logs})")
            status = _last_run(Path(env["SANPI_WAREHOUSE"])).get("status")
            out.details["noop_rerun"]["run_status"] = status
            if status != "unchanged":
                out.notes.append(f"the no-change rerun ended '{status}', not 'unchanged': it rebuilt (the build "
                                 "fingerprint changed between the runs: were dbt_project/ or suites.py edited meanwhile?)")
            log.info("rows=%d: sanpi run cold %.1f s, no-change rerun %.1f s", rows, cold.seconds, rerun.seconds)

        if "history" in stages and rows <= self.history_max:
            self.history(out, base, rows, logs)
        elif "history" in stages:
            out.notes.append(f"history scenarios skipped above {self.history_max} rows (--history-max)")

        out.figures["peak_rss_mb"] = max((v for k, v in out.figures.items()
                                          if k.endswith("_peak_rss_mb") and "baseline" not in k), default=None)
        out.figures["baseline_peak_rss_mb"] = max((v for k, v in out.figures.items()
                                                   if k.endswith("_peak_rss_mb") and "baseline" in k), default=None)
        return out

    def history(self, out: SizeResult, base: Path, rows: int, logs: Path) -> None:
        """One round added to a warehouse holding 1x and 10x history (9 / 90 earlier rounds)."""
        per_round = max(ROWS_PER_ROUND_MIN, rows // (10 * HISTORY_ROUNDS))
        total_rounds = 10 * HISTORY_ROUNDS + 1
        for label, history in (("1x", HISTORY_ROUNDS), ("10x", 10 * HISTORY_ROUNDS)):
            shutil.rmtree(base / f"history_{label}", ignore_errors=True)   # (an earlier bench's, with --work)
            inbox = base / f"history_{label}" / "inbox"
            env = workspace_env(base / f"history_{label}", self.prefect_home)
            generate_scaled(inbox, per_round * total_rounds, self.seed, rounds=total_rounds,
                            only_rounds=range(1, history + 1))
            setup = run_sanpi(f"history_{label}_setup", ["run", "--source", str(inbox)], env, logs, check=False)
            generate_scaled(inbox, per_round * total_rounds, self.seed, rounds=total_rounds,
                            only_rounds=[history + 1])
            # The round is added ADD_ROUND_RUNS times, each to the same copy of the history (everything
            # sanpi keeps: warehouse, raw store, dbt target, GX project), and the median reported.
            root, kept = base / f"history_{label}", base / f"history_{label}_before"
            runs = 1 if self.quick else ADD_ROUND_RUNS
            _copy_workspace(root, kept)
            measured, outcomes = [], []
            for run in range(runs):
                if run:
                    _copy_workspace(kept, root)
                settle_page_cache(self.work, root, (self.prefect_home,))   # the workspace cached, earlier files not
                measured.append(run_sanpi(f"add_round_{label}", ["run", "--source", str(inbox)], env, logs,
                                          check=False))
                outcomes.append(_last_run(Path(env["SANPI_WAREHOUSE"])))
            shutil.rmtree(kept, ignore_errors=True)
            m = out.add(f"add_round_{label}", _median(measured))
            out.figures["add_round_runs"] = runs
            out.details[f"history_{label}"] = {"history_rounds": history, "history_rows": per_round * history,
                                               "added_rows": per_round, "setup": setup.as_dict(),
                                               "runs": [r.as_dict() | o for r, o in zip(measured, outcomes)]}
            failed = [r.returncode for r in measured if r.returncode]
            if failed or setup.returncode:
                out.notes.append(f"add_round_{label}: sanpi run exited {setup.returncode}/{failed}")
            if any(o.get("status") != "passed" or not o.get("files_changed") for o in outcomes):
                out.notes.append(f"add_round_{label}: not every run loaded the round and passed ({outcomes}): "
                                 "the median is not the cost of adding it")
            log.info("rows=%d: one round of %d rows added to %d rounds in %.1f s", rows, per_round, history, m.seconds)
        out.figures["add_round_growth"] = _ratio(out.figures["add_round_10x_s"], out.figures["add_round_1x_s"])

    def checks(self) -> dict:
        if self._checks is None:
            # Building the suites makes GX print warnings to stdout, which must hold the JSON alone.
            with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._checks = validation_sql()
        return self._checks


def _copy_workspace(source: Path, target: Path) -> None:
    """What sanpi keeps in a bench workspace (all but the inbox) copied over target's."""
    for part in ("data", "gx", "dbt_target"):
        shutil.rmtree(target / part, ignore_errors=True)
        if (source / part).exists():
            shutil.copytree(source / part, target / part, symlinks=True)


def _last_run(warehouse: Path) -> dict:
    """Status and files changed of the warehouse's latest pipeline run ({} when there is none)."""
    import duckdb

    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            row = con.execute("""SELECT status, files_changed FROM ops.pipeline_runs
                                 ORDER BY finished_at DESC LIMIT 1""").fetchone()
    except duckdb.Error:
        return {}
    return {"status": row[0], "files_changed": row[1]} if row else {}


def _median(runs: list[Measurement]) -> Measurement:
    """The run with the median time (of an even number, the faster of the middle two), its peak
    memory the largest of all runs."""
    ordered = sorted(runs, key=lambda m: m.seconds)
    middle = ordered[(len(ordered) - 1) // 2]
    return replace(middle, peak_rss_mb=max(m.peak_rss_mb for m in runs),
                   tree_rss_mb=max(m.tree_rss_mb for m in runs))


def _ratio(value: float, baseline: float) -> float:
    return round(value / baseline, 2) if baseline > 0 else float("inf")


__all__ = ["ALL_STAGES", "Bench", "SizeResult", "StageFailed"]
