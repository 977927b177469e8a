"""Reporting-unit names in text: provinces, the 19 units (ref_units.csv aliases), Henan counties.

A mention is either a named unit, a deictic word standing for the text's own unit (我市, 全省),
or an anaphor (该市) that points back to the last city named.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from sanpi.reference import resolve_unit, units

PROVINCE = "河南省"

# County stems that are ordinary words or a city's own name: only the full name counts for them.
_AMBIGUOUS_STEMS = {"商城", "民权", "博爱", "台前", "新安", "安阳", "濮阳", "新乡", "新华", "山城",
                    "长垣", "北关", "文峰", "解放", "中站", "老城", "红旗", "上街", "金水", "中原",
                    "鼓楼", "湖滨", "新县", "建安", "山阳", "卫东", "龙安", "殷都", "二七"}

# Other provinces' names: a campaign attributed to one of them is not Henan's.
OTHER_PROVINCES = ("北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏",
                   "浙江", "安徽", "福建", "江西", "山东", "湖北", "湖南", "广东", "广西", "海南",
                   "重庆", "四川", "贵州", "云南", "西藏", "陕西", "甘肃", "青海", "宁夏", "新疆",
                   "香港", "澳门", "台湾")


@dataclass(frozen=True)
class Unit:
    name: str
    level: str               # province | city | county
    city: str | None = None  # the city a county belongs to


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    word: str
    unit: Unit | None        # None for deictic / anaphoric words
    kind: str                # named | province | home_city | home_county | this_city | zone


@lru_cache(maxsize=1)
def counties() -> dict[str, Unit]:
    """County full names and safe short names -> Unit (with its city, by code prefix)."""
    city_by_prefix = {u.code[:4]: u.name_zh for u in units() if u.code.endswith("00")}
    out: dict[str, Unit] = {}
    text = resources.files("sanpi.bulletin").joinpath("data/henan_counties.tsv").read_text("utf-8")
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        code, name = line.split("\t")
        unit = Unit(name, "county", city_by_prefix.get(code[:4]))
        out[name] = unit
        stem = name[:-1]
        if name[-1] in "县市" and len(stem) >= 2 and stem not in _AMBIGUOUS_STEMS:
            out.setdefault(stem, unit)
    return out


def unit_for(name: str) -> Unit | None:
    ref = resolve_unit(name)
    if ref is not None:
        return Unit(ref.name_zh, "city")
    return counties().get(name)


@lru_cache(maxsize=1)
def _lexicon() -> tuple[re.Pattern, dict[str, tuple[str, Unit | None]]]:
    words: dict[str, tuple[str, Unit | None]] = {}
    for u in units():
        unit = Unit(u.name_zh, "city")
        for name in (u.name_zh, u.short_zh, *u.aliases):
            if name and not name.isascii():
                words[name] = ("named", unit)
    for name, unit in counties().items():
        words.setdefault(name, ("named", unit))
    for w in ("全省", "我省", "本省", "河南省", "河南"):
        words[w] = ("province", Unit(PROVINCE, "province"))
    for w in ("我市", "全市", "本市", "市本级"):
        words[w] = ("home_city", None)
    for w in ("我县", "全县", "本县", "我区", "全区"):
        words[w] = ("home_county", None)
    words["该市"] = ("this_city", None)
    alternation = "|".join(sorted(map(re.escape, words), key=len, reverse=True))
    return re.compile(alternation), words


# A name followed by one of these names an institution or medium, not the unit as a subject.
_INSTITUTION = re.compile(r"(?:日报|晚报|网|广播|电视|新闻|分社|政府|人民政府|市委|县委|委|商务局|统计局|"
                          r"发改|发展改革|人大|政协|党工委|管委会|籍|大学|银行|集团|公司|有限|融媒|宣传|"
                          r"分会场|主会场|代表团|客人)")


_ZONE = re.compile(r"(?:市|县)?(?:经开区|经济技术开发区|高新区|高新技术产业开发区|开发区|产业集聚区|"
                   r"综合保税区|综保区|城乡一体化示范区|新区|自贸区|片区)")


def find_mentions(text: str) -> list[Mention]:
    pattern, words = _lexicon()
    out = []
    for m in pattern.finditer(text):
        word = m.group(0)
        kind, unit = words[word]
        prev = text[m.start() - 1] if m.start() else ""
        nxt = text[m.end():m.end() + 1]
        if word == "示范区" and prev and "\u4e00" <= prev <= "\u9fff" and prev not in "我全该本":
            continue  # 城乡一体化示范区 etc. are districts, not 济源示范区
        if word == "河南" and not re.match(r"\d|第|共|集中|此次|本次|本期|全省|各地", text[m.end():m.end() + 2]):
            continue  # 河南日报, 河南某某公司: not the province as a subject
        if unit is not None and unit.level == "county" and len(word) <= 2 and nxt in "市县区路镇乡街":
            continue
        zone = _ZONE.match(text, m.end())
        if unit is not None and unit.level != "province" and zone:
            # 新乡经开区, 郑州高新区: a development zone inside the unit reports for itself
            out.append(Mention(m.start(), zone.end(), text[m.start():zone.end()], None, "zone"))
            continue
        out.append(Mention(m.start(), m.end(), word, unit, kind))
    return out


def is_subject(text: str, mention: Mention) -> bool:
    """Whether the mention can be the subject of a figure: not an institution, not a list item,
    not the event's name (全省第N期), not 与全省同步."""
    after = text[mention.end:mention.end + 6]
    before = text[max(0, mention.start - 2):mention.start]
    if _INSTITUTION.match(after):
        return False
    if after[:1] == "、" or before[-1:] == "、" or after.startswith(("和", "及")) and mention.kind == "named":
        return False
    if mention.word == "全省" and (after.startswith(("第", "统一", "各", "上下", "同步"))
                                  or before[-1:] in ("与", "和", "同", "跟", "占", "居")):
        return False
    if mention.kind != "province" and before[-1:] in ("与", "和", "跟", "占"):
        return False
    if before.endswith(("设在", "来到", "前往")) or before[-1:] in ("到", "赴"):
        return False
    return True
