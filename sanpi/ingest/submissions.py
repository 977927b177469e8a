"""Read a city submission (xlsx or CSV bytes) into typed project rows and quarantined rows.

Pure functions over bytes: no database, no file system.
"""
from __future__ import annotations

import csv
import io
import json
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from openpyxl import load_workbook

from sanpi.reference import resolve_stage

# Header variants seen in city lists -> canonical column. Headers are NFKC-normalised first,
# so full-width parentheses and spaces need no entries of their own.
HEADER_ALIASES = {
    "序号": "seq",
    "项目代码": "project_code", "项目编码": "project_code", "项目编号": "project_code",
    "项目名称": "project_name", "名称": "project_name",
    "所在县区": "county", "建设地点": "county", "县区": "county", "所在地": "county",
    "所属行业": "sector_label", "行业": "sector_label", "领域": "sector_label",
    "所属领域": "sector_label", "产业链": "sector_label",
    "阶段": "stage", "类别": "stage",
}
# Investment headers and their factor to 亿元.
INVESTMENT_HEADERS = {
    "总投资(亿元)": Decimal(1), "计划总投资(亿元)": Decimal(1), "总投资额(亿元)": Decimal(1),
    "总投资(万元)": Decimal("0.0001"), "计划总投资(万元)": Decimal("0.0001"),
}
REQUIRED = ("project_name", "investment")


class SubmissionFormatError(ValueError):
    """The file as a whole cannot be read (no header row, unreadable bytes)."""


@dataclass
class ReadResult:
    rows: list[dict] = field(default_factory=list)         # typed project rows
    quarantined: list[dict] = field(default_factory=list)  # {sheet,row_number,column_name,raw_values,reason}

    @property
    def rows_read(self) -> int:
        return len(self.rows) + len(self.quarantined)


def _norm(value) -> str:
    if value is None:
        return ""
    return unicodedata.normalize("NFKC", str(value)).strip().replace(" ", "")


def _map_header(cells: list) -> dict[int, tuple[str, Decimal | None]]:
    mapping: dict[int, tuple[str, Decimal | None]] = {}
    for i, cell in enumerate(cells):
        name = _norm(cell)
        if name in INVESTMENT_HEADERS:
            mapping[i] = ("investment", INVESTMENT_HEADERS[name])
        elif name in HEADER_ALIASES:
            mapping[i] = (HEADER_ALIASES[name], None)
    return mapping


def _is_header(cells: list) -> bool:
    columns = {c for c, _ in _map_header(cells).values()}
    return all(c in columns for c in REQUIRED)


def _parse_amount(raw) -> Decimal:
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return Decimal(str(raw))
    text = _norm(raw).replace(",", "")
    return Decimal(text)


def _type_row(cells: list, header: dict[int, tuple[str, Decimal | None]], sheet_stage: str | None,
              sheet: str | None, row_number: int, out: ReadResult) -> None:
    values = {col: cells[i] if i < len(cells) else None for i, (col, _) in header.items()}
    factor = next(f for c, f in header.values() if c == "investment")
    raw_values = json.dumps({k: (None if v is None else str(v)) for k, v in values.items()}, ensure_ascii=False)

    def reject(column: str, reason: str) -> None:
        out.quarantined.append({"sheet": sheet, "row_number": row_number, "column_name": column,
                                "raw_values": raw_values, "reason": reason})

    name = _norm(values.get("project_name"))
    if not name:
        return reject("project_name", "project name (项目名称) is empty")
    stage = sheet_stage
    if "stage" in values:
        stage = resolve_stage(_norm(values["stage"])) if _norm(values["stage"]) else sheet_stage
        if stage is None:
            return reject("stage", f"unknown stage (阶段) {values['stage']!r}")
    if stage is None:
        return reject("stage", f"stage unknown: sheet {sheet!r} is not a stage and there is no 阶段 column")
    try:
        amount = _parse_amount(values.get("investment")) * factor
    except (InvalidOperation, ValueError):
        return reject("investment", f"total investment (总投资) is not a number: {values.get('investment')!r}")
    if amount <= 0:
        return reject("investment", f"total investment (总投资) must be positive, got {amount}")
    out.rows.append({
        "sheet": sheet, "row_number": row_number, "stage_code": stage,
        "project_code": _norm(values.get("project_code")) or None,
        "project_name": name,
        "county": _norm(values.get("county")) or None,
        "sector_label": _norm(values.get("sector_label")) or None,
        "investment_yi": amount.quantize(Decimal("0.0001")),
    })


def _read_table(rows, sheet: str | None, sheet_stage: str | None, out: ReadResult) -> bool:
    """Type one table (sheet or CSV). Returns False when no header row was found."""
    header = None
    for row_number, cells in enumerate(rows, start=1):
        cells = list(cells)
        if header is None:
            if _is_header(cells):
                header = _map_header(cells)
            continue
        if all(_norm(c) == "" for c in cells):
            continue  # blank spacer rows are not data
        _type_row(cells, header, sheet_stage, sheet, row_number, out)
    return header is not None


def read_xlsx(data: bytes) -> ReadResult:
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise SubmissionFormatError(f"not a readable xlsx workbook: {exc}") from exc
    out = ReadResult()
    found_header = False
    try:
        for ws in wb.worksheets:
            stage = resolve_stage(_norm(ws.title))
            found_header |= _read_table(ws.iter_rows(values_only=True), ws.title, stage, out)
    finally:
        wb.close()
    if not found_header:
        raise SubmissionFormatError("no header row with 项目名称 and 总投资 found in any sheet")
    return out


def decode_text(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SubmissionFormatError("text is neither UTF-8 nor GB18030")


def read_csv(data: bytes) -> ReadResult:
    out = ReadResult()
    if not _read_table(csv.reader(io.StringIO(decode_text(data), newline="")), None, None, out):
        raise SubmissionFormatError("no header row with 项目名称 and 总投资 found")
    return out


def read_submission(data: bytes, suffix: str) -> ReadResult:
    readers = {".xlsx": read_xlsx, ".csv": read_csv}
    if suffix.lower() not in readers:
        raise SubmissionFormatError(f"unsupported file type {suffix!r}")
    return readers[suffix.lower()](data)
