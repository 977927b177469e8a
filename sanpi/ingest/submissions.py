"""Read a city submission (xlsx or CSV bytes) into typed project rows, quarantined rows and findings.

Pure functions over bytes: no database, no file system.
"""
from __future__ import annotations

import codecs
import csv
import io

from openpyxl import load_workbook

from sanpi.ingest.cells import stage_in
from sanpi.ingest.tables import ReadResult, read_table

__all__ = ["ReadResult", "SubmissionFormatError", "read_csv", "read_submission", "read_xlsx"]


class SubmissionFormatError(ValueError):
    """The file as a whole cannot be read (no header row, unreadable bytes)."""


def _sheet_rows(ws) -> list[list]:
    """Cell values with merged ranges filled from their top-left cell, as a reader sees them."""
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    for merged in ws.merged_cells.ranges:
        value = rows[merged.min_row - 1][merged.min_col - 1] if merged.min_row <= len(rows) else None
        for r in range(merged.min_row, min(merged.max_row, len(rows)) + 1):
            row = rows[r - 1]
            row.extend([None] * (merged.max_col - len(row)))
            for c in range(merged.min_col, merged.max_col + 1):
                row[c - 1] = value
    return rows


def read_xlsx(data: bytes) -> ReadResult:
    try:
        wb = load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise SubmissionFormatError(f"not a readable xlsx workbook ({type(exc).__name__}: {exc})") from exc
    out = ReadResult()
    seen: dict = {}
    found = [read_table(_sheet_rows(ws), ws.title, stage_in(ws.title), out, seen) for ws in wb.worksheets]
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
