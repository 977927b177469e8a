"""A synthetic campaign of any size, for benchmarks: `sanpi sample --scale N --out DIR`.

Same shapes as the bundled sample (data/sample): `bulletins/round_NN.json` with the provincial
figures per stage, `submissions/<round>/<unit>.csv` (UTF-8 with BOM, header
序号,项目代码,项目名称,所在县区,所属行业,阶段,总投资(亿元)) and a few small `.xlsx` files (the plain
workbook of the sample writers), so both readers stay exercised. Exactly `rows` project-stage rows;
every bulletin's project counts equal the sum of the units' rows and its 亿元 figures are the exact
sums rounded half-up to one decimal (the sample's convention), so reconciliation passes.

Built for speed rather than realism: whole rounds are planned as integer counts, every project
attribute (county, sector, name, amount) is a hash of its identity (unit, first round, sequence)
computed with numpy, and each CSV is written by DuckDB's `COPY ... TO`. 10^7 rows take a few
minutes on 2 cores, mostly spent writing about 1 GB of CSV.

Lifecycle, as in the sample: about 45% of a round's started projects were signed by the same unit
the round before, and 85% of a production batch was started the round before (same code, name,
county and sector; the amount is sometimes revised). Project codes are
`{unit_code}-R{first round:02d}-{seq:04d}`; the sequence widens beyond 4 digits only when a unit
lists more than 9999 new projects in one round (about 3·10^6 rows at 15 rounds), and the round
beyond 2 digits only past round 99.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np

from sanpi.reference import published_rounds, units

STAGES = ("signed", "started", "production")
STAGE_ZH = ("签约一批", "开工一批", "投产一批")
CSV_COLUMNS = ("序号", "项目代码", "项目名称", "所在县区", "所属行业", "阶段", "总投资(亿元)")
DEFAULT_SEED = 20210710
DEFAULT_ROUNDS = 15

STAGE_SHARE = (0.28, 0.32, 0.40)   # of a round's rows (the sample: about 27 / 34 / 39 %)
STARTED_FROM_SIGNED = 0.45          # share of a unit's started batch signed by it the round before
PRODUCTION_FROM_STARTED = 0.85      # share of a production batch started the round before
REVISED_SHARE = 0.25                # carried-over entries that show a revised amount
FLOOR, CAP = 30, 80000              # hundredths of 亿元: 0.30 .. 800 亿元 per project
MEAN_YI = 7.0
SIGMA = 1.2
XLSX_UNIT = "419001"                # 济源示范区 sends its first rounds as xlsx ...
XLSX_ROUNDS = 3
XLSX_CAP = 40                       # ... of at most 40 projects per stage (the rest go to 郑州)
BIG_UNIT = "410100"
ROWS_PER_ROUND_MIN = 100            # fewer rows than this per round: fewer rounds

_SECTOR_WEIGHT = {"adv_mfg": 36, "emerging": 25, "digital_infra": 8, "major_infra": 5,
                  "services": 10, "livelihood": 6, "agriculture": 5, "other": 5}
_VARIANT_SHARE = 0.08
_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


# -- hashing: every attribute is a function of (seed, identity, salt) ---------------------------
def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser over uint64 arrays (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * np.uint64(0xBF58476D1CE4E5B9)
        x = x ^ (x >> np.uint64(27))
        x = x * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def _hash(seed: int, salt: int, *parts: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        h = _mix(np.full(len(parts[0]), (seed * 1_000_003 + salt) & 0xFFFFFFFFFFFFFFFF, dtype=np.uint64))
        for p in parts:
            h = _mix(h ^ p.astype(np.uint64))
        return h


def _uniform(h: np.ndarray) -> np.ndarray:
    """(0, 1) from the top 53 bits."""
    return ((h >> np.uint64(11)).astype(np.float64) + 0.5) / float(1 << 53)


# -- vocabulary (names.py word lists, seeds for sectors) ----------------------------------------
@dataclass(frozen=True)
class _Vocab:
    unit_codes: list[str]
    weights: np.ndarray             # per unit
    county_start: np.ndarray        # per unit: first global county index
    county_count: np.ndarray        # per unit
    counties: list[str]             # global
    prefixes: list[str]             # per global county: the place that heads a project name
    sector_codes: list[str]
    sector_cum: np.ndarray          # cumulative weights over sector_codes
    labels: list[str]               # global label list
    label_canonical: np.ndarray     # per sector: index of its canonical label
    variant_start: np.ndarray       # per sector: first variant label index (count below)
    variant_count: np.ndarray
    cores: list[str]                # global name-core list, '{n}' to fill
    core_start: np.ndarray          # per sector
    core_count: np.ndarray
    core_lo: np.ndarray             # per global core
    core_span: np.ndarray


def _vocab() -> _Vocab:
    from sanpi.sample import names
    from sanpi.sample.generator import UNIT_WEIGHT, sector_labels

    unit_codes = [u.code for u in units()]
    counties, prefixes, start, count = [], [], [], []
    for code in unit_codes:
        start.append(len(counties))
        count.append(len(names.COUNTIES[code]))
        for county in names.COUNTIES[code]:
            counties.append(county)
            prefixes.append(names.name_prefix(code, county))
    canonical, variants = sector_labels()
    sector_codes = [c for c in _SECTOR_WEIGHT if c in canonical]
    labels, canon_idx, var_start, var_count = [], [], [], []
    cores, core_start, core_count, core_lo, core_span = [], [], [], [], []
    for code in sector_codes:
        canon_idx.append(len(labels))
        labels.append(canonical[code])
        var_start.append(len(labels))
        var_count.append(len(variants.get(code, [])))
        labels += variants.get(code, [])
        core_start.append(len(cores))
        core_count.append(len(names._CORES[code]))
        for core, lo, hi in names._CORES[code]:
            cores.append(core)
            core_lo.append(lo)
            core_span.append(hi - lo + 1)
    weights = np.array([_SECTOR_WEIGHT[c] for c in sector_codes], dtype=np.float64)
    return _Vocab(
        unit_codes, np.array([UNIT_WEIGHT[c] for c in unit_codes], dtype=np.float64),
        np.array(start), np.array(count), counties, prefixes, sector_codes,
        np.cumsum(weights) / weights.sum(), labels, np.array(canon_idx), np.array(var_start),
        np.array(var_count), cores, np.array(core_start), np.array(core_count),
        np.array(core_lo), np.array(core_span))


# -- the plan: integer counts per round, stage and unit -----------------------------------------
def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    raw = total * weights / weights.sum()
    parts = np.floor(raw).astype(np.int64)
    short = total - int(parts.sum())
    if short:
        order = np.lexsort((np.arange(len(raw)), -(raw - parts)))
        parts[order[:short]] += 1
    return parts


@dataclass
class _Plan:
    rounds: int
    counts: np.ndarray        # [round index, stage, unit] rows listed
    from_prev: np.ndarray     # [round index, stage, unit] carried over (started: from signed; production: from started)
    new_start: np.ndarray     # [round index, stage, unit] first new sequence number - 1
    seq_width: int
    round_width: int


def _plan(rows: int, rounds: int, seed: int, vocab: _Vocab) -> _Plan:
    n_units = len(vocab.unit_codes)
    xlsx_unit = vocab.unit_codes.index(XLSX_UNIT)
    big_unit = vocab.unit_codes.index(BIG_UNIT)
    sizes = np.full(rounds, rows // rounds, dtype=np.int64)
    sizes[: rows % rounds] += 1
    counts = np.zeros((rounds, 3, n_units), dtype=np.int64)
    for i in range(rounds):
        rng = np.random.default_rng([seed, 7, i + 1])
        shares = np.array(STAGE_SHARE) * rng.uniform(0.9, 1.1, 3)
        weights = vocab.weights * rng.uniform(0.85, 1.15, n_units)
        for s, n_stage in enumerate(_largest_remainder(int(sizes[i]), shares)):
            counts[i, s] = _largest_remainder(int(n_stage), weights)
            if i < XLSX_ROUNDS and counts[i, s, xlsx_unit] > XLSX_CAP:  # keep the xlsx files small
                counts[i, s, big_unit] += counts[i, s, xlsx_unit] - XLSX_CAP
                counts[i, s, xlsx_unit] = XLSX_CAP
    from_prev = np.zeros_like(counts)
    for i in range(1, rounds):
        from_prev[i, 1] = np.minimum((counts[i, 1] * STARTED_FROM_SIGNED).astype(np.int64), counts[i - 1, 0])
        from_prev[i, 2] = np.minimum((counts[i, 2] * PRODUCTION_FROM_STARTED).astype(np.int64), counts[i - 1, 1])
    new = counts - from_prev
    new_start = np.zeros_like(counts)
    new_start[:, 1] = new[:, 0]
    new_start[:, 2] = new[:, 0] + new[:, 1]
    most = int(new.sum(axis=1).max()) if rows else 0
    return _Plan(rounds, counts, from_prev, new_start, max(4, len(str(most))), max(2, len(str(rounds))))


def _started_list(plan: _Plan, i: int, u: int) -> tuple[np.ndarray, np.ndarray]:
    """(first round, sequence) of the projects unit u lists as started in round index i, in order."""
    carried = plan.from_prev[i, 1, u]
    new = plan.counts[i, 1, u] - carried
    first = np.concatenate([np.full(carried, i, dtype=np.int64), np.full(new, i + 1, dtype=np.int64)])
    seq = np.concatenate([np.arange(1, carried + 1), plan.new_start[i, 1, u] + np.arange(1, new + 1)])
    return first, seq


def _entries(plan: _Plan, i: int, u: int, stage: int) -> tuple[np.ndarray, np.ndarray]:
    """(first round, sequence) of the entries of one unit, stage and round (index i = round - 1)."""
    r = i + 1
    if stage == 0:
        return np.full(plan.counts[i, 0, u], r, dtype=np.int64), np.arange(1, plan.counts[i, 0, u] + 1)
    if stage == 1:
        return _started_list(plan, i, u)
    carried = plan.from_prev[i, 2, u]
    new = plan.counts[i, 2, u] - carried
    if carried:
        prev_first, prev_seq = _started_list(plan, i - 1, u)
        prev_first, prev_seq = prev_first[:carried], prev_seq[:carried]
    else:
        prev_first = prev_seq = np.zeros(0, dtype=np.int64)
    return (np.concatenate([prev_first, np.full(new, r, dtype=np.int64)]),
            np.concatenate([prev_seq, plan.new_start[i, 2, u] + np.arange(1, new + 1)]))


# -- one round's rows as columns ----------------------------------------------------------------
def _round_columns(plan: _Plan, i: int, seed: int, vocab: _Vocab) -> dict[str, np.ndarray]:
    """All rows of round index i, ordered by unit, stage, code: identities and hashed attributes."""
    unit, stage, first, seq, pos = [], [], [], [], []
    for u in range(len(vocab.unit_codes)):
        for s in range(3):
            f, q = _entries(plan, i, u, s)
            unit.append(np.full(len(f), u, dtype=np.int64))
            stage.append(np.full(len(f), s, dtype=np.int64))
            first.append(f)
            seq.append(q)
            pos.append(np.arange(1, len(f) + 1))
    unit, stage, first, seq, pos = (np.concatenate(a) if a else np.zeros(0, dtype=np.int64)
                                    for a in (unit, stage, first, seq, pos))
    ident = (unit, first, seq)
    county = vocab.county_start[unit] + (_hash(seed, 1, *ident) % vocab.county_count[unit].astype(np.uint64)).astype(np.int64)
    sector = np.searchsorted(vocab.sector_cum, _uniform(_hash(seed, 2, *ident)), side="right")
    sector = np.minimum(sector, len(vocab.sector_codes) - 1)
    variant = (_uniform(_hash(seed, 3, *ident)) < _VARIANT_SHARE) & (vocab.variant_count[sector] > 0)
    pick = _hash(seed, 4, *ident) % np.maximum(vocab.variant_count[sector], 1).astype(np.uint64)
    label = np.where(variant, vocab.variant_start[sector] + pick.astype(np.int64), vocab.label_canonical[sector])
    core = vocab.core_start[sector] + (_hash(seed, 5, *ident) % vocab.core_count[sector].astype(np.uint64)).astype(np.int64)
    n_val = vocab.core_lo[core] + (_hash(seed, 6, *ident) % vocab.core_span[core].astype(np.uint64)).astype(np.int64)
    # Lognormal amount (Box-Muller over two hashed uniforms), in hundredths of 亿元.
    u1, u2 = _uniform(_hash(seed, 7, *ident)), _uniform(_hash(seed, 8, *ident))
    normal = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
    base = np.exp(np.log(MEAN_YI) - SIGMA * SIGMA / 2 + SIGMA * normal) * 100
    rnd = np.full(len(unit), i + 1, dtype=np.int64)
    revise = (first < i + 1) & (_uniform(_hash(seed, 9, *ident, rnd)) < REVISED_SHARE)
    factor = np.where(revise, 0.8 + 0.5 * _uniform(_hash(seed, 10, *ident, rnd)), 1.0)
    amount = np.clip(np.rint(base * factor), FLOOR, CAP).astype(np.int64)
    return {"unit": unit, "stage": stage, "pos": pos, "first": first, "seq": seq, "county": county,
            "label": label, "core": core, "n_val": n_val, "amount": amount}


# -- writers -------------------------------------------------------------------------------------
def _sql_list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _csv_query(vocab: _Vocab, plan: _Plan) -> str:
    """Columns of _part (a slice of the round's columns) to the sample's CSV form."""
    return f"""
        SELECT pos AS "序号",
               {_sql_list(vocab.unit_codes)}[unit + 1] || '-R' || lpad(CAST(first AS VARCHAR), {plan.round_width}, '0')
                   || '-' || lpad(CAST(seq AS VARCHAR), {plan.seq_width}, '0') AS "项目代码",
               {_sql_list(vocab.prefixes)}[county + 1]
                   || replace({_sql_list(vocab.cores)}[core + 1], '{{n}}', CAST(n_val AS VARCHAR)) || '项目' AS "项目名称",
               {_sql_list(vocab.counties)}[county + 1] AS "所在县区",
               {_sql_list(vocab.labels)}[label + 1] AS "所属行业",
               {_sql_list(list(STAGE_ZH))}[stage + 1] AS "阶段",
               CAST(amount // 100 AS VARCHAR) || '.' || lpad(CAST(amount % 100 AS VARCHAR), 2, '0') AS "总投资(亿元)"
        FROM _part"""


def _with_bom(tmp: Path, target: Path) -> None:
    """DuckDB writes no byte-order mark: prepend one (kernel-side copy of the rest)."""
    with open(tmp, "rb") as src, open(target, "wb") as dst:
        dst.write(b"\xef\xbb\xbf")
        dst.flush()
        remaining = os.fstat(src.fileno()).st_size
        while remaining > 0:
            sent = os.sendfile(dst.fileno(), src.fileno(), None, min(remaining, 1 << 30))
            if sent == 0:
                break
            remaining -= sent
    tmp.unlink()


def _write_xlsx(path: Path, con, query: str, round_no: int, unit_code: str) -> None:
    """The plain workbook of the sample writers (one sheet per stage), through their own code."""
    from sanpi.reference import resolve_unit
    from sanpi.sample.generator import Entry, Project
    from sanpi.sample.writers import write_xlsx

    rows = con.sql(query).fetchall()
    stages: dict[str, list] = {s: [] for s in STAGES}
    for _, code, name, county, label, stage_zh, amount in rows:
        project = Project(code=code, unit_code=unit_code, name=name, county=county, sector_code="",
                          sector_label=label, first_round=round_no)
        stages[STAGES[STAGE_ZH.index(stage_zh)]].append(Entry(project, int(Decimal(amount) * 100), False))
    write_xlsx(path, round_no, resolve_unit(unit_code), stages)


def _held_on(round_no: int, reference: dict[int, dict]) -> str:
    meta = reference.get(round_no)
    if meta and meta.get("held_on"):
        return meta["held_on"]
    month = 6 + 3 * (round_no - 1)  # quarterly from July 2021
    return dt.date(2021 + month // 12, month % 12 + 1, 10).isoformat()


_SENTENCE = ("本期集中签约项目{n}个,总投资{v}亿元。", "本期集中开工项目{n}个,总投资{v}亿元。",
             "本期集中投产项目{n}个,总投资{v}亿元。")


def _bulletin(round_no: int, counts: np.ndarray, sums: np.ndarray, reference: dict[int, dict]) -> dict:
    """The provincial figures of a round, in the sample's bulletin JSON shape."""
    figures = []
    for s, stage in enumerate(STAGES):
        n = int(counts[s])
        value = (Decimal(int(sums[s])) / 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        sentence = _SENTENCE[s].format(n=n, v=value)
        for measure, v in (("projects", n), ("investment_yi", float(value))):
            figures.append({"breakdown": None, "measure": measure, "qualifier": "exact", "source_text": sentence,
                            "stage": stage, "unit": "河南省", "unit_level": "province", "value": v})
    meta = reference.get(round_no) or {}
    return {"cumulative": None, "defects": [], "figures": figures, "file": f"round_{round_no:02d}.txt",
            "held_on": _held_on(round_no, reference), "main_venue": meta.get("main_venue") or None,
            "notes": "Synthetic bulletin written by `sanpi sample --scale`; figures are the sums of the "
                     "round's unit submissions (亿元 rounded half-up to one decimal).",
            "province": "河南", "round": round_no, "source_url": None, "synthetic": True}


# -- the entry point -----------------------------------------------------------------------------
def generate_scaled(out_dir: Path, rows: int, seed: int = DEFAULT_SEED, *, rounds: int = DEFAULT_ROUNDS,
                    only_rounds: list[int] | range | None = None) -> dict:
    """Write a synthetic campaign of exactly `rows` project-stage rows over `rounds` rounds into
    out_dir (bulletins/ and submissions/ are replaced). With `only_rounds`, write just those rounds
    of that campaign and leave the rest of out_dir alone (the benchmark adds a round to a history
    this way). Returns a summary: rows, rounds, files, bytes, seconds, rows per round."""
    started = time.perf_counter()
    if rows < 1:
        raise ValueError("rows must be positive")
    out_dir = Path(out_dir)
    rounds = max(1, min(rounds, rows // ROWS_PER_ROUND_MIN))
    vocab = _vocab()
    plan = _plan(rows, rounds, seed, vocab)
    selected = sorted(set(range(1, rounds + 1) if only_rounds is None else only_rounds))
    if any(r < 1 or r > rounds for r in selected):
        raise ValueError(f"rounds to write must lie in 1..{rounds}")
    if only_rounds is None:
        for sub in ("bulletins", "submissions"):
            shutil.rmtree(out_dir / sub, ignore_errors=True)
    (out_dir / "bulletins").mkdir(parents=True, exist_ok=True)
    reference = {int(m["round_no"]): m for m in published_rounds()}
    unit_names = {u.code: u.name_zh for u in units()}

    import duckdb
    import pandas as pd

    query = _csv_query(vocab, plan)
    csv_files = xlsx_files = written_rows = 0
    per_round: dict[int, int] = {}
    with duckdb.connect() as con, tempfile.TemporaryDirectory(dir=out_dir, prefix=".scale-") as tmp:
        con.execute("SET preserve_insertion_order = true")
        for r in selected:
            i = r - 1
            cols = _round_columns(plan, i, seed, vocab)
            folder = out_dir / "submissions" / str(r)
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            bounds = np.searchsorted(cols["unit"], np.arange(len(vocab.unit_codes) + 1))
            for u, code in enumerate(vocab.unit_codes):
                lo, hi = int(bounds[u]), int(bounds[u + 1])
                if hi == lo:
                    continue  # a unit with nothing to list this round sends no file
                _part = pd.DataFrame({k: v[lo:hi] for k, v in cols.items()})  # noqa: F841 (replacement scan)
                con.register("_part", _part)
                if code == XLSX_UNIT and i < XLSX_ROUNDS:
                    _write_xlsx(folder / f"{unit_names[code]}.xlsx", con, query, r, code)
                    xlsx_files += 1
                else:
                    part_tmp = Path(tmp) / f"{r}_{code}.csv"
                    con.execute(f"COPY ({query}) TO '{part_tmp}' (HEADER, DELIMITER ',', QUOTE '\"')")
                    _with_bom(part_tmp, folder / f"{unit_names[code]}.csv")
                    csv_files += 1
                con.unregister("_part")
            counts = plan.counts[i].sum(axis=1)
            sums = np.array([cols["amount"][cols["stage"] == s].sum() for s in range(3)])
            doc = _bulletin(r, counts, sums, reference)
            (out_dir / "bulletins" / f"round_{r:02d}.json").write_bytes(
                (json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8"))
            per_round[r] = int(counts.sum())
            written_rows += per_round[r]
    return {
        "seed": seed, "out_dir": str(out_dir), "rows": written_rows, "campaign_rows": rows,
        "rounds": rounds, "rounds_written": len(selected), "csv_files": csv_files, "xlsx_files": xlsx_files,
        "bulletins": len(selected), "seq_width": plan.seq_width,
        "bytes": sum(p.stat().st_size for p in out_dir.rglob("*") if p.is_file()),
        "seconds": round(time.perf_counter() - started, 2),
        "rows_per_round": per_round,
    }
