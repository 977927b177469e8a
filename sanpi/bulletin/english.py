"""English reports of a round ("754 projects were signed with a total investment of 578.27
billion yuan"). Only texts that name a numbered round of the campaign yield figures: annual
aggregates in English news are not round figures."""
from __future__ import annotations

import re
from decimal import Decimal

from sanpi.bulletin.units import PROVINCE, Unit, unit_for
from sanpi.reference import units

_ORDINALS = {w: i for i, w in enumerate(
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
    "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth".split(), start=1)}
_ROUND = re.compile(r"\b(?:(\d{1,2})(?:st|nd|rd|th)|(" + "|".join(_ORDINALS) + r"))\s+(?:round|batch|phase|session)\b", re.I)
_CAMPAIGN = re.compile(r"three[- ]batch|\"three batches\"|three batches", re.I)
_COUNT = re.compile(r"(?:(?P<q>about|around|nearly|approximately|more than|over|some)\s+)?"
                    r"(?P<n>\d{1,3}(?:,\d{3})+|\d+)\s+(?:(?:major|key|new|industrial)\s+)*projects?\b", re.I)
_AMOUNT = re.compile(r"investment(?:s)?\s+(?:of\s+|totaling\s+|worth\s+)?(?:(?P<q>about|around|nearly|approximately|"
                     r"more than|over)\s+)?(?P<n>\d+(?:\.\d+)?)\s*(?P<mag>trillion|billion|million)\s+"
                     r"(?:yuan|RMB|CNY)", re.I)
_STAGES = (("signed", re.compile(r"\bsign(?:ed|ing)\b|contracts?\b", re.I)),
           ("started", re.compile(r"broke ground|groundbreaking|(?:start|began|begun|commenc)\w*\s+construction|"
                                  r"construction\s+(?:start|began|commenc)\w*", re.I)),
           ("production", re.compile(r"(?:put|went|go|going)\s+into\s+(?:production|operation)|"
                                     r"(?:start|began|commenc)\w*\s+production|production\s+commence", re.I)))
_QUAL = {"about": "approx", "around": "approx", "nearly": "approx", "approximately": "approx",
         "some": "approx", "more than": "lower_bound", "over": "lower_bound"}
_SCALE = {"trillion": Decimal(10000), "billion": Decimal(10), "million": Decimal("0.01")}


def is_english(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    latin = sum(1 for c in letters if c.isascii())
    return bool(letters) and latin / len(letters) > 0.8


def round_of(text: str) -> int | None:
    if not _CAMPAIGN.search(text):
        return None
    for m in _ROUND.finditer(text):
        return int(m.group(1)) if m.group(1) else _ORDINALS[m.group(2).lower()]
    return None


def _unit(sentence: str, pos: int) -> Unit:
    found = Unit(PROVINCE, "province")
    for u in units():
        for name in (u.name_en, *[a for a in u.aliases if a.isascii()]):
            i = sentence.find(name)
            if 0 <= i < pos:
                found = unit_for(u.name_zh)
    return found


def read_sentence(sentence: str) -> list[tuple[Unit, str, str, Decimal, str]]:
    """(unit, stage, measure, value, qualifier) of one English sentence."""
    if re.search(r"\brespectively\b|\beach\b", sentence, re.I):
        return []
    counts = list(_COUNT.finditer(sentence))
    out = []
    for i, c in enumerate(counts):
        end = counts[i + 1].start() if i + 1 < len(counts) else len(sentence)
        segment = sentence[c.start():end]
        stages = [name for name, rx in _STAGES if rx.search(segment)]
        if len(stages) != 1:
            continue
        unit = _unit(sentence, c.start())
        out.append((unit, stages[0], "projects", Decimal(c.group("n").replace(",", "")),
                    _QUAL.get((c.group("q") or "").lower(), "exact")))
        a = _AMOUNT.search(segment)
        if a:
            value = (Decimal(a.group("n")) * _SCALE[a.group("mag").lower()]).normalize()
            value = value.quantize(Decimal(1)) if value == value.to_integral_value() else value
            out.append((unit, stages[0], "investment_yi", value,
                        _QUAL.get((a.group("q") or "").lower(), "exact")))
    return out
