"""Deterministic synthetic sample data: unit submissions and provincial bulletins, 15 rounds.

`generate_sample(out_dir)` rewrites out_dir/bulletins and out_dir/submissions and README.md;
the same seed always gives byte-identical files.
"""
from __future__ import annotations

import random
import shutil
from pathlib import Path

from sanpi.reference import units
from sanpi.sample.generator import STAGES, build_campaign, carry_over_share, start_share
from sanpi.sample.forms import correction_path, first_draft, pick_form
from sanpi.sample.writers import (readme, submission_name, write_bulletin, write_csv,
                                  write_xlsx)

DEFAULT_SEED = 20210710
CORRECTION_ROUNDS = (5, 11)  # rounds with one corrected resubmission (更正)

__all__ = ["DEFAULT_SEED", "generate_sample"]


def generate_sample(out_dir: Path, seed: int = DEFAULT_SEED) -> dict:
    """Write the sample into out_dir; return a summary (files written, rows per round)."""
    out_dir = Path(out_dir)
    campaign = build_campaign(seed)
    for sub in ("bulletins", "submissions"):  # stale files of an earlier run must not survive
        shutil.rmtree(out_dir / sub, ignore_errors=True)
        (out_dir / sub).mkdir(parents=True)
    names = random.Random(f"{seed}:files")  # own streams: names and forms never shift the data
    forms = random.Random(f"{seed}:forms")
    files = 0
    for rnd in campaign.rounds:
        write_bulletin(out_dir / "bulletins", campaign, rnd)
        folder = out_dir / "submissions" / str(rnd.round_no)
        folder.mkdir()
        corrected = forms.choice([u.code for u in units() if rnd.entries(u.code, "signed")]) \
            if rnd.round_no in CORRECTION_ROUNDS else None
        for unit in units():
            stages = {s: rnd.entries(unit.code, s) for s in STAGES}
            path = folder / submission_name(names, unit, rnd.round_no)
            form = pick_form(forms, path.suffix)
            versions = [(path, first_draft(stages)), (correction_path(path), stages)] \
                if unit.code == corrected else [(path, stages)]
            for target, content in versions:
                if target.suffix == ".xlsx":
                    write_xlsx(target, rnd.round_no, unit, content, form)
                else:
                    write_csv(target, content, form)
            files += len(versions)
        files += 2
    share, started = carry_over_share(campaign), start_share(campaign)
    (out_dir / "README.md").write_bytes(readme(campaign, share, started).encode("utf-8"))
    return {
        "seed": seed,
        "out_dir": str(out_dir),
        "files": files + 1,
        "rows_per_round": {rnd.round_no: {s: len(rnd.stages[s]) for s in STAGES}
                           for rnd in campaign.rounds},
        "production_carry_over_share": round(share, 4),  # rounds 4-15
        "signed_to_started_share": round(started, 4),  # signed in rounds 1-11
        "bytes": sum(p.stat().st_size for p in out_dir.rglob("*") if p.is_file()),
    }
