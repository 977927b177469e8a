"""Real-world forms of a unit's submission, so `sanpi run` on the sample exercises what offices send:
amounts in 万元 with thousands separators, a 合计 row, one sheet with stage section rows, preamble
and note rows around the table, GB18030 CSV, long file names, and a corrected resubmission.

Which file gets which form comes from its own random stream: forms never change the data.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from sanpi.reference import Unit
from sanpi.sample.generator import STAGE_ZH, STAGES, Entry

XLSX_FORMS = ("wan", "total_row", "sections", "preamble")
CSV_FORMS = ("gb18030", "wan_thousands")
PLAIN_SHARE = 0.6
_SECTION_NUMBERS = "一二三"


def pick_form(rng, suffix: str) -> str:
    forms = XLSX_FORMS if suffix == ".xlsx" else CSV_FORMS
    return "plain" if rng.random() < PLAIN_SHARE else rng.choice(forms)


def _row(i: int, e: Entry, wan: bool) -> list:
    p = e.project
    return [i, p.code, p.name, p.county, p.sector_label, e.amount * 100 if wan else e.amount / 100]


def _amount_header(wan: bool) -> str:
    return "总投资(万元)" if wan else "总投资(亿元)"


def workbook_in_form(form: str, round_no: int, unit: Unit, stages: dict[str, list[Entry]]) -> Workbook:
    """A workbook of one of XLSX_FORMS (the plain form is writers.write_xlsx)."""
    wb = Workbook()
    wb.remove(wb.active)
    wan = form == "wan"
    header = ["序号", "项目代码", "项目名称", "所在县区", "所属行业", _amount_header(wan)]
    amount_format = "0" if wan else "0.00"
    if form == "sections":
        ws = wb.create_sheet("项目清单")
        ws.append([f"第{round_no}期“三个一批”项目清单（{unit.name_zh}）"])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=6)
        ws.append(header)
        for n, stage in zip(_SECTION_NUMBERS, STAGES):
            ws.append([f"{n}、{STAGE_ZH[stage]}项目"])
            ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=6)
            for i, e in enumerate(stages[stage], 1):
                ws.append(_row(i, e, wan))
                ws.cell(row=ws.max_row, column=6).number_format = amount_format
        return wb
    for stage in STAGES:
        ws = wb.create_sheet(STAGE_ZH[stage])
        ws.append([f"第{round_no}期“三个一批”{STAGE_ZH[stage]}项目清单（{unit.name_zh}）"])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=6)
        ws["A1"].font = Font(bold=True, size=14)
        if form == "preamble":
            ws.append([f"填报单位：{unit.name_zh}发展和改革委员会（盖章）"])
            ws.append([f"数据口径：第{round_no}期纳入省台账项目"])
            ws.append([])
        ws.append(header)
        for i, e in enumerate(stages[stage], 1):
            ws.append(_row(i, e, wan))
            ws.cell(row=ws.max_row, column=6).number_format = amount_format
        if form == "total_row":
            total = sum(e.amount for e in stages[stage])
            ws.append([None, None, f"合计（{len(stages[stage])}个）", None, None, total / 100])
            ws.cell(row=ws.max_row, column=6).number_format = "0.00"
        if form == "preamble":
            ws.append(["注：总投资以项目备案（核准）文件为准。"])
            ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=6)
    return wb


def csv_in_form(form: str, stages: dict[str, list[Entry]]) -> bytes:
    """CSV bytes of one of CSV_FORMS (the plain form is writers.write_csv)."""
    wan = form == "wan_thousands"
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["序号", "项目代码", "项目名称", "所在县区", "所属行业", "阶段", _amount_header(wan)])
    for stage in STAGES:
        for i, e in enumerate(stages[stage], 1):
            p = e.project
            amount = f"{e.amount * 100:,}" if wan else f"{e.amount // 100}.{e.amount % 100:02d}"
            w.writerow([i, p.code, p.name, p.county, p.sector_label, STAGE_ZH[stage], amount])
    return buf.getvalue().encode("gb18030" if form == "gb18030" else "utf-8-sig")


def first_draft(stages: dict[str, list[Entry]]) -> dict[str, list[Entry]]:
    """The version a unit sent before its correction: the last signed project was left out."""
    return {s: (entries[:-1] if s == "signed" and entries else entries) for s, entries in stages.items()}


def correction_path(path: Path) -> Path:
    """更正 (corrected) files sort after the first version: ingest makes the later one current."""
    return path.with_name(f"{path.stem}（更正）{path.suffix}")
