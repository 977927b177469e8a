"""Submission and bulletin readers and the loader, on small files written by real libraries."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from openpyxl import Workbook

from sanpi.ingest.inbox import discover
from sanpi.ingest.loader import load_file
from sanpi.ingest.submissions import SubmissionFormatError, read_csv, read_xlsx
from sanpi.raw_schema import ensure_raw_schema

HEADER = ["序号", "项目代码", "项目名称", "所在县区", "所属行业", "总投资（亿元）"]


def xlsx_bytes(sheets: dict[str, list[list]], title: bool = True) -> bytes:
    import io

    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        if title:
            ws.append([f"测试清单 {name}"])
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_xlsx_reads_every_stage_sheet_below_a_title_row():
    data = xlsx_bytes({
        "签约一批": [HEADER, [1, "410100-R13-0001", "甲项目", "金水区", "先进制造业", 12.5]],
        "开工一批": [HEADER, [1, "410100-R12-0002", "乙项目", "中牟县", "现代服务业", "1,200.25"]],
        "投产一批": [HEADER],
    })
    result = read_xlsx(data)
    assert [(r["stage_code"], r["project_name"], r["investment_yi"], r["row_number"]) for r in result.rows] == [
        ("signed", "甲项目", Decimal("12.5000"), 3), ("started", "乙项目", Decimal("1200.2500"), 3)]
    assert result.quarantined == []


def test_bad_rows_are_quarantined_with_sheet_row_column_and_reason():
    data = xlsx_bytes({"开工一批": [
        HEADER,
        [1, "c1", "", "金水区", "先进制造业", 3],
        [2, "c2", "丙项目", "金水区", "先进制造业", "三亿"],
        [3, "c3", "丁项目", "金水区", "先进制造业", -1],
        [4, "c4", "戊项目", "金水区", "先进制造业", 2],
    ]})
    result = read_xlsx(data)
    assert result.rows_read == 4 and len(result.rows) == 1
    found = [(q["sheet"], q["row_number"], q["column_name"]) for q in result.quarantined]
    assert found == [("开工一批", 3, "project_name"), ("开工一批", 4, "investment"), ("开工一批", 5, "investment")]
    assert "not a number" in result.quarantined[1]["reason"] and "三亿" in result.quarantined[1]["raw_values"]


def test_csv_with_stage_column_in_gb18030_and_wan_yuan_header():
    text = "序号,项目名称,所在县区,所属行业,阶段,总投资(万元)\n1,己项目,洛龙区,社会民生,投产一批,25000\n2,庚项目,洛龙区,社会民生,未知阶段,1\n"
    result = read_csv(text.encode("gb18030"))
    assert [(r["stage_code"], r["investment_yi"]) for r in result.rows] == [("production", Decimal("2.5000"))]
    assert result.quarantined[0]["column_name"] == "stage"


def test_file_without_header_is_a_format_error():
    with pytest.raises(SubmissionFormatError, match="no header row"):
        read_csv("a,b,c\n1,2,3\n".encode())


def test_text_bulletin_loads_with_provenance_and_warnings(tmp_path):
    root = tmp_path / "inbox"
    (root / "bulletins").mkdir(parents=True)
    text = ("全省第九十九期“三个一批”项目建设活动今天举行。本期集中签约项目12个,总投资34.5亿元。"
            "开工项目个,总投资亿元。")  # our own words; the second stage lost its digits
    (root / "bulletins" / "round_99.txt").write_text(text, encoding="utf-8")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_raw_schema(con)
    [f] = discover(root)
    outcome = load_file(con, f, str(root), tmp_path / "store")
    assert outcome.status == "loaded" and outcome.rows_loaded == 2
    figures = con.sql("""SELECT stage, measure, value, value_decimals, source_text, char_start, char_end
                         FROM raw.bulletin_figures ORDER BY measure""").fetchall()
    assert [(s, m, v, d) for s, m, v, d, *_ in figures] == [
        ("signed", "investment_yi", Decimal("34.5"), 1), ("signed", "projects", Decimal(12), 0)]
    source, start, end = figures[0][4:]
    assert text[start:end] == source and "34.5亿元" in source
    assert con.sql("SELECT round_no FROM raw.bulletins").fetchall() == [(99,)]
    warnings = con.sql("SELECT sentence FROM raw.bulletin_warnings").fetchall()
    assert warnings and all("开工项目个" in w for (w,) in warnings)


def _inbox(root: Path) -> Path:
    (root / "submissions" / "7").mkdir(parents=True)
    (root / "bulletins").mkdir()
    (root / "submissions" / "7" / "济源.xlsx").write_bytes(xlsx_bytes({"签约一批": [
        HEADER, [1, "419001-R07-0001", "甲", "济源市", "先进制造业", 1.5], [2, "x", "", "济源市", "其他", 1]]}))
    (root / "submissions" / "7" / "火星市.csv").write_text(
        "序号,项目名称,阶段,总投资(亿元)\n1,乙,开工一批,2\n", encoding="utf-8-sig")
    return root


def test_loader_accounts_for_every_row_and_skips_known_bytes(tmp_path):
    root = _inbox(tmp_path / "inbox")
    files = {f.rel_path: f for f in discover(root)}
    assert files["submissions/7/济源.xlsx"].city_code == "419001"
    assert files["submissions/7/火星市.csv"].city_code is None
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_raw_schema(con)
    outcomes = {p: load_file(con, f, str(root), tmp_path / "store") for p, f in files.items()}
    assert {p: (o.rows_read, o.rows_loaded, o.rows_quarantined) for p, o in outcomes.items()} == {
        "submissions/7/济源.xlsx": (2, 1, 1), "submissions/7/火星市.csv": (1, 0, 1)}
    manifest = con.sql("SELECT rows_read, rows_loaded + rows_quarantined FROM raw.load_manifest").fetchall()
    assert all(read == accounted for read, accounted in manifest)
    reasons = con.sql("SELECT reason FROM raw.quarantine WHERE file_path LIKE '%火星市%'").fetchall()
    assert "unknown reporting unit '火星市'" in reasons[0][0]
    # Raw bytes kept, content-addressed.
    stored = con.sql("SELECT stored_path FROM raw.load_manifest").fetchall()
    assert all(Path(p).read_bytes() == files[f].path.read_bytes()
               for (p,), f in zip(stored, files))
    again = [load_file(con, f, str(root), tmp_path / "store").status for f in files.values()]
    assert again == ["unchanged", "unchanged"]
    assert con.sql("SELECT count(*) FROM raw.submission_rows").fetchall() == [(1,)]


def _loaded_inbox(tmp_path):
    """The test inbox, every file loaded one per transaction: its folder and the warehouse connection."""
    root = _inbox(tmp_path / "inbox")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_raw_schema(con)
    for f in discover(root):
        load_file(con, f, str(root), tmp_path / "store")
    return root, con


def test_new_version_of_a_submission_supersedes_the_old_one(tmp_path):
    root, con = _loaded_inbox(tmp_path)
    path = root / "submissions" / "7" / "济源.xlsx"
    path.write_bytes(xlsx_bytes({"签约一批": [HEADER, [1, "419001-R07-0001", "甲", "济源市", "先进制造业", 2.5]]}))
    outcome = load_file(con, next(f for f in discover(root) if f.path == path), str(root), tmp_path / "store")
    assert outcome.status == "revised"
    current = con.sql("""SELECT r.investment_yi FROM raw.submission_rows r
                         JOIN raw.load_manifest m ON m.sha256 = r.file_sha256 AND m.superseded_at IS NULL
                         WHERE r.city_code = '419001'""").fetchall()
    assert current == [(Decimal("2.5000"),)]


def test_a_renamed_submission_with_the_same_bytes_replaces_the_old_name(tmp_path):
    """A unit's list for a round renamed in the inbox (same bytes, new file name) is the same document:
    the new name becomes the one current version, not a second copy of its rows."""
    root, con = _loaded_inbox(tmp_path)
    old = root / "submissions" / "7" / "济源.xlsx"
    new = old.with_name("济源示范区第7期三个一批项目清单.xlsx")
    old.rename(new)
    outcome = load_file(con, next(f for f in discover(root) if f.path == new), str(root), tmp_path / "store")
    assert outcome.status == "revised"
    assert con.sql("""SELECT file_path FROM raw.load_manifest
                      WHERE city_code = '419001' AND superseded_at IS NULL""").fetchall() == \
        [("submissions/7/济源示范区第7期三个一批项目清单.xlsx",)]


def test_a_crash_mid_file_leaves_nothing_of_it(tmp_path, monkeypatch):
    import sanpi.ingest.loader as loader

    root = _inbox(tmp_path / "inbox")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_raw_schema(con)
    target = next(f for f in discover(root) if f.city_code == "419001")

    def crash(*args, **kwargs):
        raise RuntimeError("power cut")

    # Rows and quarantine are written by then; the crash comes before the manifest entry.
    monkeypatch.setattr(loader, "_insert_findings", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        load_file(con, target, str(root), tmp_path / "store")
    for table in ("submission_rows", "quarantine", "load_manifest", "submission_findings"):
        assert con.sql(f"SELECT count(*) FROM raw.{table}").fetchall() == [(0,)], table
    monkeypatch.undo()
    assert load_file(con, target, str(root), tmp_path / "store").status == "loaded"


def test_same_project_code_under_two_units_is_reported(tmp_path):
    root = tmp_path / "inbox"
    (root / "submissions" / "9").mkdir(parents=True)
    for unit in ("郑州市", "开封市"):
        (root / "submissions" / "9" / f"{unit}.csv").write_text(
            "项目代码,项目名称,阶段,总投资(亿元)\nSAME-1,甲,签约一批,1\n", encoding="utf-8")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_raw_schema(con)
    for f in discover(root):
        load_file(con, f, str(root), tmp_path / "store")
    findings = con.sql("SELECT city_code, finding, detail FROM raw.submission_findings").fetchall()
    assert len(findings) == 1 and findings[0][1] == "code_in_two_units" and "SAME-1" in findings[0][2]


def test_changing_a_file_back_makes_the_earlier_version_current(tmp_path):
    root = _inbox(tmp_path / "inbox")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_raw_schema(con)
    path = root / "submissions" / "7" / "济源.xlsx"
    original = path.read_bytes()
    versions = [original, xlsx_bytes({"签约一批": [HEADER, [1, "c", "甲", "济源市", "其他", 9]]}), original]
    statuses = []
    for data in versions:
        path.write_bytes(data)
        statuses.append(load_file(con, next(f for f in discover(root) if f.path == path), str(root),
                                  tmp_path / "store").status)
    assert statuses == ["loaded", "revised", "revised"]
    current = con.sql("""SELECT sha256 FROM raw.load_manifest
                         WHERE city_code = '419001' AND superseded_at IS NULL""").fetchall()
    import hashlib
    assert current == [(hashlib.sha256(original).hexdigest(),)]


@pytest.mark.parametrize("value, text, decimals", [
    (18000, "新增项目1420个、总投资1.8万亿元", -3),   # ±500 亿元: 1.8 is rounded to 0.1 万亿
    (5782.7, "总投资5782.7亿元", 1),
    (4364, "总投资4364亿元", 0),
    (2.5, "总投资25000万元", 4),
    (13.55, "a total investment of 13.55", 2),      # no unit in the sentence: the value's own digits
])
def test_published_precision_of_an_amount(value, text, decimals):
    from sanpi.ingest.loader import _decimals

    assert _decimals(value, "investment_yi", text) == decimals
