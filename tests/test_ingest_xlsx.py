"""calamine reads every workbook exactly as openpyxl did: the same typed rows, quarantined rows
(with their raw values and reasons), findings and skipped rows, on the corpus's workbooks, the
bundled sample's, a scale sample's and workbooks with dates, formulas, text numbers and odd sheets."""
from __future__ import annotations

import datetime
import io

import pytest
from openpyxl import Workbook

from sanpi.ingest.submissions import SubmissionFormatError, read_xlsx
from sanpi.settings import SAMPLE_DIR
from tests.submission_corpus import CASES, H, TITLE, row


def _both(data: bytes):
    results = []
    for engine in ("openpyxl", "calamine"):
        try:
            r = read_xlsx(data, engine)
            results.append((r.rows, r.quarantined, r.findings, r.rows_skipped))
        except SubmissionFormatError as exc:
            results.append(("error", str(exc)))
    return results


def _workbook(build) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    build(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _odd_cells(wb):
    ws = wb.create_sheet("签约一批")
    ws.append(TITLE)
    ws.append(H + ["填报日期", "备注"])
    ws.append(row(1, 2.5) + [datetime.datetime(2024, 7, 1), True])
    ws.append(row(2, "3.0") + [datetime.date(2024, 7, 2), 1.0])
    ws.append(row(3, 1e20) + [datetime.datetime(2024, 7, 3, 9, 30), "  文本  "])
    ws.append(row(4, "=1+1") + [None, 123456789012345678])
    ws.append(row(5, 0.1 + 0.2) + ["#N/A", -0.0])
    # Odd values where the reader keeps them: amounts (reasons quote them), codes and names.
    ws.append(row(6, datetime.datetime(2024, 7, 1)))
    ws.append(row(7, datetime.date(2024, 7, 2)))
    ws.append(row(8, True))
    ws.append(row(9, 5, code=12345))
    ws.append(row(10, 1.0, name=12.0))
    ws.append(row(11, 7, code=1.5e16))
    ws.append(row(12, "=A1"))
    ws.append([None, None, "合计", None, None, "=SUM(F3:F7)"])
    ws.column_dimensions["J"].width = 30   # a styled empty column
    ws["L20"].number_format = "0.00"        # a styled empty cell far below
    hidden = wb.create_sheet("开工一批(隐藏)")
    hidden.sheet_state = "hidden"
    hidden.append(H)
    hidden.append(row(9, 4))


EXTRA = {"dates, formulas, text numbers, styled empty cells, hidden sheet": _odd_cells}


@pytest.mark.parametrize("case", [c for c in CASES if c.file_name.endswith(".xlsx")], ids=lambda c: c.name)
def test_corpus_workbooks_read_the_same(case):
    openpyxl, calamine = _both(case.build())
    assert calamine == openpyxl


@pytest.mark.parametrize("name", list(EXTRA))
def test_odd_workbooks_read_the_same(name):
    openpyxl, calamine = _both(_workbook(EXTRA[name]))
    assert calamine == openpyxl


def test_sample_workbooks_read_the_same():
    paths = sorted((SAMPLE_DIR / "submissions").glob("*/*.xlsx"))
    assert len(paths) > 100
    for path in paths:
        openpyxl, calamine = _both(path.read_bytes())
        assert calamine == openpyxl, path


def test_scale_sample_workbooks_read_the_same(tmp_path):
    from sanpi.sample.scale import generate_scaled

    generate_scaled(tmp_path, 20000)
    paths = sorted((tmp_path / "submissions").glob("*/*.xlsx"))
    assert paths
    for path in paths:
        openpyxl, calamine = _both(path.read_bytes())
        assert calamine == openpyxl, path
