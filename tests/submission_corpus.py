"""A corpus of awkward and bad city submissions, each a small file made by a real library, with the
outcome a user should get: what loads, what is quarantined (column, reason) and what is reported."""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Callable

from openpyxl import Workbook

H = ["序号", "项目代码", "项目名称", "所在县区", "所属行业", "总投资(亿元)"]
CSV_H = "序号,项目代码,项目名称,所在县区,所属行业,阶段,总投资(亿元)"


def row(n: int, amount, code: str | None = None, name: str | None = None) -> list:
    return [n, code or f"410100-R13-{n:04d}", name or f"测试项目{n}", "金水区", "先进制造业", amount]


def xlsx(sheets: dict[str, list[list]], merges: dict[str, list[str]] | None = None) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
        for rng in (merges or {}).get(name, []):
            ws.merge_cells(rng)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


TITLE = ["第13期“三个一批”项目清单"]


@dataclass
class Case:
    name: str
    file_name: str
    build: Callable[[], bytes]
    read: int                      # rows read = loaded + quarantined
    loaded: int
    quarantined: list[tuple[str | None, str]] = field(default_factory=list)   # (column, reason fragment)
    findings: list[str] = field(default_factory=list)                          # finding kinds, in order
    skipped: int = 0
    total_yi: str | None = None    # sum of loaded 亿元, as text
    rejected: str | None = None    # reason fragment when the whole file cannot be read
    folder: str = "13"


def _csv(text: str, encoding: str = "utf-8-sig") -> Callable[[], bytes]:
    return lambda: text.encode(encoding)


CASES = [
    Case("clean workbook, title row, three stage sheets", "郑州市.xlsx", lambda: xlsx({
        "签约一批": [TITLE, H, row(1, 10), row(2, 2.5)], "开工一批": [TITLE, H, row(3, 1)], "投产一批": [TITLE, H]}),
        3, 3, total_yi="13.5"),
    Case("header in the first row", "郑州市.xlsx", lambda: xlsx({"签约一批": [H, row(1, 3)]}), 1, 1),
    Case("header below several preamble rows", "郑州市.xlsx", lambda: xlsx({"开工一批": [
        TITLE, ["填报单位：郑州市发展改革委"], ["填报日期：2024年7月"], [], H, row(1, 4)]}), 1, 1),
    Case("合计 row that matches", "郑州市.xlsx", lambda: xlsx({"签约一批": [
        TITLE, H, row(1, 1.25), row(2, 2), ["合计", None, None, None, None, 3.25]]}),
        2, 2, findings=["total_checked"], skipped=1),
    Case("合计 row that differs from its rows", "郑州市.xlsx", lambda: xlsx({"签约一批": [
        TITLE, H, row(1, 1.25), row(2, 2), ["合计", None, None, None, None, 4]]}),
        2, 2, findings=["total_mismatch"], skipped=1),
    Case("合计 row with a project count that differs", "郑州市.xlsx", lambda: xlsx({"签约一批": [
        TITLE, H, row(1, 1), row(2, 2), [None, None, "合计（3个）", None, None, 3]]}),
        2, 2, findings=["total_mismatch"], skipped=1),
    Case("小计 per section and a 合计", "郑州市.xlsx", lambda: xlsx({"清单": [
        TITLE, ["序号", "项目名称", "阶段", "总投资(亿元)"], [1, "甲", "签约一批", 1], ["小计", None, None, 1],
        [2, "乙", "开工一批", 2], ["小计", None, None, 2], ["总计", None, None, 3]]}),
        2, 2, findings=["total_checked", "total_checked", "total_checked"], skipped=3),
    Case("stage column merged over several rows", "郑州市.xlsx", lambda: xlsx({"项目清单": [
        TITLE, ["序号", "阶段", "项目名称", "总投资(亿元)"], [1, "签约一批", "甲", 1], [2, None, "乙", 2],
        [3, "投产一批", "丙", 3]]}, {"项目清单": ["A1:D1", "B3:B4"]}), 3, 3, total_yi="6"),
    Case("one sheet with stage section rows", "郑州市.xlsx", lambda: xlsx({"项目清单": [
        TITLE, H, ["一、签约一批"], row(1, 1), ["二、开工一批项目"], row(2, 2), ["三、投产一批"], row(3, 3)]},
        {"项目清单": ["A3:F3", "A5:F5", "A7:F7"]}), 3, 3, skipped=3),
    Case("investment in 万元", "郑州市.xlsx", lambda: xlsx({"签约一批": [
        TITLE, H[:5] + ["总投资（万元）"], row(1, 25000), row(2, "3,000")]}), 2, 2, total_yi="2.8"),
    Case("two-row header with the unit below 总投资", "郑州市.xlsx", lambda: xlsx({"签约一批": [
        TITLE, H[:5] + ["总投资"], [None, None, None, None, None, "(亿元)"], row(1, 5)]}), 1, 1, total_yi="5"),
    Case("total investment header without a unit", "郑州市.xlsx", lambda: xlsx({"签约一批": [
        TITLE, H[:5] + ["计划总投资"], row(1, 5)]}), 1, 1, findings=["unit_assumed"]),
    Case("header variants and a 年度计划投资 distractor", "郑州市.xlsx", lambda: xlsx({"开工一批": [
        ["编号", "名称", "建设地点", "所属领域", "年度计划投资(亿元)", "投资总额(亿元)", "建设单位"],
        [1, "甲", "中牟县", "现代服务业", 0.5, 8, "某公司"]]}), 1, 1, total_yi="8"),
    Case("amounts as text: separators, full-width digits, unit suffix", "郑州市.xlsx", lambda: xlsx({"签约一批": [
        H, row(1, "1,200.50"), row(2, "１２．５"), row(3, "3000万元")]}), 3, 3, total_yi="1213.3"),
    Case("amount not a number", "郑州市.xlsx", lambda: xlsx({"签约一批": [H, row(1, "待定"), row(2, 1)]}),
         2, 1, [("investment", "not a number")]),
    Case("negative amount", "郑州市.xlsx", lambda: xlsx({"签约一批": [H, row(1, -3)]}),
         1, 0, [("investment", "must be positive")]),
    Case("zero amount", "郑州市.xlsx", lambda: xlsx({"签约一批": [H, row(1, 0)]}),
         1, 0, [("investment", "must be positive")]),
    Case("missing amount", "郑州市.xlsx", lambda: xlsx({"签约一批": [H, row(1, None)]}),
         1, 0, [("investment", "empty")]),
    Case("missing project name", "郑州市.xlsx", lambda: xlsx({"签约一批": [H, [1, "c1", None, "金水区", "其他", 3]]}),
         1, 0, [("project_name", "empty")]),
    Case("亿元 column holding a 万元 amount", "郑州市.xlsx", lambda: xlsx({"签约一批": [H, row(1, 25000)]}),
         1, 0, [("investment", "implausible")]),
    Case("万元 column holding a 亿元 amount", "郑州市.xlsx", lambda: xlsx({"签约一批": [
        H[:5] + ["总投资(万元)"], row(1, 5)]}), 1, 0, [("investment", "implausibly small")]),
    Case("duplicate project code in one stage", "郑州市.xlsx", lambda: xlsx({"签约一批": [
        H, row(1, 1, code="X-1"), row(2, 2, code="X-1")]}), 2, 1, [("project_code", "duplicate of row 2")],
        findings=["duplicate_project"]),
    Case("duplicate project across two sheets of one stage", "郑州市.xlsx", lambda: xlsx({
        "签约一批": [H, row(1, 1, code="X-1")], "签约一批(续)": [H, row(2, 1, code="X-1")]}),
        2, 1, [("project_code", "duplicate")], findings=["duplicate_project"]),
    Case("same project in two stages is not a duplicate", "郑州市.xlsx", lambda: xlsx({
        "签约一批": [H, row(1, 1, code="X-1")], "开工一批": [H, row(1, 1, code="X-1")]}), 2, 2),
    Case("blank rows and pre-numbered empty rows", "郑州市.xlsx", lambda: xlsx({"签约一批": [
        H, row(1, 1), [], [None] * 6, row(2, 1), [3, None, None, None, None, None]]}), 2, 2),
    Case("note row under the table", "郑州市.xlsx", lambda: xlsx({"签约一批": [
        H, row(1, 1), ["注：本表金额单位为亿元"]]}, {"签约一批": ["A3:F3"]}), 1, 1, findings=["note_row"], skipped=1),
    Case("instructions sheet without a header is ignored", "郑州市.xlsx", lambda: xlsx({
        "填报说明": [["请按模板填写"]], "签约一批": [H, row(1, 1)]}), 1, 1),
    Case("sheet that names no stage and no stage column", "郑州市.xlsx", lambda: xlsx({"其他项目": [H, row(1, 1)]}),
         1, 0, [("stage", "no stage")]),
    Case("stage cell that is not a stage", "郑州市.xlsx", lambda: xlsx({"清单": [
        ["项目名称", "阶段", "总投资(亿元)"], ["甲", "储备", 1], ["乙", "开工", 1]]}),
        2, 1, [("stage", "not 签约/开工/投产")]),
    Case("damaged workbook", "郑州市.xlsx", lambda: b"PK\x03\x04 this is not a workbook", 0, 0,
         rejected="not a readable xlsx"),
    Case("legacy .xls workbook", "郑州市.xls", lambda: b"\xd0\xcf\x11\xe0 old excel", 0, 0, rejected="save the file as .xlsx"),
    Case("workbook without a header row", "郑州市.xlsx", lambda: xlsx({"签约一批": [["甲", 1], ["乙", 2]]}), 0, 0,
         rejected="no header row"),
    Case("CSV, UTF-8 with BOM", "郑州市.csv", _csv(f"{CSV_H}\n1,c1,甲,金水区,其他,签约一批,1.5\n"), 1, 1),
    Case("CSV, UTF-8 without BOM", "郑州市.csv", _csv(f"{CSV_H}\n1,c1,甲,金水区,其他,开工一批,1.5\n", "utf-8"), 1, 1),
    Case("CSV, GB18030", "郑州市.csv", _csv(f"{CSV_H}\n1,c1,甲,金水区,其他,投产一批,1.5\n", "gb18030"), 1, 1),
    Case("tab-separated UTF-16 text (Excel 'Unicode text')", "郑州市.csv",
         _csv(CSV_H.replace(",", "\t") + "\n1\tc1\t甲\t金水区\t其他\t签约一批\t1.5\n", "utf-16"), 1, 1),
    Case("CSV with semicolons", "郑州市.csv", _csv(f"{CSV_H.replace(',', ';')}\n1;c1;甲;金水区;其他;签约一批;2\n"),
         1, 1, total_yi="2"),
    Case("CSV, quoted thousands separators in 万元", "郑州市.csv",
         _csv("序号,项目名称,阶段,总投资(万元)\n1,甲,签约一批,\"12,500\"\n"), 1, 1, total_yi="1.25"),
    Case("CSV with a 合计 line and full-width digits", "郑州市.csv",
         _csv(f"{CSV_H}\n1,c1,甲,金水区,其他,签约一批,１．５\n合计,,,,,,1.5\n"), 1, 1, findings=["total_checked"],
         skipped=1, total_yi="1.5"),
    Case("unit named by an alias", "济源产城融合示范区.csv", _csv(f"{CSV_H}\n1,c1,甲,济源,其他,签约一批,1\n"), 1, 1),
    Case("unit named inside a longer file name", "郑州航空港区第13期项目清单.csv",
         _csv(f"{CSV_H}\n1,c1,甲,港区,其他,签约一批,1\n"), 1, 1),
    Case("unknown unit: every row quarantined", "火星市.csv", _csv(f"{CSV_H}\n1,c1,甲,x,其他,签约一批,1\n2,c2,乙,x,其他,签约一批,1\n"),
         2, 0, [(None, "unknown reporting unit"), (None, "unknown reporting unit")]),
    Case("round folder not a number: round from the file name", "洛阳市第13期清单.csv",
         _csv(f"{CSV_H}\n1,c1,甲,洛龙区,其他,签约一批,1\n"), 1, 1, folder="更正"),
    Case("round nowhere: every row quarantined", "洛阳市.csv", _csv(f"{CSV_H}\n1,c1,甲,洛龙区,其他,签约一批,1\n"),
         1, 0, [(None, "round number not found")], folder="更正"),
]
