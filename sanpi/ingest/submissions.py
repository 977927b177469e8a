"""Read a city submission (xlsx or CSV bytes) into typed project rows, quarantined rows and findings.

Pure functions over bytes: no database, no file system.
"""
from __future__ import annotations

import codecs
import csv
import datetime
import io

from sanpi.ingest.cells import stage_in
from sanpi.ingest.tables import ReadResult, read_table

__all__ = ["ReadResult", "SubmissionFormatError", "read_csv", "read_submission", "read_xlsx"]


class SubmissionFormatError(ValueError):
    """The file as a whole cannot be read (no header row, unreadable bytes)."""


def _fill_merged(rows: list[list], ranges) -> list[list]:
    """Merged ranges ((first row, first col), (last row, last col)), 0-based, filled from their
    top-left cell, as a reader sees them."""
    for (r0, c0), (r1, c1) in ranges:
        value = rows[r0][c0] if r0 < len(rows) and c0 < len(rows[r0]) else None
        for r in range(r0, min(r1, len(rows) - 1) + 1):
            row = rows[r]
            row.extend([None] * (c1 + 1 - len(row)))
            for c in range(c0, c1 + 1):
                row[c] = value
    return rows


def _sheet_rows(ws) -> list[list]:
    """openpyxl: cell values with merged ranges filled from their top-left cell."""
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    return _fill_merged(rows, [((m.min_row - 1, m.min_col - 1), (m.max_row - 1, m.max_col - 1))
                               for m in ws.merged_cells.ranges])


def _cell(value):
    """A calamine cell as openpyxl gives it: an empty cell is None, a whole number an int (Excel
    writes whole numbers below 10^15 without a decimal point, which openpyxl reads as int), a date a
    datetime at midnight."""
    if value == "":
        return None
    if type(value) is float and value.is_integer() and abs(value) < 1e15:
        return int(value)
    if type(value) is datetime.date:
        return datetime.datetime(value.year, value.month, value.day)
    return value


def _calamine_sheets(data: bytes):
    from python_calamine import CalamineWorkbook, SheetTypeEnum

    wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    for meta in wb.sheets_metadata:
        if meta.typ != SheetTypeEnum.WorkSheet:
            continue  # chart sheets have no cells (openpyxl's worksheets leave them out too)
        sheet = wb.get_sheet_by_name(meta.name)
        rows = [[_cell(v) for v in row] for row in sheet.to_python(skip_empty_area=False)]
        yield meta.name, _fill_merged(rows, sheet.merged_cell_ranges or [])


def _openpyxl_sheets(data: bytes):
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise SubmissionFormatError(f"not a readable xlsx workbook ({type(exc).__name__}: {exc})") from exc
    return [(ws.title, _sheet_rows(ws)) for ws in wb.worksheets]


def read_xlsx(data: bytes, engine: str = "calamine") -> ReadResult:
    """calamine (Rust) reads the cells, several times faster than openpyxl and the same values
    (tests/test_ingest_xlsx.py compares them); a workbook calamine cannot open goes to openpyxl, whose
    error message is what the quarantine has always said."""
    sheets = None
    if engine == "calamine":
        try:
            sheets = list(_calamine_sheets(data))
        except Exception:  # damaged or unusual: openpyxl decides (and words the error)
            sheets = None
    if sheets is None:
        sheets = _openpyxl_sheets(data)
    out = ReadResult()
    seen: dict = {}
    found = [read_table(rows, title, stage_in(title), out, seen) for title, rows in sheets]
    if not any(found):
        raise SubmissionFormatError("no header row with 项目名称 and 总投资 found in any sheet")
    return out


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030 (which covers GBK and GB2312)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SubmissionFormatError("text is neither UTF-8, UTF-16 nor GB18030")


def _dialect(text: str):
    try:
        return csv.Sniffer().sniff(text[:4096], delimiters=",\t;|")
    except csv.Error:
        return csv.excel


def read_csv(data: bytes) -> ReadResult:
    text = decode_text(data)
    out = ReadResult()
    if not read_table(csv.reader(io.StringIO(text, newline=""), _dialect(text)), None, None, out, {}):
        raise SubmissionFormatError("no header row with 项目名称 and 总投资 found")
    return out


def read_submission(data: bytes, suffix: str) -> ReadResult:
    suffix = suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(data)
    if suffix in (".csv", ".txt"):
        return read_csv(data)
    if suffix == ".xls":
        raise SubmissionFormatError("Excel 97-2003 .xls files are not read: save the file as .xlsx")
    raise SubmissionFormatError(f"unsupported file type {suffix!r}")
