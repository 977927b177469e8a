"""`sanpi parse-bulletin FILE... [--json]`: one JSON object per file, or a readable table."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from sanpi.bulletin.reader import read_bulletin

# Labels shape first (what the scorer and analysts compare), provenance after.
_ORDER = ("file", "province", "round", "held_on", "main_venue", "figures", "cumulative", "defects",
          "sha256", "source_url", "warnings")


def _ordered(result: dict) -> dict:
    return {k: result[k] for k in _ORDER if k in result} | {k: v for k, v in result.items() if k not in _ORDER}


def _table(result: dict) -> str:
    lines = [f"== {result['file']}  province={result['province']} round={result['round']} "
             f"held_on={result['held_on']} main_venue={result['main_venue']}"]
    if result.get("source_url"):
        lines.append(f"   source: {result['source_url']}")
    figures = result["figures"]
    if figures:
        lines.append(f"   {'unit':<10} {'stage':<15} {'measure':<14} {'value':>10} {'qualifier':<12} breakdown")
        for f in figures:
            b = f["breakdown"]
            lines.append(f"   {f['unit']:<10} {f['stage']:<15} {f['measure']:<14} {f['value']:>10} "
                         f"{f['qualifier']:<12} {b['dimension'] + ':' + b['category'] if b else ''}")
    else:
        lines.append("   (no figures)")
    if result.get("cumulative"):
        c = result["cumulative"]
        lines.append(f"   cumulative: {c['rounds']} rounds, {c['projects']} projects, "
                     f"{c['investment_yi']} 亿元 ({c['qualifier']})")
    for w in result.get("warnings") or []:
        sentence = w["sentence"].replace("\n", " ")
        lines.append(f"   warning: {w['reason']}" + (f": {sentence[:60]}…" if sentence else ""))
    return "\n".join(lines)


def run_parse_bulletin(files: list[str], as_json: bool) -> int:
    status = 0
    for name in files:
        try:
            data = Path(name).read_bytes()
            result = _ordered(read_bulletin(data, name))
        except (OSError, ValueError) as exc:
            status = 1
            print(f"sanpi parse-bulletin: {name}: {exc}", file=sys.stderr)
            if as_json:
                print(json.dumps({"file": name, "error": str(exc)}, ensure_ascii=False))
            continue
        if as_json:
            print(json.dumps(result, ensure_ascii=False))
        else:
            print(_table(result))
    return status
