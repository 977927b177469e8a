"""Type one table of a submission (an xlsx sheet or a CSV file): find the header wherever it is,
read project rows, check 合计 rows, and send every row that cannot be loaded to quarantine.

rows read = rows loaded + rows quarantined. Title rows above the header, blank rows, stage section
rows ('一、签约一批'), notes and 合计/小计 rows are not project rows: they are counted as skipped.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterable, Sequence

from sanpi.ingest.cells import (AmountError, YI, column_for, declared_count, is_total_label, norm,
                                parse_amount, stage_in, unit_only)

MAX_PLAUSIBLE_YI = Decimal(3000)   # one project above 3000 亿元: the column was probably in 万元
MIN_PLAUSIBLE_YI = Decimal("0.01")  # below 100 万元: probably 亿元 written into a 万元 column
TOTAL_TOLERANCE_YI = Decimal("0.01")


@dataclass
class ReadResult:
    rows: list[dict] = field(default_factory=list)         # typed project rows
    quarantined: list[dict] = field(default_factory=list)  # {sheet,row_number,column_name,raw_values,reason}
    findings: list[dict] = field(default_factory=list)     # {sheet,row_number,finding,detail,expected,actual}
    rows_skipped: int = 0                                   # 合计, section and note rows

    @property
    def rows_read(self) -> int:
        return len(self.rows) + len(self.quarantined)


@dataclass
class _Header:
    columns: dict[int, str]
    factor: Decimal | None

    @property
    def investment_index(self) -> int:
        return next(i for i, c in self.columns.items() if c == "investment")


def _header(cells: Sequence) -> _Header | None:
    columns: dict[int, str] = {}
    factor = None
    for i, cell in enumerate(cells):
        column, unit = column_for(cell)
        if column and column not in columns.values():
            columns[i] = column
            factor = unit if column == "investment" else factor
    if "project_name" in columns.values() and "investment" in columns.values():
        return _Header(columns, factor)
    return None


def raw_values_json(values: dict) -> str:
    """A quarantined row's cells as read (the columns the header names), JSON."""
    return json.dumps({k: (None if v is None else str(v)) for k, v in values.items()}, ensure_ascii=False)


def duplicate_messages(first: int, code: str | None, name: str, stage: str) -> tuple[str, str, str]:
    """(finding detail, quarantined column, reason) for a project listed again in the same stage."""
    return (f"same project as row {first} ({code or name}) in {stage}",
            "project_code" if code else "project_name",
            f"duplicate of row {first} ({'code ' + code if code else name}) in the same stage")


class _Table:
    def __init__(self, sheet: str | None, sheet_stage: str | None, out: ReadResult):
        self.sheet, self.stage, self.out = sheet, sheet_stage, out
        self.header: _Header | None = None
        self.expect_unit_row = False
        self.section_start = len(out.rows)
        self.table_start = len(out.rows)
        self.seen: dict[tuple, int] = {}

    def finding(self, row_number: int, finding: str, detail: str, expected=None, actual=None) -> None:
        self.out.findings.append({"sheet": self.sheet, "row_number": row_number, "finding": finding,
                                  "detail": detail, "expected": expected, "actual": actual})

    def feed(self, row_number: int, cells: list) -> None:
        if self.header is None:
            self.header = _header(cells)
            self.expect_unit_row = self.header is not None and self.header.factor is None
            return
        if self.expect_unit_row:
            self.expect_unit_row = False
            unit = unit_only(cells[self.header.investment_index]) if len(cells) > self.header.investment_index else None
            if unit is not None:  # a two-row header: the unit sits under 总投资
                self.header.factor = unit
                return
            self.header.factor = YI
            self.finding(row_number, "unit_assumed", "the total investment header names no unit: read as 亿元")
        texts = [norm(c) for c in cells]
        if not any(texts):
            return
        values = {col: (cells[i] if i < len(cells) else None) for i, col in self.header.columns.items()}
        labels = [values.get(c) for c in ("seq", "project_code", "project_name")]
        if any(is_total_label(v) for v in labels):
            return self.total_row(row_number, values, labels)
        distinct = {t for t in texts if t}
        filled = [i for i, t in enumerate(texts) if t]
        if len(distinct) == 1:  # one text, in one cell or merged across the row
            text = distinct.pop()
            column = self.header.columns.get(filled[0]) if len(filled) == 1 else None
            if column == "seq":
                return  # a pre-numbered empty row
            stage = stage_in(text)
            if stage or column != "project_name":
                self.out.rows_skipped += 1
                if stage:  # a section row such as '一、签约一批项目'
                    self.stage = stage
                    self.section_start = len(self.out.rows)
                else:
                    self.finding(row_number, "note_row", f"not a project row, skipped: {text[:80]}")
                return
        self.project_row(row_number, values)

    def total_row(self, row_number: int, values: dict, labels: list) -> None:
        self.out.rows_skipped += 1
        label = next(norm(v) for v in labels if is_total_label(v))
        start = self.section_start if "小计" in label else self.table_start
        rows = self.out.rows[start:]
        computed = sum((r["investment_yi"] for r in rows), Decimal(0))
        problems = []
        try:
            declared = parse_amount(values.get("investment"), self.header.factor or YI)
        except AmountError:
            declared = None
        if declared is not None and abs(declared - computed) > TOTAL_TOLERANCE_YI:
            problems.append(f"总投资 {declared:f} declared, rows sum to {computed:f}")
        count = declared_count(label)
        if count is not None and count != len(rows):
            problems.append(f"{count} projects declared, {len(rows)} rows loaded")
        if problems:
            self.finding(row_number, "total_mismatch", f"{label}: " + "; ".join(problems), declared, computed)
        else:
            self.finding(row_number, "total_checked", f"{label} matches the rows above it", declared, computed)
        if "小计" in label:
            self.section_start = len(self.out.rows)

    def project_row(self, row_number: int, values: dict) -> None:
        def reject(column: str | None, reason: str) -> None:
            self.out.quarantined.append({"sheet": self.sheet, "row_number": row_number,
                                         "column_name": column, "raw_values": raw_values_json(values),
                                         "reason": reason})

        name = norm(values.get("project_name"))
        if not name:
            return reject("project_name", "project name (项目名称) is empty")
        stage = self.stage
        if "stage" in values and norm(values["stage"]):
            stage = stage_in(values["stage"])
            if stage is None:
                return reject("stage", f"stage (阶段) {values['stage']!r} is not 签约/开工/投产")
        if stage is None:
            return reject("stage", f"no stage: sheet {self.sheet!r} names none and there is no 阶段 column or section row")
        factor = self.header.factor or YI
        try:
            amount = parse_amount(values.get("investment"), factor)
        except AmountError as exc:
            return reject("investment", f"total investment (总投资) {values.get('investment')!r}: {exc}")
        if amount <= 0:
            return reject("investment", f"total investment (总投资) must be positive, got {amount:f}")
        if amount > MAX_PLAUSIBLE_YI:
            return reject("investment", f"total investment {amount:f} 亿元 is implausible for one project "
                                        f"(above {MAX_PLAUSIBLE_YI} 亿元): is the column in 万元?")
        if amount < MIN_PLAUSIBLE_YI:
            return reject("investment", f"total investment {amount:f} 亿元 is implausibly small "
                                        f"(below {MIN_PLAUSIBLE_YI} 亿元): is the column in 亿元, not 万元?")
        code = norm(values.get("project_code")) or None
        key = (stage, "code", code) if code else (stage, "name", name)
        if key in self.seen:
            detail, column, reason = duplicate_messages(self.seen[key], code, name, stage)
            self.finding(row_number, "duplicate_project", detail)
            return reject(column, reason)
        self.seen[key] = row_number
        self.out.rows.append({
            "sheet": self.sheet, "row_number": row_number, "stage_code": stage,
            "project_code": code, "project_name": name,
            "county": norm(values.get("county")) or None,
            "sector_label": norm(values.get("sector_label")) or None,
            "enterprise": norm(values.get("enterprise")) or None,
            "investment_yi": amount.quantize(Decimal("0.0001")),
        })


def read_table(rows: Iterable[Sequence], sheet: str | None, sheet_stage: str | None, out: ReadResult,
               seen: dict | None = None) -> bool:
    """Type one table into out. Returns False when it has no header row (then nothing is read).
    `seen` is shared across a workbook's sheets so a project listed twice in one stage is caught."""
    table = _Table(sheet, sheet_stage, out)
    if seen is not None:
        table.seen = seen
    for row_number, cells in enumerate(rows, start=1):
        table.feed(row_number, list(cells))
    return table.header is not None
