"""What a spreadsheet cell or header means: column names, investment units, amounts, stages, totals.

Pure functions over cell values, shared by the xlsx and CSV readers.
"""
from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

YI = Decimal(1)
WAN_TO_YI = Decimal("0.0001")
YUAN_TO_YI = Decimal("0.00000001")
UNIT_FACTORS = {"亿元": YI, "亿": YI, "万元": WAN_TO_YI, "万": WAN_TO_YI, "元": YUAN_TO_YI}

# Header (NFKC-normalised, unit removed) -> canonical column. Exact names first; the patterns below
# catch longer variants ("建设地点(县区)", "所属产业链").
COLUMN_NAMES = {
    "序号": "seq", "编号": "seq",
    "项目代码": "project_code", "项目编码": "project_code", "项目编号": "project_code",
    "统一项目代码": "project_code", "代码": "project_code",
    "项目名称": "project_name", "名称": "project_name", "项目": "project_name",
    "所在县区": "county", "县区": "county", "县(市、区)": "county", "县(市,区)": "county",
    "建设地点": "county", "所在地": "county", "属地": "county", "所在县(市、区)": "county",
    "所属行业": "sector_label", "行业": "sector_label", "领域": "sector_label", "所属领域": "sector_label",
    "产业链": "sector_label", "所属产业链": "sector_label", "产业类别": "sector_label", "行业类别": "sector_label",
    "阶段": "stage", "类别": "stage", "批次": "stage", "项目类别": "stage", "项目类型": "stage",
    "建设单位": "enterprise", "项目单位": "enterprise", "企业名称": "enterprise",
    "签约企业": "enterprise", "项目业主": "enterprise", "责任单位": "enterprise",
}
# Investment columns: total investment only. 年度计划投资 / 已完成投资 / 累计完成 are other measures.
_TOTAL_INVESTMENT = re.compile(r"^(计划)?(项目)?(总投资(额)?|投资总额)$")
_UNIT_SUFFIX = re.compile(r"[(\[]?(亿元|万元|亿|万|元)[)\]]?$")
_TOTAL_ROW = re.compile(r"(合计|总计|共计|小计)")
_COUNT_IN_TOTAL = re.compile(r"(\d+)\s*个")


_WHITESPACE = re.compile(r"\s+")


def norm(value) -> str:
    """NFKC (full-width digits, brackets and spaces to ASCII), without inner whitespace.
    Called for every cell: ASCII text needs no NFKC, and numbers no regex."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return _WHITESPACE.sub("", text)


def split_unit(header: str) -> tuple[str, Decimal | None]:
    """'总投资(万元)' -> ('总投资', 0.0001); '总投资' -> ('总投资', None)."""
    text = norm(header)
    match = _UNIT_SUFFIX.search(text)
    if match and match.start() > 0:
        return text[:match.start()], UNIT_FACTORS[match.group(1)]
    return text, None


def column_for(header) -> tuple[str | None, Decimal | None]:
    """Canonical column for a header cell and, for investment, its factor to 亿元 (None: no unit)."""
    base, factor = split_unit(header)
    if _TOTAL_INVESTMENT.match(base):
        return "investment", factor
    return COLUMN_NAMES.get(base), None


def unit_only(value) -> Decimal | None:
    """A sub-header cell that is only a unit, e.g. '(亿元)' under '总投资'."""
    text = norm(value).strip("()[]")
    return UNIT_FACTORS.get(text)


class AmountError(ValueError):
    pass


def parse_amount(raw, factor: Decimal) -> Decimal:
    """A cell to 亿元. Numbers may carry thousands separators, full-width digits or a unit suffix
    ('12.5亿元', '3,000万'), which overrides the column's unit."""
    if isinstance(raw, bool):
        raise AmountError("a true/false value is not an amount")
    if isinstance(raw, (int, float)):
        return Decimal(str(raw)) * factor
    text = norm(raw).replace(",", "").replace("，", "")
    if not text:
        raise AmountError("empty")
    match = _UNIT_SUFFIX.search(text)
    if match and match.start() > 0:
        factor = UNIT_FACTORS[match.group(1)]
        text = text[:match.start()]
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise AmountError("not a number") from None
    if not value.is_finite():
        raise AmountError("not a number")
    return value * factor


def stage_in(text) -> str | None:
    """The campaign stage a sheet name, section row or stage cell names, if exactly one."""
    t = norm(text)
    found = {stage for key, stage in (("签约", "signed"), ("开工", "started"), ("投产", "production"),
                                       ("竣工", "production")) if key in t}
    return found.pop() if len(found) == 1 else None


def is_total_label(text) -> bool:
    return isinstance(text, str) and "计" in text and bool(_TOTAL_ROW.search(norm(text)))


def declared_count(text) -> int | None:
    """'合计(12个)' -> 12."""
    match = _COUNT_IN_TOTAL.search(norm(text))
    return int(match.group(1)) if match else None
