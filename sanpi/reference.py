"""Reference facts shared by Python and dbt: the dbt seeds are the single source of truth."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache

from sanpi.settings import SEEDS_DIR

STAGE_LABELS = {
    "签约一批": "signed", "签约": "signed", "signed": "signed",
    "开工一批": "started", "开工": "started", "started": "started",
    "投产一批": "production", "投产": "production", "结转投产": "production",
    "竣工投产": "production", "production": "production",
}


@dataclass(frozen=True)
class Unit:
    code: str
    name_zh: str
    short_zh: str
    name_en: str
    unit_type: str
    aliases: tuple[str, ...]


def _read_seed(name: str) -> list[dict[str, str]]:
    with open(SEEDS_DIR / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@lru_cache(maxsize=1)
def units() -> tuple[Unit, ...]:
    return tuple(
        Unit(r["unit_code"], r["name_zh"], r["short_zh"], r["name_en"], r["unit_type"],
             tuple(a for a in r["aliases"].split("|") if a))
        for r in _read_seed("ref_units.csv")
    )


@lru_cache(maxsize=1)
def _unit_lookup() -> dict[str, Unit]:
    lookup: dict[str, Unit] = {}
    for u in units():
        for name in (u.code, u.name_zh, u.short_zh, u.name_en, *u.aliases):
            lookup[name.strip().lower()] = u
    return lookup


def resolve_unit(name_or_code: str) -> Unit | None:
    """Resolve a unit name, alias or code (e.g. 济源, 济源市, 419001) to its reporting unit."""
    return _unit_lookup().get(name_or_code.strip().lower())


def resolve_stage(label: str) -> str | None:
    return STAGE_LABELS.get(label.strip())


@lru_cache(maxsize=1)
def published_rounds() -> tuple[dict[str, str], ...]:
    """Published provincial figures per round (empty string = not published)."""
    return tuple(_read_seed("ref_rounds.csv"))
