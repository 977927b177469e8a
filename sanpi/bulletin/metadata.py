"""Metadata of a text: which province's campaign, which round, when, where, and the cumulative
statement (连续十三期…共涉及18653个重点项目,总投资额13.87万亿元)."""
from __future__ import annotations

import datetime as dt
import re
from collections import Counter

from sanpi.bulletin.numbers import json_number, parse_number
from sanpi.bulletin.tokens import tokenize
from sanpi.bulletin.units import OTHER_PROVINCES, counties, find_mentions

_ROUND = re.compile(r"第([\d一二两三四五六七八九十]+)期\s*[“\"]?\s*(三个一批|签约一批|开工一批|投产一批)")
_ROUND_LOOSE = re.compile(r"第([\d一二两三四五六七八九十]+)期[^,。;]{0,12}(?:项目建设|活动)")
_SHANXI_STYLE = re.compile(r"第[\d一二三四五六七八九十]+次\s*[“\"]?三个一批")
_CAMPAIGN = re.compile(r"三个一批|签约一批|开工一批|投产一批")
_UNKNOWN_CITY = re.compile(r"(?:^|[,。;\n ])([\u4e00-\u9fff]{2,3})市\s*[“\"]?三个一批")


def province_of(text: str, round_no: int | None) -> tuple[str | None, str | None]:
    """('河南' | 'other' | None, reason for 'other'). Henan numbers its rounds 第N期; another
    province's campaign names that province, or cities that are not Henan's, with 三个一批."""
    henan = 0
    other = 0
    reason = None
    for m in find_mentions(text):
        if m.unit is not None and m.unit.level != "province":  # 全省 is any province's word
            henan += 1
    henan += 3 * len(_ROUND.findall(text)) + 2 * text.count("河南") + text.count("豫")
    henan += 2 * len(re.findall(r"\bHenan\b", text))
    for sentence in re.split(r"[。\n]", text):
        if not _CAMPAIGN.search(sentence):
            continue
        for name in OTHER_PROVINCES:
            if name in sentence:
                other += 3
                reason = reason or name
        for m in _UNKNOWN_CITY.finditer(sentence):
            city = m.group(1)
            if not find_mentions(city + "市") and city + "市" not in counties() and city not in ("全", "各", "我", "本", "该"):
                other += 2
                reason = reason or city + "市"
    other += 3 * len(_SHANXI_STYLE.findall(text)) + 4 * len(re.findall(r"全省开发区", text))
    if other > henan:
        return "other", reason
    if henan or _CAMPAIGN.search(text):
        return "河南", None
    return None, None


def round_of(text: str) -> int | None:
    found = [parse_number(m.group(1)) for m in _ROUND.finditer(text)]
    if not found:
        found = [parse_number(m.group(1)) for m in _ROUND_LOOSE.finditer(text)]
    found = [int(n) for n in found if n is not None and 0 < n < 100]
    if not found:
        return None
    counts = Counter(found)
    best = max(counts.values())
    return next(n for n in found if counts[n] == best)


_FULL_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
_MONTH_DAY = re.compile(r"(?<![\d年])(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
_DATE_LINE = re.compile(r"(20\d{2})[-/.年](\d{1,2})[-/.月](\d{1,2})")
_YEAR_LABEL = re.compile(r"(20\d{2})\s*年(?!\s*\d{1,2}\s*月)(?!\s*(?:以来|来|前|底|末|初))")


def _date(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


_PUBLISHED = re.compile(r"(?:发布|时间|日期|更新|编辑)[^\n]{0,4}\Z")


def _is_date_line(text: str, m: re.Match) -> bool:
    """A page's publication stamp (发布时间:2024年04月04日 08:01), not the event's day."""
    before = text[max(0, m.start() - 8):m.start()].rsplit("\n", 1)[-1]
    if re.search(r"活动|举办|举行", before):
        return False  # 活动日期:2021年7月10日 is the event's day
    return bool(re.match(r"\s*\d{1,2}:\d{2}", text[m.end():m.end() + 8]) or _PUBLISHED.search(before))


def held_on(text: str) -> str | None:
    """Date of the event: the first day named in the text; its year from the text itself, from
    the page's date line (the event is on or shortly before publication), or from a year label
    such as '2022年济源第一季度'. No year given -> None."""
    stamps = [m for m in _FULL_DATE.finditer(text) if _is_date_line(text, m)]
    first_full = next((m for m in _FULL_DATE.finditer(text) if not _is_date_line(text, m)), None)
    first_md = next((m for m in _MONTH_DAY.finditer(text)
                     if not any(st.start() <= m.start() < st.end() for st in stamps)
                     and not re.match(r"\s*\d{1,2}:\d{2}", text[m.end():m.end() + 8])), None)
    if first_full and (not first_md or first_full.start() <= first_md.start()):
        d = _date(*map(int, first_full.groups()))
        return d.isoformat() if d else None
    if not first_md:
        return None
    month, day = int(first_md.group(1)), int(first_md.group(2))
    line = stamps[0] if stamps else _DATE_LINE.search(text)
    if line:
        published = _date(*map(int, line.groups()[:3]))
        if published:
            for year in (published.year, published.year - 1):
                event = _date(year, month, day)
                if event and dt.timedelta(0) <= published - event <= dt.timedelta(days=60):
                    return event.isoformat()
    years = {int(m.group(1)) for m in _YEAR_LABEL.finditer(text)}
    if len(years) == 1:
        event = _date(years.pop(), month, day)
        return event.isoformat() if event else None
    return None


_VENUE = re.compile(r"主会场(?:设在|设于|位于|在)\s*([^,。;:\n]+)|在([^,。;:\n]{2,24}?)主会场举行")


def main_venue(text: str) -> str | None:
    """The provincial 主会场 (此次活动主会场设在济源示范区); a city's own 市主会场 or a stage
    ceremony's venue (“开工一批”活动主会场) is not it."""
    for m in _VENUE.finditer(text):
        clause_start = max(text.rfind(c, 0, m.start()) for c in ",。;\n") + 1
        head = text[clause_start:m.start()]
        if re.search(r"市主会场|县主会场|区主会场|一批”?活动|仪式|签约|开工|投产", head + "主会场"):
            continue
        if re.search(r"[市县区]$", head) and not re.search(r"全省|活动$", head):
            continue
        venue = re.sub(r"举行$|举办$|召开$", "", (m.group(1) or m.group(2)).strip())
        return venue or None
    return None


_CUMULATIVE = re.compile(
    r"累计|连续[\d一二两三四五六七八九十]+期|已(?:经)?(?:滚动|累计|先后|连续)?(?:开展|举办|举行|组织开展|组织|实施)了?"
    r"[\d一二两三四五六七八九十]+期|前[\d一二两三四五六七八九十]+期|[\d一二两三四五六七八九十]+期(?:活动)?(?:以来|累计|共)|截至(?:目前|本期|当前)")
_ROUNDS_IN = re.compile(r"(?<!第)([\d一二两三四五六七八九十]+)期")


def is_cumulative(sentence: str) -> bool:
    return bool(_CUMULATIVE.search(sentence))


def cumulative_of(sentence: str, round_no: int | None) -> dict | None:
    """{rounds, projects, investment_yi, qualifier} of a cumulative sentence, or None."""
    rounds = None
    for m in _ROUNDS_IN.finditer(sentence):
        n = parse_number(m.group(1))
        if n is not None:
            rounds = int(n)
            break
    if rounds is None and re.search(r"截至本期", sentence):
        rounds = round_no
    tokens = tokenize(sentence)
    counts = [t for t in tokens if t.kind == "count"]
    amounts = [t for t in tokens if t.kind == "amount" and t.kw
               and t.extra.get("distractor") in (None, "累计")]
    stage_words = [t for t in tokens if t.kind == "stage" and t.raw != "三个一批"]
    if stage_words or rounds is None or not (counts or amounts):
        return None  # 累计签约…: one stage's running total, not the campaign's
    count = next((c for c in counts if re.search(r"项目", sentence[max(0, c.start - 8):c.end + 6])), None)
    qualifier = "exact"
    for t in (count, amounts[0] if amounts else None):
        if t is not None and t.qualifier != "exact":
            qualifier = t.qualifier
    return {"rounds": rounds,
            "projects": json_number(count.value) if count else None,
            "investment_yi": json_number(amounts[0].value) if amounts else None,
            "qualifier": qualifier}
