"""Words of the figure grammar: stages, qualifiers, investment keywords and what is not a total."""
from __future__ import annotations

import re

from sanpi.bulletin.numbers import AR_NUM, CN_NUM, NUM

# Stage verbs as bulletins write them. 结转投产 / 竣工投产 / 建成投产 / 新投产 are the production
# stage; 三个一批 itself names all three stages.
STAGE_WORDS = {"签约": "signed", "开工": "started", "投产": "production", "竣工投产": "production",
               "建成投产": "production", "结转投产": "production"}
_STAGE_WORD = r"(?:竣工投产|建成投产|结转投产|签约|开工|投产)(?:一批)?"
STAGE_RE = re.compile(rf"(?:集中)?{_STAGE_WORD}(?:(?:、|和|及|与|以及)?(?:集中)?{_STAGE_WORD})*|三个一批")
STAGE_PART = re.compile(_STAGE_WORD)


def combine_stages(stages: set[str]) -> str | None:
    """A set of stages named together -> the contract's stage value (None: not representable)."""
    if stages == {"signed", "started", "production"}:
        return "all"
    if stages == {"signed", "started"}:
        return "signed+started"
    if len(stages) == 1:
        return next(iter(stages))
    return None


# Qualifiers next to a number: README rules (约/近/左右 approx; 超/超过/逾/以上 lower bound).
QUALIFIER_BEFORE = {"约": "approx", "近": "approx", "大约": "approx", "超过": "lower_bound",
                    "超": "lower_bound", "逾": "lower_bound", "多于": "lower_bound"}
QUALIFIER_AFTER = {"左右": "approx", "以上": "lower_bound", "多": "lower_bound", "余": "lower_bound"}
_Q_BEFORE = "大约|约|近|超过|超|逾|多于"
_FILL_BEFORE = "共计|共有|合计|总计|共|达到|达|为|是|有"

# Size bands: 10亿元以上项目, 投资30-50亿元项目, 超50亿元项目 (the band is the category).
SIZEBAND_RE = re.compile(
    rf"(?:总?投资(?:额)?(?:在)?)?(?:(?P<over>超过|超)\s*)?(?P<lo>{AR_NUM}|{CN_NUM})\s*(?:亿元?)?"
    rf"(?:\s*(?:-|—|–|~|～|至|到)\s*(?P<hi>{AR_NUM})\s*亿元?)?(?(hi)|\s*亿元?)(?P<above>及?以上)?"
    rf"(?:的)?(?=(?:重大|重点)?项目)")

COUNT_RE = re.compile(
    rf"(?P<q1>{_Q_BEFORE})?(?:{_FILL_BEFORE})?(?P<q1b>{_Q_BEFORE})?\s*(?P<num>{NUM})\s*"
    rf"(?P<q2>多|余)?\s*个(?P<q3>以上|左右)?")

# Investment totals. 计划总投资 is a planned total (still the batch total); the keyword must touch
# the number, so 投资总额的87.4% or 总投资85亿元的某项目 are recognised for what they are.
_AMOUNT_KW = "总投资额|投资总额|计划总投资|签约投资额|签约总额|签约金额|协议投资额|协议总投资|协议投资|总投资|投资额|投资"
AMOUNT_RE = re.compile(
    rf"(?P<kw>{_AMOUNT_KW})?\s*:?\s*(?:{_FILL_BEFORE})?(?P<q1>{_Q_BEFORE})?(?:{_FILL_BEFORE})?(?:人民币)?\s*"
    rf"(?P<num>{AR_NUM}|[一二两三四五六七八九十]+[零〇一二两三四五六七八九十百]*|千|百)\s*(?P<q2>多|余)?\s*"
    rf"(?P<mag>万亿|千亿|百亿|亿|千万|百万|万)\s*(?P<yuan>元(?:人民币)?)?(?P<q3>以上|左右)?")
# Not currency, or not yuan.
NOT_YUAN = re.compile(r"(?:美元|港元|欧元|日元|英镑|只|件|吨|度|方|人|次|台|套|平方|亩|个|份|瓶|千瓦|辆|片|株)")

# Words before an investment keyword that make the amount something other than a batch total.
DISTRACTOR_BEFORE = re.compile(
    r"(?:年度|年|计划|完成|累计|合同|实际|到位|固定资产|带动|拉动|撬动|引进|引资|平均|年均|单体|单个|亩均|"
    r"产值|营收|收入|利税|税收|融资|贷款|授信|补助|奖励|资金)$")
NON_TOTAL_AMOUNT = re.compile(r"(?:合同引资|引资|年产值|产值|营业收入|销售收入|利税|税收|年度计划投资|"
                              r"计划完成投资|完成投资|已完成)")

# Fillers between a stage word / count and 项目 that carry no category.
FILLERS = ("省重点", "市重点", "省级重点", "重大", "重点", "优质", "产业", "新建", "新", "大", "好",
           "集中", "共计", "共有", "共", "总量", "总数", "合计", "数量", "达到", "达", "为", "有", "的",
           "实施", "建设", "本期", "本次", "此次", "这次", "当天", "当日", "今天", "同日", "全部", "各类",
           "一批", "“", "”", "活动", "新增", "纳入", "省调度", "调度", "省台账", "台账", "谋划", "结转",
           "储备", "入库", "报送", "上报", "参与", "列入", "亿元及以上", "以上")
LEAD_CONNECTORS = ("其中", "包括", "含", "另有", "以及", "及", "和", "还有", "另外", "此外", "同时",
                   "共", "有", "新增", "纳入", "谋划", "推进", "实施", "涉及", "参与", "在", "为", "对")
VERB_FILLERS_AFTER = ("进行", "集中", "顺利", "实现", "成功", "正式", "同步", "全面", "将", "全部", "予以",
                      "完成", "陆续", "开始", "参加", "参与", "举行", "此次", "本次", "本期", "这次", "“")
CATEGORY_SUFFIXES = ("类型项目", "类项目", "项目", "领域", "类型", "类", "行业", "方面", "投资")
# Part of a batch signed on site or at a city's own main venue, or left to counties: a subset by
# venue, not a figure. (A city's 分会场 of the provincial event holds the city's whole batch.)
VENUE_SUBSET = r"现场|[市县区]主会场|主会场(?:签约|开工)|自行"
SUBSET_AFTER = re.compile(rf"^[^,;。]{{0,12}}(?:{VENUE_SUBSET}|分别由|由各)")
SOURCE_WORDS = re.compile(r"外资|内资|省外|境外|国外|外商|港澳台|资金|来源|民间投资|民营")
