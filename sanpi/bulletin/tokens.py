"""Tokens of one sentence: stage words, size bands, project counts and investment amounts."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from sanpi.bulletin.lexicon import (AMOUNT_RE, COUNT_RE, DISTRACTOR_BEFORE, NOT_YUAN, QUALIFIER_AFTER,
                                    QUALIFIER_BEFORE, SIZEBAND_RE, STAGE_PART, STAGE_RE, STAGE_WORDS,
                                    combine_stages)
from sanpi.bulletin.numbers import parse_number, to_yi

# Spans no count/amount may come from: dates, round numbers, percentages, the campaign's name.
_MASKS = re.compile(r"\d{4}\s*年|\d{1,2}\s*月\s*\d{1,2}\s*[日号]|\d{4}-\d{1,2}-\d{1,2}|第[\d一二两三四五六七八九十百]+[期次批届个]|"
                    r"[\d一二两三四五六七八九十]+期|\d+(?:\.\d+)?\s*%|百分之[\d一二三四五六七八九十点.]+|三个一批")


@dataclass
class Token:
    kind: str                    # stage | sizeband | count | amount
    start: int
    end: int
    value: Decimal | None = None
    qualifier: str = "exact"
    stage: str | None = None     # stage tokens: contract stage value
    ignored: bool = False        # stage word that does not name this batch (origin, parenthesis)
    progress: bool = False       # 已开工: progress of an earlier batch
    category: str | None = None  # sizeband tokens: normalised band
    raw: str = ""
    kw: str | None = None        # amount keyword (总投资...)
    extra: dict = field(default_factory=dict)


def _in_parentheses(text: str, pos: int) -> bool:
    opened = text.rfind("(", 0, pos)
    return opened >= 0 and text.rfind(")", opened, pos) < 0


# 约 closing a word (签约32个) is no qualifier; neither are 近/超 inside one (临近, 赶超).
_WORD_ENDING = re.compile(r"(?:签|履|合|预|节|制|特|邀|相|赴|践|条|公|契)约$|(?:临|最|邻|接|将)近$|(?:赶|高)超$")


def _qualifier(m: re.Match) -> str:
    for key in ("q1", "q1b"):
        if m.groupdict().get(key) and _WORD_ENDING.search(m.string[:m.end(key)]):
            continue
        if m.groupdict().get(key):
            return QUALIFIER_BEFORE[m.group(key)]
    for key in ("q2", "q3"):
        if m.groupdict().get(key):
            return QUALIFIER_AFTER[m.group(key)]
    return "exact"


def _overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(s < end and start < e for s, e in spans)


def _band(m: re.Match) -> str | None:
    lo = parse_number(m.group("lo"))
    if lo is None:
        return None
    lo_s = format(lo.normalize(), "f")
    if m.group("hi"):
        return f"{lo_s}-{m.group('hi')}亿元"
    if m.group("above") or m.group("over"):
        return f"{lo_s}亿元以上"
    return None


def tokenize(s: str) -> list[Token]:
    tokens: list[Token] = []
    masked = [m.span() for m in _MASKS.finditer(s)]
    for m in STAGE_RE.finditer(s):
        word = m.group(0)
        if word == "三个一批":
            stage = "all"
        else:
            stage = combine_stages({STAGE_WORDS[p.group(0).removesuffix("一批")]
                                    for p in STAGE_PART.finditer(word)})
        after = s[m.end():m.end() + 12]
        before = s[max(0, m.start() - 10):m.start()]
        tok = Token("stage", m.start(), m.end(), stage=stage, raw=word)
        if after[:1] in "率" or after.startswith(("达效", "达产")):
            continue
        clause_before = re.split(r"[,;:。\n]", before)[-1]
        if re.search(r"[经由从]", clause_before) and re.search(r"转化|转入|转为|转换", after):
            tok.ignored = True   # 经第七期开工项目转化生成: where a batch came from, not this batch
        if _in_parentheses(s, m.start()):
            tok.ignored = True
        if before.endswith(("已", "未", "尚未", "早", "待", "已经", "全部")):
            tok.progress = True
        tokens.append(tok)
    for m in SIZEBAND_RE.finditer(s):
        band = _band(m)
        if band is None or _overlaps(masked, *m.span()):
            continue
        tokens.append(Token("sizeband", m.start(), m.end(), category=band, raw=m.group(0)))
        masked.append(m.span())
    for m in AMOUNT_RE.finditer(s):
        if _overlaps(masked, m.start("num"), m.end("mag")):
            continue
        if s[m.start("num") - 1:m.start("num")].isdigit() or s[m.start("num") - 1:m.start("num")] == ".":
            continue
        value = parse_number(m.group("num"))
        if value is None:
            continue
        if not m.group("yuan"):
            # 亿 without 元 is an amount only after an investment keyword and before no other unit
            if not m.group("kw") or "亿" not in m.group("mag") or NOT_YUAN.match(s, m.end("mag")):
                continue
        if m.group("num")[0] in "千百" and not m.group("q1"):
            continue
        kw = m.group("kw")
        tok = Token("amount", m.start() if kw else m.start("num") - len(m.group("q1") or ""), m.end(),
                    value=to_yi(value, m.group("mag")), qualifier=_qualifier(m), raw=m.group(0), kw=kw)
        if kw:
            prefix = s[max(0, m.start() - 6):m.start()]
            prefix = re.split(r"[,;:。\n、 ]", prefix)[-1]
            hit = DISTRACTOR_BEFORE.search(prefix)
            if hit:
                tok.extra["distractor"] = hit.group(0)  # 累计总投资 is a cumulative total
        tokens.append(tok)
        masked.append((m.start("num"), m.end()))
    for m in COUNT_RE.finditer(s):
        num_start = m.start("num")
        if _overlaps(masked, num_start, m.end()):
            continue
        prev = s[num_start - 1:num_start]
        if prev.isdigit() or prev in ".第数几上成" or (prev and prev in "零〇一二两三四五六七八九十百千"):
            continue
        value = parse_number(m.group("num"))
        if value is None or value != value.to_integral_value():
            continue
        start = m.start("q1") if m.group("q1") and not _WORD_ENDING.search(s[:m.end("q1")]) else num_start
        tok = Token("count", start, m.end(), value=value, qualifier=_qualifier(m), raw=m.group(0))
        tok.extra["weak"] = s[max(0, start - 1):start] == "等"
        tokens.append(tok)
    tokens.sort(key=lambda t: (t.start, t.end))
    return tokens
