"""The benchmark's figures as a short table (terminal or Markdown) and as JSON."""
from __future__ import annotations

import json
import platform
import os

# (label, sanpi key, baseline key, target) for the side-by-side rows.
STAGE_ROWS = (
    ("ingest", "ingest_s", "ingest_baseline_s", "≤ 2×, i.e. ≥ 0.5× read_csv throughput"),
    ("build (dbt build)", "build_s", "build_baseline_s", "≤ 1.5×"),
    ("validate (GX)", "validate_s", "validate_baseline_s", "≤ 2×"),
)
RUN_ROWS = (
    ("sanpi run, cold", "cold_run_s", None),
    ("sanpi run, no change", "noop_rerun_s", "≤ 10"),
    ("add a round, 1× history", "add_round_1x_s", None),
    ("add a round, 10× history", "add_round_10x_s", "≤ 1.2× the 1× figure"),
)


def _s(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and value != value:
        return "—"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def _ratio(a, b) -> str:
    return "—" if a is None or b is None or not b else f"{a / b:.2f}×"


def machine() -> str:
    return f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} {platform.machine()}"


def table(sizes: list[dict], common: dict, markdown: bool = False) -> str:
    """One column per size."""
    header = ["", *(f"{s['rows']:,} rows" for s in sizes)]
    lines: list[list[str]] = []
    for label, key, base, target in STAGE_ROWS:
        if not any(s.get(key) is not None for s in sizes):
            continue
        # (The ingest pair is measured several times, alternating: medians, see scenarios.INGEST_PAIRS.)
        pairs = max((s.get("ingest_pairs") or 1 for s in sizes), default=1) if key == "ingest_s" else 1
        median = f" (median of {pairs})" if pairs > 1 else ""
        lines.append([f"{label}: sanpi s{median}"] + [_s(s.get(key)) for s in sizes])
        lines.append([f"{label}: bare DuckDB s{median}"] + [_s(s.get(base)) for s in sizes])
        lines.append([f"{label}: ratio (target {target})"] + [_ratio(s.get(key), s.get(base)) for s in sizes])
    if any(s.get("build_run_only_s") for s in sizes):
        lines.append(["dbt run only (no tests) s"] + [_s(s.get("build_run_only_s")) for s in sizes])
    if any(s.get("validate_first_s") for s in sizes):
        lines.append(["validate, first run (creates GX project) s"] + [_s(s.get("validate_first_s")) for s in sizes])
    # (A round is added several times to the same history: medians, see scenarios.ADD_ROUND_RUNS.)
    add_runs = max((s.get("add_round_runs") or 1 for s in sizes), default=1)
    for label, key, target in RUN_ROWS:
        if any(s.get(key) is not None for s in sizes):
            median = f" (median of {add_runs})" if key.startswith("add_round") and add_runs > 1 else ""
            lines.append([label + " s" + median + (f" (target {target})" if target else "")]
                         + [_s(s.get(key)) for s in sizes])
    if any(s.get("add_round_growth") for s in sizes):
        lines.append(["add a round: 10× / 1× history"] + [_ratio(s.get("add_round_10x_s"), s.get("add_round_1x_s"))
                                                          for s in sizes])
    for label, key in (("ingest", "ingest"), ("dbt build", "build"), ("GX validate", "validate"),
                       ("sanpi run cold", "cold_run"), ("add a round, 10× history", "add_round_10x")):
        if any(s.get(f"{key}_peak_rss_mb") for s in sizes):
            lines.append([f"peak memory MB: {label}"] + [_s(s.get(f"{key}_peak_rss_mb")) for s in sizes])
    lines.append(["peak memory MB: largest sanpi stage (target ≤ 2048)"] + [_s(s.get("peak_rss_mb")) for s in sizes])
    lines.append(["peak memory MB: largest baseline"] + [_s(s.get("baseline_peak_rss_mb")) for s in sizes])
    lines.append(["generate campaign s"] + [_s(s.get("generate_s")) for s in sizes])
    extra = []
    if common.get("sample_cold_run_s") is not None:
        extra.append(f"bundled sample: cold `sanpi run` {_s(common['sample_cold_run_s'])} s (target ≤ 30 s), "
                     f"no-change rerun {_s(common.get('sample_noop_rerun_s'))} s (target ≤ 10 s)")
    if common.get("prefect_overhead_s") is not None:
        extra.append(f"an empty Prefect flow run (temporary API start-up): {_s(common['prefect_first_start_s'])} s "
                     f"with a fresh PREFECT_HOME, {_s(common['prefect_overhead_s'])} s after")
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(row) + " |" for row in lines]
        out += [""] + [f"- {e}" for e in extra]
        return "\n".join(out) + "\n"
    width = max(len(r[0]) for r in [header, *lines])
    cols = [max(len(r[i]) for r in [header, *lines]) for i in range(1, len(header))]
    fmt = lambda row: row[0].ljust(width) + "  " + "  ".join(c.rjust(w) for c, w in zip(row[1:], cols))  # noqa: E731
    return "\n".join([fmt(header), *map(fmt, lines), *extra]) + "\n"


def as_json(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str)
