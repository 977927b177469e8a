"""The benchmark's data generator and the `sanpi bench` command (no timing assertions: figures vary)."""
from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook

from sanpi.sample.scale import generate_scaled
from tests.conftest import REPO

STAGE_CODES = {"签约一批": "signed", "开工一批": "started", "投产一批": "production"}
CODE = re.compile(r"^\d{6}-R\d{2,}-\d{4,}$")


def _rows(folder: Path) -> list[tuple[int, str, str, Decimal]]:
    """(round, stage, project code, 亿元) of every project row of every submission file."""
    out = []
    for path in sorted((folder / "submissions").glob("*/*")):
        round_no = int(path.parent.name)
        if path.suffix == ".csv":
            raw = path.read_bytes()
            assert raw.startswith(b"\xef\xbb\xbf"), f"{path} has no UTF-8 byte-order mark"
            reader = csv.DictReader(raw.decode("utf-8-sig").splitlines())
            assert reader.fieldnames == ["序号", "项目代码", "项目名称", "所在县区", "所属行业", "阶段", "总投资(亿元)"]
            out += [(round_no, STAGE_CODES[r["阶段"]], r["项目代码"], Decimal(r["总投资(亿元)"])) for r in reader]
        else:
            workbook = load_workbook(path, read_only=True)
            for sheet in workbook.worksheets:
                for row in list(sheet.iter_rows(values_only=True))[2:]:  # title, header, then projects
                    out.append((round_no, STAGE_CODES[sheet.title], row[1], Decimal(str(row[5]))))
    return out


def _bulletins(folder: Path) -> dict[tuple[int, str], dict[str, Decimal]]:
    figures: dict[tuple[int, str], dict[str, Decimal]] = {}
    for path in (folder / "bulletins").glob("round_*.json"):
        doc = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
        for fig in doc["figures"]:
            assert fig["unit"] == "河南省" and fig["source_text"]
            figures.setdefault((doc["round"], fig["stage"]), {})[fig["measure"]] = Decimal(fig["value"])
    return figures


def test_generate_scaled_gives_exactly_n_rows_matching_the_bulletins(tmp_path):
    summary = generate_scaled(tmp_path, rows=3000, seed=7)
    rows = _rows(tmp_path)
    assert len(rows) == summary["rows"] == 3000
    assert summary["xlsx_files"] >= 1 and summary["csv_files"] > summary["xlsx_files"]
    assert all(CODE.match(code) for _, _, code, _ in rows)
    assert len({(r, s, code) for r, s, code, _ in rows}) == len(rows), "a code twice in one round and stage"
    # Lifecycle: some projects are listed again in a later round (same code, another stage).
    first_round = {}
    for r, _, code, _ in sorted(rows):
        first_round.setdefault(code, r)
    assert any(first_round[code] < r for r, _, code, _ in rows)

    sums: dict[tuple[int, str], list] = defaultdict(lambda: [0, Decimal(0)])
    for r, stage, _, amount in rows:
        sums[(r, stage)][0] += 1
        sums[(r, stage)][1] += amount
    bulletins = _bulletins(tmp_path)
    assert set(bulletins) == set(sums)
    for key, (count, amount) in sums.items():
        published = bulletins[key]
        assert published["projects"] == count, key                          # counts exact
        assert abs(published["investment_yi"] - amount) <= Decimal("0.05"), key  # one published decimal
        assert published["investment_yi"] == published["investment_yi"].quantize(Decimal("0.1"))


def test_generate_scaled_writes_single_rounds_of_the_same_campaign(tmp_path):
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    generate_scaled(whole, rows=1200, seed=3, rounds=6)
    generate_scaled(parts, rows=1200, seed=3, rounds=6, only_rounds=range(1, 4))
    assert sorted(p.name for p in (parts / "submissions").iterdir()) == ["1", "2", "3"]
    generate_scaled(parts, rows=1200, seed=3, rounds=6, only_rounds=[4, 5, 6])
    assert sorted(_rows(parts)) == sorted(_rows(whole))
    assert _bulletins(parts) == _bulletins(whole)


def test_bench_prints_one_json_object_with_every_figure(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "sanpi.cli", "bench", "--rows", "2000", "--json", "--quick",
                           "--work", str(tmp_path / "work")],
                          cwd=REPO, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1, proc.stdout[:2000]  # one JSON object, nothing else on stdout
    figures = json.loads(lines[0])
    for key in ("ingest_ratio", "build_ratio", "validate_ratio", "cold_run_s", "noop_rerun_s", "peak_rss_mb",
                "ingest_s", "ingest_baseline_s", "build_s", "build_baseline_s", "validate_s", "validate_baseline_s"):
        assert isinstance(figures[key], (int, float)) and figures[key] > 0, key
    # --quick leaves out the history scenarios: the keys are there, without a figure.
    assert "add_round_1x_s" in figures and "add_round_10x_s" in figures
    assert figures["rows"] == 2000
    # Everything ran in the work folder: the repository's warehouse was not touched.
    assert (tmp_path / "work" / "rows_2000" / "e2e" / "data" / "warehouse.duckdb").exists()


def _bench_stage(work: Path, stage: str) -> tuple[dict, dict]:
    """`sanpi bench --rows 2000 --stages <stage> --keep`: its JSON figures and its details file."""
    proc = subprocess.run([sys.executable, "-m", "sanpi.cli", "bench", "--rows", "2000", "--json",
                           "--stages", stage, "--keep", "--work", str(work)],
                          cwd=REPO, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return (json.loads(proc.stdout.strip().splitlines()[0]),
            json.loads((work / "details_2000.json").read_text(encoding="utf-8")))


def test_ingest_pair_is_measured_three_times_and_the_medians_reported(tmp_path):
    """Single runs of the ingest pair vary by 5-10% here: the pair is run INGEST_PAIRS times, alternating,
    and each side's median is the figure (its peak memory the largest of the runs)."""
    figures, details = _bench_stage(tmp_path / "work", "ingest")
    pairs = details["ingest_pairs"]
    assert len(pairs) == 3
    sanpi_runs = sorted(p["sanpi_s"] for p in pairs)
    baseline_runs = sorted(p["baseline_s"] for p in pairs)
    assert figures["ingest_s"] == sanpi_runs[1] and figures["ingest_baseline_s"] == baseline_runs[1]
    assert abs(figures["ingest_ratio"] - sanpi_runs[1] / baseline_runs[1]) < 0.011


def test_a_round_is_added_three_times_to_the_same_history_and_the_median_reported(tmp_path):
    """Each add-a-round run starts from a copy of the same history (else the second run would find
    nothing new), and the figure is the median of the runs. A work folder used before is no matter:
    each history starts from an empty workspace."""
    work = tmp_path / "work"
    for label in ("1x", "10x"):   # what an earlier bench in this folder could have left (here: no database)
        leftover = work / "rows_2000" / f"history_{label}" / "data" / "warehouse.duckdb"
        leftover.parent.mkdir(parents=True)
        leftover.write_bytes(b"not a database")
    figures, details = _bench_stage(work, "history")
    for label in ("1x", "10x"):
        runs = details[f"history_{label}"]["runs"]
        assert len(runs) == 3 and figures["add_round_runs"] == 3
        # every run loaded the new round's files: the same number each time, not "nothing new"
        assert {r["status"] for r in runs} == {"passed"}, runs
        changed = {r["files_changed"] for r in runs}
        assert len(changed) == 1 and changed.pop() > 0, runs
        assert figures[f"add_round_{label}_s"] == sorted(r["seconds"] for r in runs)[1]
    assert figures["add_round_growth"] == round(figures["add_round_10x_s"] / figures["add_round_1x_s"], 2)


def test_page_cache_settled_before_a_run_drops_earlier_files_and_reads_the_inputs(tmp_path):
    from sanpi.bench.measure import settle_page_cache

    (tmp_path / "inbox" / "submissions").mkdir(parents=True)
    (tmp_path / "inbox" / "submissions" / "a.csv").write_bytes(b"x" * 5000)
    (tmp_path / "earlier" / "data").mkdir(parents=True)
    (tmp_path / "earlier" / "data" / "warehouse.duckdb").write_bytes(b"y" * 7000)
    (tmp_path / "earlier" / "raw").write_bytes(b"z" * 300)
    (tmp_path / "link").symlink_to(tmp_path / "inbox" / "submissions" / "a.csv")
    (tmp_path / "prefect_home").mkdir()
    (tmp_path / "prefect_home" / "prefect.db").write_bytes(b"p" * 1000)
    # the files outside the inputs and the kept folders, once each (not through a link)
    assert settle_page_cache(tmp_path, tmp_path / "inbox", (tmp_path / "prefect_home",)) == 7300
    assert settle_page_cache(tmp_path, tmp_path / "inbox") == 8300
