"""The structured JSON bulletin (already in the output shape): validated and passed through."""
from __future__ import annotations

import json
from decimal import Decimal

from sanpi.bulletin.numbers import json_number
from sanpi.bulletin.units import PROVINCE, unit_for

STAGES = ("signed", "started", "production", "signed+started", "all")
MEASURES = ("projects", "investment_yi")
QUALIFIERS = ("exact", "approx", "lower_bound")
LEVELS = ("province", "city", "county")
DIMENSIONS = ("sector", "size_band", "source")


def looks_like_json_bulletin(data: bytes) -> bool:
    return data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def _check_figure(fig) -> str | None:
    """Why a figure is not in the contract's shape, or None."""
    if not isinstance(fig, dict):
        return "not an object"
    for key, allowed in (("stage", STAGES), ("measure", MEASURES), ("unit_level", LEVELS)):
        if fig.get(key) not in allowed:
            return f"{key} {fig.get(key)!r} not one of {', '.join(allowed)}"
    if fig.get("qualifier", "exact") not in QUALIFIERS:
        return f"qualifier {fig.get('qualifier')!r}"
    value = fig.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)) or value < 0:
        return f"value {value!r} is not a non-negative number"
    if fig["measure"] == "projects" and value != int(value):
        return f"project count {value} is not whole"
    unit = fig.get("unit")
    if fig["unit_level"] == "province" and unit != PROVINCE:
        return f"province-level unit {unit!r}"
    if fig["unit_level"] != "province":
        known = unit_for(unit) if isinstance(unit, str) else None
        if known is None or known.level != fig["unit_level"]:
            return f"unknown {fig['unit_level']} {unit!r}"
    b = fig.get("breakdown")
    if b is not None and (not isinstance(b, dict) or b.get("dimension") not in DIMENSIONS
                          or not isinstance(b.get("category"), str) or not b["category"]):
        return f"breakdown {b!r}"
    return None


def read_json_bulletin(data: bytes) -> dict:
    """Contract fields of a JSON bulletin; figures out of shape are dropped with a warning."""
    warnings = []
    try:
        doc = json.loads(data.decode("utf-8-sig"), parse_float=Decimal)
    except UnicodeDecodeError as exc:
        raise ValueError(f"JSON bulletin is not UTF-8: {exc}") from exc
    except json.JSONDecodeError as exc:
        doc = None
        warnings.append({"sentence": "", "reason": f"not valid JSON: {exc}"})
    if not isinstance(doc, dict) or not isinstance(doc.get("figures"), list):
        if doc is not None:
            warnings.append({"sentence": "", "reason": "JSON has no 'figures' list"})
        return {"source_url": None, "province": None, "round": None, "held_on": None,
                "main_venue": None, "figures": [], "cumulative": None, "defects": [],
                "warnings": warnings}
    figures = []
    for i, fig in enumerate(doc["figures"], start=1):
        problem = _check_figure(fig)
        if problem:
            warnings.append({"sentence": str((fig or {}).get("source_text") or "") if isinstance(fig, dict) else "",
                             "reason": f"figure {i} dropped: {problem}"})
            continue
        out = {k: fig.get(k) for k in ("unit", "unit_level", "stage", "measure")}
        out["value"] = json_number(Decimal(fig["value"]))
        out["qualifier"] = fig.get("qualifier", "exact")
        out["breakdown"] = fig.get("breakdown")
        out["source_text"] = fig.get("source_text")
        out["char_start"] = fig.get("char_start")
        out["char_end"] = fig.get("char_end")
        figures.append(out)
    cumulative = doc.get("cumulative")
    if isinstance(cumulative, dict):
        cumulative = {k: (json_number(v) if isinstance(v, Decimal) else v) for k, v in cumulative.items()}
    else:
        cumulative = None
    province = doc.get("province")
    if province not in ("河南", "other", None):
        warnings.append({"sentence": "", "reason": f"province {province!r} is neither 河南 nor other"})
        province = None
    return {"source_url": doc.get("source_url"), "province": province, "round": doc.get("round"),
            "held_on": doc.get("held_on"), "main_venue": doc.get("main_venue"), "figures": figures,
            "cumulative": cumulative, "defects": list(doc.get("defects") or []), "warnings": warnings}
