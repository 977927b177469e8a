"""read_bulletin: bytes in, the output-contract object with provenance and warnings out."""
from __future__ import annotations

import hashlib
import re
from decimal import Decimal

from sanpi.bulletin import english
from sanpi.bulletin.attribution import home_units
from sanpi.bulletin.decode import Document, read_document
from sanpi.bulletin.grammar import Context, Group, SentenceReader
from sanpi.bulletin.jsonform import looks_like_json_bulletin, read_json_bulletin
from sanpi.bulletin.metadata import (cumulative_of, held_on, is_cumulative, main_venue, province_of,
                                     round_of)
from sanpi.bulletin.normalize import normalize
from sanpi.bulletin.numbers import json_number
from sanpi.bulletin.sentences import Sentence, split_sentences

_CAMPAIGN = re.compile(r"三个一批|签约一批|开工一批|投产一批")
_DIGITS_MISSING = re.compile(
    r"项目(?:共|共计|总量)?个(?![数人别体性])|(?:等|的|共|有|计|签约|开工|投产)个(?:重点|重大)?项目|(?:^|[,;、:])个(?:重点|重大)?项目|"
    r"(?<![\d.])\.\d+\s*(?:万亿|亿|万)元|(?:总投资|投资总额|投资)(?:约|达|为)?(?:万亿|亿|万)元(?!以上)")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _unit_fields(unit) -> tuple[str, str]:
    return unit.name, unit.level


def _resolve_unstaged(groups: list[Group], warn) -> list[Group]:
    """A total named for no single stage is all three stages (or 签约+开工) when the stage
    counts add up to it, or when the text says so; otherwise it is reported, not guessed."""
    headline: dict[tuple[str, str], set[Decimal]] = {}
    for g in groups:
        if g.count is not None and g.category is None and g.stage in ("signed", "started", "production"):
            headline.setdefault((g.unit.name if g.unit else "", g.stage), set()).add(g.count.value)
    out = []
    for g in groups:
        if g.stage is not None:
            out.append(g)
            continue
        key = g.unit.name if g.unit else ""
        stage_counts = {st: headline.get((key, st)) for st in ("signed", "started", "production")}
        single = {st: next(iter(v)) for st, v in stage_counts.items() if v and len(v) == 1}
        sums = {}
        if "signed" in single and "started" in single:
            sums["signed+started"] = single["signed"] + single["started"]
            if "production" in single:
                sums["all"] = sums["signed+started"] + single["production"]
        value = g.count.value if g.count is not None else None
        match = [k for k, v in sums.items() if value is not None and v == value]
        if match:
            g.stage = match[-1]
        elif "signed+started" in g.cues and (not sums or "all" not in sums):
            g.stage = "signed+started"
        elif "all" in g.cues and not sums:
            g.stage = "all"
        else:
            warn(g.sentence, "a total for no named stage that the stage figures do not explain")
            continue
        out.append(g)
    return out


def _source_span(sent: Sentence, g: Group, norm, body: str) -> tuple[int, int]:
    """Body span of the figure's sentence. A sentence joined across unpunctuated lines (headlines,
    page furniture) is cut to the lines that hold the figure's numbers."""
    toks = [t for t in (g.count, g.amount) if t is not None]
    a = min(t.start for t in toks)
    b = max(t.end for t in toks)
    text = sent.text
    a = text.rfind("\n", 0, a) + 1
    nl = text.find("\n", b)
    b = len(text) if nl < 0 else nl
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    start, end = norm.body_span(sent.start + a, sent.start + b)
    while start < end and body[start].isspace():
        start += 1
    while end > start and body[end - 1].isspace():
        end -= 1
    return start, end


def _figures(groups: list[Group], sentences: list[Sentence], norm, body: str, warn) -> list[dict]:
    rows = []
    for g in groups:
        if g.unit is None:
            warn(g.sentence, "figure with no reporting unit")
            continue
        start, end = _source_span(sentences[g.sentence], g, norm, body)
        for measure, tok in (("projects", g.count), ("investment_yi", g.amount)):
            if tok is None:
                continue
            rows.append({
                "unit": g.unit.name, "unit_level": g.unit.level, "stage": g.stage, "measure": measure,
                "value": tok.value, "qualifier": tok.qualifier,
                "breakdown": {"dimension": g.dimension, "category": g.category} if g.category else None,
                "source_text": body[start:end], "char_start": start, "char_end": end,
                "_sentence": g.sentence,
            })
    # the same figure stated twice (headline and body) is one figure; different values for the
    # same figure are a conflict the text does not resolve
    by_key: dict[tuple, list[dict]] = {}
    for r in rows:
        b = r["breakdown"]
        key = (r["unit"], r["stage"], r["measure"], (b["dimension"], b["category"]) if b else None)
        by_key.setdefault(key, []).append(r)
    out = []
    for r in rows:
        b = r["breakdown"]
        key = (r["unit"], r["stage"], r["measure"], (b["dimension"], b["category"]) if b else None)
        same = by_key[key]
        if len({x["value"] for x in same}) > 1:
            if r is same[0]:
                values = "/".join(str(x["value"]) for x in same)
                for x in same:
                    warn(x["_sentence"], f"conflicting values {values} for {r['unit']} {r['stage']} "
                                         f"{r['measure']}: none taken")
            continue
        if r is same[0]:
            out.append(r)
    for r in out:
        del r["_sentence"]
        r["value"] = json_number(r["value"])
    return out


def _read_english(text, sentences, norm, body, result, warn, finish) -> dict:
    round_no = english.round_of(text)
    result["round"] = round_no
    if round_no is None:
        warn(None, "English text names no round of the campaign: figures not read")
        return finish()
    seen: dict[tuple, Decimal] = {}
    for i, sent in enumerate(sentences):
        for unit, stage, measure, value, qualifier in english.read_sentence(sent.text):
            key = (unit.name, stage, measure)
            if key in seen:
                if seen[key] != value:
                    warn(i, f"conflicting values for {unit.name} {stage} {measure}: first kept")
                continue
            seen[key] = value
            start, end = norm.body_span(sent.start, sent.end)
            result["figures"].append({
                "unit": unit.name, "unit_level": unit.level, "stage": stage, "measure": measure,
                "value": json_number(value), "qualifier": qualifier, "breakdown": None,
                "source_text": body[start:end], "char_start": start, "char_end": end})
    return finish()


def read_text(doc: Document) -> dict:
    norm = normalize(doc.body)
    text = norm.text
    sentences = split_sentences(text)
    province, other = province_of(text, None)
    result = {"province": province, "round": None, "held_on": None, "main_venue": None,
              "figures": [], "cumulative": None}
    warnings: list[tuple[int | None, str]] = []

    def warn(index: int | None, reason: str) -> None:
        warnings.append((index, reason))

    def finish() -> dict:
        seen = set()
        out = []
        for index, reason in warnings:
            if index is None:
                sentence = ""
            else:
                s = sentences[index]
                a, b = norm.body_span(s.start, s.end)
                sentence = doc.body[a:b]
            if (sentence, reason) not in seen:
                seen.add((sentence, reason))
                out.append({"sentence": sentence, "reason": reason})
        result["warnings"] = out
        result["defects"] = sorted(norm.defects | ({"decode_errors"} if "replaced" in doc.encoding else set()))
        return result

    if province == "other":
        warn(None, f"the text is about another province's campaign ({other}): no Henan figures")
        return finish()
    if province is None:
        warn(None, "no campaign text found")
        return finish()
    if english.is_english(text):
        return _read_english(text, sentences, norm, doc.body, result, warn, finish)
    round_no = round_of(text)
    result.update(round=round_no, held_on=held_on(text), main_venue=main_venue(text))
    if not _CAMPAIGN.search(text):
        warn(None, "the text names no 三个一批 round: figures not read")
        return finish()
    home, home_city, home_county = home_units(text)
    ctx = Context(round_no, home, home_city, home_county)
    groups: list[Group] = []
    for i, sent in enumerate(sentences):
        if _DIGITS_MISSING.search(sent.text):
            warn(i, "digits missing: figure not read")
        if is_cumulative(sent.text):
            cum = cumulative_of(sent.text, round_no)
            if cum and result["cumulative"] is None:
                result["cumulative"] = cum
                if cum["investment_yi"] is None or cum["projects"] is None:
                    warn(i, "cumulative statement incomplete")
            continue
        reader = SentenceReader(i, sent.text, ctx)
        found = reader.read()
        reader.update_context()
        for g in found:
            if g.unit is False:
                g.unit = None  # 我市 of a city the text never names: reported, not guessed
            elif g.unit is None:
                g.unit = ctx.current or ctx.home
        if found and found[-1].unit is not None:
            ctx.current = found[-1].unit
        groups.extend(found)
    for index, reason in ctx.warnings:
        warn(index, reason)
    if sentences and text.rstrip()[-1:] not in "。!?”)" :
        last = sentences[-1].text
        if re.search(r"[\d.]$|总投$|总投资$|项目$", last):
            warn(len(sentences) - 1, "text cut off mid-figure")
    groups = _resolve_unstaged(groups, warn)
    result["figures"] = _figures(groups, sentences, norm, doc.body, warn)
    return finish()


def read_bulletin(data: bytes, file_name: str) -> dict:
    """The bulletin in `data` (text, HTML or the JSON form) as the output-contract object plus
    file, sha256, source_url and warnings; each text figure carries its sentence and span.
    Raises ValueError only for bytes that are no text at all."""
    if not isinstance(data, (bytes, bytearray)):
        raise ValueError("read_bulletin takes bytes")
    head = {"file": file_name, "sha256": _sha256(bytes(data))}
    if looks_like_json_bulletin(data):
        body = read_json_bulletin(data)
        return {**head, **body}
    doc = read_document(bytes(data))
    body = read_text(doc)
    order = ("province", "round", "held_on", "main_venue", "figures", "cumulative", "defects", "warnings")
    return {**head, "source_url": doc.source_url, **{k: body[k] for k in order}}
