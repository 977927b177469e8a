"""Writers for the sample folder: unit submissions (xlsx / csv) and bulletins (txt / json).

Everything written is a function of the campaign only: no clock, no platform-dependent bytes.
openpyxl stamps the save time into docProps/core.xml and the zip entry dates, so xlsx files are
re-zipped with fixed dates and a fixed timestamp in core.xml.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from sanpi.reference import Unit
from sanpi.sample.forms import csv_in_form, workbook_in_form
from sanpi.sample.generator import (
    SECTOR_BREAKDOWN_ROUNDS, STAGE_ZH, STAGES, Campaign, Entry, Round, cumulative)

XLSX_HEADER = ("序号", "项目代码", "项目名称", "所在县区", "所属行业", "总投资(亿元)")
CSV_HEADER = ("序号", "项目代码", "项目名称", "所在县区", "所属行业", "阶段", "总投资(亿元)")
FIXED_TIME = dt.datetime(2021, 7, 10)  # the campaign's first day, instead of "now"
_ZIP_TIME = (2021, 7, 10, 0, 0, 0)
_CN_DIGITS = "零一二三四五六七八九"
CUMULATIVE_ROUNDS = (6, 10, 13)


def yi(amount: int) -> str:
    """Hundredths of 亿元 as a 2-decimal string, without going through float."""
    return f"{amount // 100}.{amount % 100:02d}"


# -- submissions ----------------------------------------------------------------------------
def write_xlsx(path: Path, round_no: int, unit: Unit, stages: dict[str, list[Entry]],
               form: str = "plain") -> None:
    wb = _plain_workbook(round_no, unit, stages) if form == "plain" else \
        workbook_in_form(form, round_no, unit, stages)
    wb.properties.creator = "sanpi sample (synthetic)"
    wb.properties.created = wb.properties.modified = FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(_normalise_zip(buf.getvalue()))


def _plain_workbook(round_no: int, unit: Unit, stages: dict[str, list[Entry]]) -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    for stage in STAGES:
        ws = wb.create_sheet(STAGE_ZH[stage])
        ws.append([f"第{round_no}期“三个一批”{STAGE_ZH[stage]}项目清单（{unit.name_zh}）"])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(XLSX_HEADER))
        ws["A1"].font = Font(bold=True, size=14)
        ws.append(list(XLSX_HEADER))
        for cell in ws[2]:
            cell.font = Font(bold=True)
        for i, e in enumerate(stages[stage], 1):
            p = e.project
            # amount/100 is the float nearest the 2-decimal value; Excel shows it exactly.
            ws.append([i, p.code, p.name, p.county, p.sector_label, e.amount / 100])
            ws.cell(row=i + 2, column=6).number_format = "0.00"
        for col, width in zip("ABCDEF", (6, 18, 44, 14, 22, 14)):
            ws.column_dimensions[col].width = width
    return wb


def _normalise_zip(data: bytes) -> bytes:
    """Re-zip with fixed entry dates, attributes, compression and order; pin core.xml times."""
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in sorted(src.namelist(), key=lambda n: (n != "[Content_Types].xml", n)):
            payload = src.read(name)
            if name == "docProps/core.xml":  # openpyxl sets 'modified' to now when saving
                payload = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp,
                                 payload)
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            dst.writestr(info, payload, compresslevel=6)
    return out.getvalue()


def write_csv(path: Path, stages: dict[str, list[Entry]], form: str = "plain") -> None:
    if form != "plain":
        path.write_bytes(csv_in_form(form, stages))
        return
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_HEADER)
    for stage in STAGES:
        for i, e in enumerate(stages[stage], 1):
            p = e.project
            w.writerow([i, p.code, p.name, p.county, p.sector_label, STAGE_ZH[stage], yi(e.amount)])
    path.write_bytes(buf.getvalue().encode("utf-8-sig"))


# -- bulletins ------------------------------------------------------------------------------
def round_zh(n: int) -> str:
    """1..99 in Chinese numerals (第十三期), as provincial titles write round numbers."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _CN_DIGITS[tens] + "十")
    return head + (_CN_DIGITS[ones] if ones or not head else "")


def _investment_value(rnd: Round, stage: str, total: int) -> int | float:
    """Published figure as published (4364 stays an int); otherwise the sum to one decimal."""
    text = rnd.published.get((stage, "investment_yi"))
    if text:
        return int(text) if "." not in text else float(text)
    return float((Decimal(total) / 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


# One sentence per stage: the reader takes count and amount from the same sentence. Once most of
# a production batch is carried over, bulletins call it 结转投产.
_STAGE_SENTENCE = {
    "signed": "本期集中签约项目{n}个,总投资{v}亿元。",
    "started": "本期集中开工项目{n}个,总投资{v}亿元。",
    "production": "本期集中投产项目{n}个,总投资{v}亿元。",
    "carried": "本期结转投产项目共{n}个,总投资{v}亿元。",
}


def bulletin(campaign: Campaign, rnd: Round) -> tuple[str, dict]:
    """The bulletin text of a round and the figures a perfect reader extracts from it."""
    r = rnd.round_no
    lines = ["【合成数据 SYNTHETIC】",
             f"河南省第{round_zh(r)}期“三个一批”项目建设活动情况通报（合成样例）"]
    if rnd.held_on:
        d = dt.date.fromisoformat(rnd.held_on)
        lines.append(f"活动日期:{d.year}年{d.month}月{d.day}日")
    else:
        lines.append("本期举办日期未列明。")
    if rnd.main_venue:
        lines.append(f"本期活动主会场设在{rnd.main_venue},其余各地以视频连线方式参加。")
    else:
        lines.append("本期活动以视频连线方式组织,通报未列明主会场。")
    figures = []

    def figure(stage, measure, value, sentence, category=None):
        figures.append({
            "unit": "河南省", "unit_level": "province", "stage": stage, "measure": measure,
            "value": value, "qualifier": "exact", "source_text": sentence,
            "breakdown": {"dimension": "sector", "category": category} if category else None})

    for stage in STAGES:
        entries = rnd.stages[stage]
        value = _investment_value(rnd, stage, sum(e.amount for e in entries))
        key = "carried" if stage == "production" and 2 * sum(e.carried for e in entries) > \
            len(entries) else stage
        sentence = _STAGE_SENTENCE[key].format(n=len(entries), v=str(value))
        lines.append(sentence)
        figure(stage, "projects", len(entries), sentence)
        figure(stage, "investment_yi", value, sentence)

    breakdown = _sector_breakdown(campaign, rnd) if r in SECTOR_BREAKDOWN_ROUNDS else []
    if breakdown:
        parts = [f"{name}项目{n}个、投资{str(v)}亿元" for name, n, v in breakdown]
        sentence = "分行业看,本期开工项目中" + ",".join(parts) + "。"
        lines.append(sentence)
        for name, n, v in breakdown:
            figure("started", "projects", n, sentence, name)
            figure("started", "investment_yi", v, sentence, name)

    cum = None
    if r in CUMULATIVE_ROUNDS:
        projects, total = cumulative(campaign, r)
        value = float((Decimal(total) / 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
        lines.append(f"截至本期,全省{r}期活动累计实施项目{projects}个,累计总投资{str(value)}亿元。")
        cum = {"rounds": r, "projects": projects, "investment_yi": value, "qualifier": "exact"}
    lines.append("以上数字为样例生成器按固定随机种子编造,与真实台账无关,仅供测试使用。")
    text = "\n".join(lines) + "\n"
    return text, {
        "file": f"round_{r:02d}.txt", "synthetic": True, "province": "河南", "round": r,
        "held_on": rnd.held_on, "main_venue": rnd.main_venue, "source_url": None,
        "figures": figures, "cumulative": cum, "defects": [],
        "notes": "Synthetic bulletin written by `sanpi sample`; figures equal the sums of the "
                 "round's unit submissions (anchored rounds state the published figures).",
    }


def _sector_breakdown(campaign: Campaign, rnd: Round) -> list[tuple[str, int, float]]:
    """(canonical sector name, projects, 亿元) of the started stage; sums are whole tenths."""
    out = []
    for code, name in campaign.sector_names.items():
        entries = [e for e in rnd.stages["started"] if e.project.sector_code == code]
        if entries:
            total = sum(e.amount for e in entries)
            assert total % 10 == 0, "sector sums are made whole tenths by the generator"
            out.append((name, len(entries), float(Decimal(total) / 100)))
    return out


def write_bulletin(folder: Path, campaign: Campaign, rnd: Round) -> None:
    text, label = bulletin(campaign, rnd)
    (folder / f"round_{rnd.round_no:02d}.txt").write_bytes(text.encode("utf-8"))
    body = json.dumps(label, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    (folder / f"round_{rnd.round_no:02d}.json").write_bytes(body.encode("utf-8"))


# -- file names and the README --------------------------------------------------------------
def submission_name(rng, unit: Unit, round_no: int) -> str:
    """File name of a unit's submission: mostly its full name, sometimes a short name, an alias,
    the code or a long descriptive name, because ingest must resolve all of them; ~70% xlsx."""
    stem = unit.name_zh
    pick = rng.random()
    if pick < 0.2:
        stem = rng.choice(sorted({unit.short_zh, unit.code, *unit.aliases} - {unit.name_zh}))
    elif pick < 0.3:
        stem = f"{unit.name_zh}第{round_no}期三个一批项目清单"
    return stem + (".xlsx" if rng.random() < 0.7 else ".csv")


def readme(campaign: Campaign, share: float, started: float) -> str:
    rows = "\n".join(
        f"| {rnd.round_no} | {rnd.held_on or '—'} | "
        + " | ".join(f"{len(rnd.stages[s])} / {yi(sum(e.amount for e in rnd.stages[s]))}"
                     for s in STAGES)
        + f" | {_ANCHORED.get(rnd.round_no, 'invented')} |"
        for rnd in campaign.rounds)
    return f"""# Sample data: SYNTHETIC

Everything in this folder is **synthetic**, generated by `sanpi sample` (seed {campaign.seed}).
Project codes, names, amounts, unit submissions and bulletin texts are invented; only the
provincial totals listed as anchored below equal real published figures, and county names,
unit names, dates and main venues are real facts (from `dbt_project/seeds/`). Regenerating with
the same seed gives byte-identical files.

## Layout

- `bulletins/round_NN.txt`: a short synthetic provincial bulletin per round (first line
  `【合成数据 SYNTHETIC】`); `round_NN.json`: the figures a perfect reader extracts from it
  (reader output contract plus `synthetic`, `source_url` and each figure's `source_text`).
- `submissions/<round>/<unit>.xlsx|.csv`: one file per round and reporting unit (19 units,
  rounds 1-15). File names use the unit's full name, short name, an alias or its code.
  xlsx: sheets `签约一批`, `开工一批`, `投产一批`; row 1 a merged title, row 2 the header
  `序号 | 项目代码 | 项目名称 | 所在县区 | 所属行业 | 总投资(亿元)`, data from row 3, no total row.
  csv: UTF-8 with BOM, no title, header `序号,项目代码,项目名称,所在县区,所属行业,阶段,总投资(亿元)`.
- About 40% of the files come in the forms real offices send instead (`sanpi/sample/forms.py`):
  xlsx with amounts in 万元, with a `合计（N个）` row under each sheet, as one sheet with stage
  section rows (一、签约一批项目 …), or with preamble and note rows around the table; CSV in
  GB18030, or in 万元 with thousands separators. Some file names are long
  (`郑州市第13期三个一批项目清单.xlsx`).
- Rounds 5 and 11 each hold one corrected resubmission: `<unit>（更正）.xlsx|csv` next to the
  unit's first version, which left out its last signed project. Ingest loads both and keeps the
  correction current; the bulletin matches the corrected list.

## What is anchored on real published figures

Provincial stage totals (sum over all units' files) equal the published figures exactly:
- round 4: signed 560 / 4364 亿元, started 1009 / 6328, production 785 / 4227;
- round 8: counts 651 / 769 / 907; signed+started amount rounds to 1.8万亿元 (amounts invented);
- round 9: signed+started 1220 projects / 11408 亿元 (split invented); production 1072 / 8595;
- round 12: signed 660 projects (everything else invented);
- round 13: signed 754 / 5782.7, started 488 / 3697.8, production 1017 / 8528.8;
- round 15: signed 610 / 4395, started 602 / 4044.3, production 1033 / 4344.9.

Everything else is invented: all other rounds' counts and amounts, the split over units,
sectors and counties, the sector breakdowns (started stage, rounds
{", ".join(map(str, SECTOR_BREAKDOWN_ROUNDS))}) and the cumulative figures. Invented figures
are meant to be plausible, not real; the real cumulative figures (13110 / 14156 / 18653
projects after rounds 6 / 10 / 13) are not reproduced: their counting basis is unclear.

## Model

- Amounts are multiples of 0.01 亿元, heavy-tailed (lognormal), at least 0.30 亿元.
- {started:.1%} of signed projects (rounds 1-11) start construction 1-4 rounds later (same
  code, name, county, sector; the amount may be revised).
- Production batches are mostly carried over from earlier started projects (结转投产):
  {share:.1%} of production entries in rounds 4-15 (round 1 has no earlier starts, rounds
  2-3 carry 40-55%; round 7 adds only 4 new projects, rounds 8 and 15 none, as sources say).
- Project code `{{unit_code}}-R{{first round:02d}}-{{seq:04d}}`, stable across rounds.
- Sector labels are mostly canonical names of `ref_sectors.csv`, some variants of
  `ref_sector_labels.csv` (e.g. 战略新兴产业, 数字经济).

## Bulletin figures

Provincial figures (`unit` 河南省) per stage: projects and investment (亿元). Anchored figures
are written as published (`4364`, `5782.7`); the others are the exact sum of the units' files
rounded half-up to one decimal, so the tolerance is half a unit of the last decimal written.
Sector breakdown figures are exact sums (the generator makes them whole tenths).

**Cumulative** (rounds {", ".join(map(str, CUMULATIVE_ROUNDS))}): `projects` = number of distinct
project codes listed in any stage of rounds 1..N; `investment_yi` = sum over those projects of
each one's latest listed amount up to round N, rounded half-up to 0.1 亿元.

## Rows per round (projects / 亿元 summed over units)

| round | held on | signed | started | production | figures |
|---|---|---|---|---|---|
{rows}
"""


_ANCHORED = {4: "anchored", 8: "partly anchored", 9: "partly anchored",
             12: "partly anchored", 13: "anchored", 15: "anchored"}
