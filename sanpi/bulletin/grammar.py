"""The figure grammar: headline and breakdown figures of one sentence, in context.

A count opens a figure group: its stage comes from the stage word bound to it (签约项目754个,
40个项目签约, 总投资X亿元的N个项目进行签约), its category from the noun phrase around it
(先进制造业项目327个 -> sector, 10亿元以上项目124个 -> size band). An investment amount joins the
one open group before it in the same ;-part of the sentence; with two or more open groups it is
ambiguous and is reported, not guessed. An amount with no count is a stage total only when a
stage word names the whole batch (此次集中开工的重大项目总投资194.8亿元).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from sanpi.bulletin.lexicon import (CATEGORY_SUFFIXES, FILLERS, LEAD_CONNECTORS, NON_TOTAL_AMOUNT,
                                    SOURCE_WORDS, STAGE_PART, STAGE_WORDS, SUBSET_AFTER,
                                    VENUE_SUBSET, VERB_FILLERS_AFTER)
from sanpi.bulletin.numbers import NUM, parse_number
from sanpi.bulletin.sentences import chunk_bounds, clause_start
from sanpi.bulletin.tokens import Token, tokenize
from sanpi.bulletin.units import Mention, Unit, find_mentions, is_subject

_ROUND_REF = re.compile(r"第([\d一二两三四五六七八九十]+)期")
_LATER_COUNT = re.compile(rf"^(?:共计|共有|共|总量|总数|合计|数量|达到|达|为|有)*\s*(?:约|近|超过|超|逾)?\s*{NUM}\s*(?:多|余)?\s*个")
_FILLER_RE = re.compile("|".join(sorted(map(re.escape, FILLERS), key=len, reverse=True)))
_GENERIC_SUBJECT = re.compile(r"^(?:的)?(?:(?:省|市)?(?:重大|重点)|优质|产业|各类|全部)?项目(?:的)?$")
_EVENT_VERB = re.compile(r"举行|举办|开展|召开|启动|分会场|主会场|同步|集中签约|集中开工|项目建设活动")


@dataclass
class Group:
    """One figure group: a count and/or an amount with their stage, unit and category."""
    sentence: int
    start: int
    stage: str | None
    category: str | None = None
    dimension: str | None = None
    count: Token | None = None
    amount: Token | None = None
    unit: Unit | None = None
    cues: set[str] = field(default_factory=set)
    stage_tok: Token | None = None
    amount_unreadable: bool = False  # an amount followed it and several other counts


@dataclass
class Context:
    """What the reader knows between sentences."""
    round_no: int | None
    home: Unit | None
    home_city: Unit | None
    home_county: Unit | None
    current: Unit | None = None
    last_city: Unit | None = None
    stage: str | None = None
    warnings: list[tuple[int, str]] = field(default_factory=list)


_COUNT_FILLERS = re.compile(r"(?:共计|共有|共|总量|总数|合计|数量|达到|达|为|有|约|近|超过|超|逾)+$")


def _only_fillers(text: str) -> bool:
    return _FILLER_RE.sub("", text).strip(" “”‘’、的") == ""


def _strip_fillers(text: str) -> str:
    """Drop filler words around a phrase ('的重大项目' -> '项目')."""
    prev = None
    while prev != text:
        prev = text
        m = _FILLER_RE.match(text)
        if m and m.end() < len(text):
            text = text[m.end():]
        for w in FILLERS:
            if text.endswith(w) and len(text) > len(w):
                text = text[: -len(w)]
    return text


def _clean_category(text: str, mentions: list[Mention], offset: int) -> str:
    """Noun phrase before 项目N个 -> category label: drop the subject and connectors before it,
    the count words and 项目/领域 after it. Words like 重大 stay inside a label (重大基础设施) but
    a phrase of filler words alone (重大项目) is no category."""
    for m in sorted(mentions, key=lambda m: -m.start):
        a, b = m.start - offset, m.end - offset
        if 0 <= a and b <= len(text) and not text[:a].strip(" ,、“”的"):
            text = text[b:]
    if "项目中" in text:
        text = text.rsplit("项目中", 1)[1]
    text = _COUNT_FILLERS.sub("", text.strip())
    changed = True
    while changed:
        changed = False
        for suffix in CATEGORY_SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text, changed = text[: -len(suffix)], True
        for w in LEAD_CONNECTORS:
            if text.startswith(w) and len(text) > len(w):
                text, changed = text[len(w):], True
        if text and text[0] in "”’的、,":
            text, changed = text[1:], True
        if text and text[-1] in "“‘的":
            text, changed = text[:-1], True
    if text in ("项目", "领域") or _only_fillers(text):
        return ""
    if text.count("“") != text.count("”"):
        text = text.replace("“", "").replace("”", "")
    return text


def _resolve(m: Mention, ctx: Context) -> Unit | None:
    if m.unit is not None:
        return m.unit
    if m.kind == "home_city":
        return ctx.home_city
    if m.kind == "home_county":
        return ctx.home_county
    if m.kind == "this_city":
        return ctx.last_city or ctx.home_city
    return None


class SentenceReader:
    """Reads the figure groups of one sentence; the Context carries what earlier sentences said
    (the stage being broken down, the unit being reported on)."""

    def __init__(self, index: int, s: str, ctx: Context):
        self.index, self.s, self.ctx = index, s, ctx
        self.tokens = tokenize(s)
        self.mentions = find_mentions(s)
        self.stages = [t for t in self.tokens if t.kind == "stage"]
        self.groups: list[Group] = []

    # -- helpers -----------------------------------------------------------------------------
    def warn(self, reason: str) -> None:
        self.ctx.warnings.append((self.index, reason))

    def _subject_before(self, pos: int) -> Unit | None | bool:
        """The last unit named as a subject before pos; False when that subject is 我市/我县
        and the text never says which city or county it is (no fallback then)."""
        found: Unit | None | bool = None
        for m in self.mentions:
            if m.end <= pos and is_subject(self.s, m):
                unit = _resolve(m, self.ctx)
                found = unit if unit is not None else (False if m.kind != "this_city" else found)
        return found

    def _context_stage(self, pos: int) -> str | None:
        stage = None
        for t in self.stages:
            if t.end <= pos and not t.ignored and not t.progress and t.raw != "三个一批" and t.stage:
                stage = t.stage
        return stage or self.ctx.stage

    def _other_round(self, start: int, end: int) -> bool:
        """The noun phrase names another batch (第十二期签约项目, 上期开工项目), unless only as
        the origin of this one (经第七期开工项目转化生成)."""
        text = self.s[start:end]
        for m in _ROUND_REF.finditer(text):
            n = parse_number(m.group(1))
            if n is None or self.ctx.round_no is None or int(n) == self.ctx.round_no:
                continue
            if any(t.ignored and start + m.end() <= t.start <= start + m.end() + 3 for t in self.stages):
                continue
            return True
        for m in re.finditer(r"上一?期|前一期", text):
            if not any(t.ignored and start + m.end() <= t.start <= start + m.end() + 3 for t in self.stages):
                return True
        return False

    # -- counts ------------------------------------------------------------------------------
    def _form(self, tok: Token, chunk: tuple[int, int]) -> tuple[str, str, int] | None:
        """How a count reads: ('before', text after it, index of 项目) for 'N个…项目',
        ('after', …) for '项目…N个', None when N个 counts something else (28个产业链)."""
        s = self.s
        m_end = re.search(r"[,;:。\n ]", s[tok.end:chunk[1]])
        after = s[tok.end: tok.end + m_end.start()] if m_end else s[tok.end:chunk[1]]
        idx = after.find("项目")
        if 0 <= idx <= 16 and not _LATER_COUNT.match(after[idx + 2:]) and "、" not in after[:idx]:
            return "before", after, idx
        starts_amount = re.match(r"(?:总投资|投资|计划总投资|投资总额)", after) is not None
        if after == "" or after[0] in "、(" or starts_amount or any(
                t.start == tok.end and t.kind in ("stage", "amount") for t in self.tokens):
            return "after", after, -1
        return None

    def _analyse_count(self, tok: Token, chunk: tuple[int, int]) -> Group | None:
        form = self._form(tok, chunk)
        if form is None or tok.extra.get("weak"):
            return None
        cstart = clause_start(self.s, tok.start, chunk[0])
        if form[0] == "before":
            return self._count_before_noun(tok, cstart, form[1], form[2])
        return self._count_after_noun(tok, cstart, chunk)

    def _bound_stage_after(self, text: str, base: int) -> Token | None:
        """A stage word right after 项目 (40个项目签约, 16个项目顺利实现竣工投产)."""
        rest = re.sub(r"^(?:纳入|列入)(?:全省|省)?(?:第[\d一二两三四五六七八九十]+期)?", "", text)
        for _ in range(4):
            rest = rest.lstrip("的了")
            for w in VERB_FILLERS_AFTER:
                if rest.startswith(w):
                    rest = rest[len(w):]
        offset = base + len(text) - len(rest)
        for t in self.stages:
            if t.start <= offset < t.end and not t.ignored:
                return t
        return None

    def _count_before_noun(self, tok: Token, cstart: int, after: str, idx: int) -> Group | None:
        s = self.s
        mid_start, mid_end = tok.end, tok.end + idx
        post_start = mid_end + 2
        post = after[idx + 2:]
        if SUBSET_AFTER.match(post) or re.search(VENUE_SUBSET, s[cstart:tok.start]):
            return None
        stage_tok = next((t for t in self.stages if mid_start <= t.start and t.end <= mid_end
                          and not t.ignored), None)
        if stage_tok is None:
            stage_tok = self._bound_stage_after(post, post_start)
        if stage_tok is None:
            before = [t for t in self.stages if cstart <= t.start and t.end <= tok.start and not t.ignored]
            if before and re.fullmatch(r"[的了“”\s]*(?:共|共计|累计)?", s[before[-1].end:tok.start]):
                stage_tok = before[-1]
        if self._other_round(cstart, mid_end):
            return None
        mid = s[mid_start:mid_end]
        band = next((t.category for t in self.tokens if t.kind == "sizeband"
                     and mid_start <= t.start < mid_end), None)
        if stage_tok is not None and mid_start <= stage_tok.start < mid_end:
            mid = s[mid_start:stage_tok.start] + s[stage_tok.end:mid_end]
        category = band or _clean_category(mid, [], 0)
        if re.search(r"亿元以上|亿元", mid) and not band:
            self.warn("size band without a readable amount")
            return None
        return self._group(tok, stage_tok, category, band is not None, cstart)

    def _count_after_noun(self, tok: Token, cstart: int, chunk: tuple[int, int]) -> Group | None:
        s = self.s
        np_start = cstart
        for t in self.tokens:
            if cstart <= t.start and t.end <= tok.start and (
                    t.kind == "amount" or t.kind == "count" and self._form(t, chunk) is not None):
                np_start = t.end
        while np_start < tok.start and s[np_start] in "、,; ":
            np_start += 1
        np = s[np_start:tok.start]
        extended = False
        if not re.search(r"项目|领域|类|亿元以上|亿元", np):
            # 共907个 after a clause naming the projects: the noun is earlier in the ;-part
            head = s[chunk[0]:tok.start]
            if "项目" not in head:
                return None
            np_start, np, extended = chunk[0], head, True
        if re.search(VENUE_SUBSET, np) or "等" in np[-12:]:
            return None
        stage_tok = None
        for t in self.stages:
            if np_start <= t.start and t.end <= tok.start and not t.ignored:
                stage_tok = t
        cat_start = stage_tok.end if stage_tok else np_start
        band = next((t.category for t in self.tokens if t.kind == "sizeband"
                     and cat_start <= t.start < tok.start), None)
        if extended:
            category = ""
        else:
            category = band or _clean_category(s[cat_start:tok.start], self.mentions, cat_start)
        if not band and "亿元" in category:
            self.warn("size band without a readable amount")
            return None
        if self._other_round(np_start, tok.start):
            return None
        return self._group(tok, stage_tok, category, band is not None, cstart)

    def _group(self, tok: Token, stage_tok: Token | None, category: str, is_band: bool,
               cstart: int) -> Group | None:
        if stage_tok is not None and stage_tok.progress:
            return None
        if re.search(r"均(?:超过|超|为|达到|达|在|有)?$", self.s[cstart:tok.start]):
            self.warn("one count stated for several units (均): not attributed")
            return None
        if category and (len(category) > 40 or "等" in category
                         or any(m.unit is not None for m in find_mentions(category))):
            self.warn(f"unreadable category before a count ('{category[:20]}')")
            return None
        if category and re.search(r"签约|开工|投产|竣工|建成|达产|达效|履约", category):
            return None
        g = Group(self.index, tok.start, stage_tok.stage if stage_tok else None, count=tok,
                  stage_tok=stage_tok)
        if category:
            g.category = category
            if is_band:
                g.dimension = "size_band"
            elif SOURCE_WORDS.search(category) or "资金来源" in self.s[:tok.start]:
                g.dimension = "source"
            else:
                g.dimension = "sector"
            if g.stage is None:
                g.stage = self._context_stage(tok.start)
            if g.stage is None:
                self.warn("breakdown figure with no stage in context")
                return None
        else:
            if g.stage is None:
                if re.search(r"其中", self.s[cstart:tok.start]) or "中," in self.s[max(0, cstart - 2):cstart + 1]:
                    return None
                g.cues.add("unstaged")
                clause_end = re.search(r"[,;。]", self.s[tok.end:])
                clause = self.s[cstart: tok.end + (clause_end.start() if clause_end else len(self.s))]
                # 133个项目参与 / 三个一批 in the count's own clause: the whole round's projects
                if re.match(r"(?:项目)?(?:参与|参加)(?!.{0,6}(?:签约|开工|投产))", self.s[tok.end:]) \
                        or "三个一批" in clause:
                    g.cues.add("all")
                tail = self.s[tok.end:]
                if re.search(r"此外|另外|另有", tail) and re.search(r"投产", tail):
                    g.cues.add("signed+started")
        return g

    # -- amounts -----------------------------------------------------------------------------
    def _amount(self, tok: Token, chunk: tuple[int, int], open_groups: list[Group]) -> None:
        s = self.s
        if tok.extra.get("distractor") or NON_TOTAL_AMOUNT.search(s[max(chunk[0], tok.start - 8):tok.start]):
            return
        nxt = s[tok.end:tok.end + 1]
        if nxt == "的":
            following = next((t for t in self.tokens if t.kind == "count" and t.start > tok.end), None)
            if following is not None and following.start - tok.end <= 2:
                following.extra["pending_amount"] = tok
            return  # otherwise 总投资85亿元的某项目: one project's amount
        pending = [g for g in open_groups if g.amount is None and not g.amount_unreadable
                   and g.count is not None and g.count.start < tok.start]
        if tok.kw is None:
            last = pending[-1] if pending else None
            if last is None or s[last.count.end:tok.start].strip(" ,、") != "":
                return
        if len(pending) > 1 and self._shared_amount(pending):
            self.warn("one amount follows several counts: not attributed")
            for g in pending:
                g.amount_unreadable = True
            return
        pending = pending[-1:]
        if pending:
            g = pending[0]
            between = [t for t in self.stages if g.count.end <= t.start and t.end <= tok.start
                       and not t.ignored and t is not g.stage_tok]
            if not between:
                g.amount = tok
                return
        # amount-only batch total: a stage word naming the batch right before the amount
        before = [t for t in self.stages if chunk[0] <= t.start and t.end <= tok.start and not t.ignored
                  and not t.progress]
        if not before or tok.kw is None:
            return
        st = before[-1]
        # the stage word must name this batch (此次集中开工的…, “开工一批”…), not a condition
        # on projects (30日内能够实质性开工的项目)
        lead = s[clause_start(s, st.start, chunk[0]):st.start]
        if not (re.search(r"此次|本次|本期|这次|当天|当日|今天|集中", lead + st.raw) or "一批" in st.raw):
            return
        between = _strip_fillers(s[st.end:tok.start])
        if not _GENERIC_SUBJECT.match(between or "项目") or st.stage is None:
            return
        g = Group(self.index, tok.start, st.stage, amount=tok)
        self.groups.append(g)

    def _shared_amount(self, pending: list[Group]) -> bool:
        """Whether an amount after several open counts may cover more than the last one: the
        counts form a list (签约项目19个、投产项目22个,总投资…) or name different stages. A
        breakdown right after its own stage's headline (开工的56个项目中,工业项目40个,总投资…)
        takes the amount next to it."""
        last = pending[-1]
        for g in pending[:-1]:
            joined = self.s[g.count.end:last.count.start]
            if not re.search(r"[,;:]", joined) or g.stage != last.stage:
                return True
        return False

    # -- 签约、开工、投产项目分别为30个、25个、40个 ----------------------------------------------
    def _distributive(self, chunk: tuple[int, int]) -> set[int]:
        """Stages listed together, then '分别' and one count (or amount) per stage, in order.
        Returns ids of the tokens consumed; a list whose length differs is reported."""
        s = self.s
        used: set[int] = set()
        for resp in re.finditer("分别", s[chunk[0]:chunk[1]]):
            pos = chunk[0] + resp.start()
            stage_tok = next((t for t in reversed(self.stages) if t.end <= pos and not t.ignored), None)
            if stage_tok is None or stage_tok.raw == "三个一批":
                continue
            order = [STAGE_WORDS[p.group(0).removesuffix("一批")] for p in STAGE_PART.finditer(stage_tok.raw)]
            if len(order) < 2 or re.search(r"%|占比", s[pos:pos + 12]):
                continue
            by_stage: dict[str, Group] = {}
            for kind in ("count", "amount"):
                items = []
                cursor = pos + 2
                for t in self.tokens:
                    if t.kind != kind or t.start < cursor or id(t) in used:
                        continue
                    gap = s[cursor:t.start]
                    if items and gap.strip(" 、和及") or not items and not re.fullmatch(
                            r"(?:为|是|达到|达|有)?", gap.strip()):
                        break
                    items.append(t)
                    cursor = t.end
                if not items:
                    continue
                if len(items) != len(order):
                    self.warn(f"{len(items)} values for {len(order)} stages after 分别: not attributed")
                    used.update(id(t) for t in items)
                    continue
                for stage, t in zip(order, items):
                    g = by_stage.get(stage)
                    if g is None:
                        g = by_stage[stage] = Group(self.index, t.start, stage)
                        self.groups.append(g)
                    setattr(g, kind, t)
                    used.add(id(t))
        return used

    # -- the sentence ------------------------------------------------------------------------
    def read(self) -> list[Group]:
        for chunk in chunk_bounds(self.s):
            open_groups: list[Group] = []
            used = self._distributive(chunk)
            for tok in self.tokens:
                if not (chunk[0] <= tok.start < chunk[1]) or id(tok) in used:
                    continue
                if tok.kind == "count":
                    g = self._analyse_count(tok, chunk)
                    if g is None:
                        if self._form(tok, chunk) is not None:
                            # a project count not taken (a venue subset, 竣工项目…) still owns
                            # the amount next to it
                            open_groups.append(Group(self.index, tok.start, None, count=tok))
                        continue
                    pending = tok.extra.get("pending_amount")
                    if pending is not None:
                        g.amount = pending
                    self.groups.append(g)
                    open_groups.append(g)
                elif tok.kind == "amount":
                    self._amount(tok, chunk, open_groups)
        for g in self.groups:
            g.unit = self._subject_before(g.start)
        return self.groups

    def update_context(self) -> None:
        """Units named as the subject of an event, and the last stage named, carry on."""
        ctx = self.ctx
        for m in self.mentions:
            if m.unit is not None and m.unit.level == "city":
                ctx.last_city = m.unit
            if is_subject(self.s, m) and (unit := _resolve(m, ctx)) is not None:
                clause = self.s[m.end:]
                clause = re.split(r"[,;。]", clause)[0]
                heading = clause == "" and (m.start == 0 or self.s[m.start - 1] in "\n ,")
                # the unit holds the event (开封市分会场活动举行, 兰考县举行…), not a project of it
                verb = _EVENT_VERB.search(clause[:14])
                if verb and re.search(r"项目|等|企业|公司", clause[:verb.start()]):
                    verb = None
                if verb or heading:
                    ctx.current = unit
        for t in self.stages:
            if not t.ignored and not t.progress and t.raw != "三个一批" and t.stage:
                ctx.stage = t.stage
