"""The DuckDB-native CSV path loads exactly what the Python reader loads: same rows, values, quarantine
reasons, findings and manifest counts, on every CSV of the corpus, the bundled sample's CSVs, a scale
sample and a set of awkward CSVs written to probe where the two readers could part."""
from __future__ import annotations

import codecs
import shutil
import unicodedata
from pathlib import Path

import duckdb
import pytest

from sanpi.ingest import fast_csv, loader
from sanpi.ingest.inbox import discover
from sanpi.raw_schema import ensure_raw_schema
from sanpi.settings import SAMPLE_DIR
from tests.submission_corpus import CASES

HEADER = "序号,项目代码,项目名称,所在县区,所属行业,阶段,总投资(亿元)"

# name -> (csv text, encoding, takes the fast path? None: either)
AWKWARD = {
    "spaces and full-width text": (f"{HEADER}\n1, A-1 ,甲　项目 ,金水区,其他,签约一批, １２．５ \n2,Ａ-2,乙,x,y,开工,3\n",
                                   "utf-8-sig", True),
    "duplicates by code and by name": (f"{HEADER}\n1,X,甲,a,b,签约一批,1\n2,X,乙,a,b,签约一批,2\n3,,丙,a,b,签约,1\n"
                                       f"4,,丙,a,b,签约一批,2\n5,X,丁,a,b,开工一批,1\n6,X,戊,a,b,签约一批,9\n",
                                       "utf-8", True),
    "duplicates after normalisation": (f"{HEADER}\n1,X 1,甲,a,b,签约一批,1\n2,Ｘ1,乙,a,b,签约,2\n3,,丙 ,a,b,开工,1\n"
                                       f"4,,丙,a,b,开工一批,2\n", "utf-8", True),
    "rejected rows": (f"{HEADER}\n1,a,,x,y,签约一批,1\n2,b,乙,x,y,储备,1\n3,c,丙,x,y,,1\n4,d,丁,x,y,开工,待定\n"
                      f"5,e,戊,x,y,开工,-1\n6,f,己,x,y,开工,0\n7,g,庚,x,y,开工,25000\n8,h,辛,x,y,开工,0.001\n"
                      f"9,i,壬,x,y,签约开工,1\n10,j,癸,x,y,投产,\n", "utf-8", True),
    "quoted fields and doubled quotes": (f'{HEADER}\n1,"a,1","甲""乙",x,y,签约一批,"1,000.5"\n2,b,"丙",x,y,开工,2\n',
                                         "utf-8", True),
    "万元 with half-even rounding": ("序号,项目名称,阶段,总投资(万元)\n1,甲,签约,12344.5\n2,乙,签约,12345.5\n"
                                     "3,丙,签约,\"30,000\"\n4,丁,开工,99.99\n5,戊,开工,123.456789\n", "utf-8", True),
    "亿元 amounts at the edges": (f"{HEADER}\n1,a,甲,x,y,签约一批,1.00005\n2,b,乙,x,y,签约一批,1.00015\n3,c,丙,x,y,开工一批,0.0100\n"
                               f"4,d,丁,x,y,开工一批,3000.0000\n5,e,戊,x,y,开工一批,3000.00001\n6,f,己,x,y,投产一批,0.00999\n"
                               f"7,g,庚,x,y,投产一批,12345678901234\n8,h,辛,x,y,投产一批,000012.5\n9,i,壬,x,y,投产,\"2,999.9999\"\n"
                               f"10,l,丑,x,y,签约,0.01\n", "utf-8", True),
    "amounts without digits on one side": (f"{HEADER}\n1,a,甲,x,y,签约,.5\n2,b,乙,x,y,签约,5.\n", "utf-8", False),
    "元 and extra columns": ("项目名称,备注,总投资(元),阶段,年度计划投资(亿元),建设单位\n甲,说明,150000000,开工,1,某公司\n"
                             "乙,,20000000,投产,,\n", "utf-8", True),
    "CRLF line ends": (f"{HEADER}\r\n1,a,甲,x,y,签约一批,1\r\n2,b,乙,x,y,开工一批,2\r\n", "utf-8", True),
    "no trailing newline": (f"{HEADER}\n1,a,甲,x,y,签约一批,1", "utf-8", True),
    "all-empty row": (f"{HEADER}\n1,a,甲,x,y,签约一批,1\n,,,,,,\n2,b,乙,x,y,开工一批,2\n", "utf-8", True),
    "unit suffix in a cell (Python accepts it)": (f"{HEADER}\n1,a,甲,x,y,签约一批,3000万元\n", "utf-8", False),
    "amount with a sign": (f"{HEADER}\n1,a,甲,x,y,签约一批,+1.5\n", "utf-8", False),
    "quoted line break": (f'{HEADER}\n1,a,"甲\n乙",x,y,签约一批,1\n', "utf-8", False),
    "blank line": (f"{HEADER}\n1,a,甲,x,y,签约一批,1\n\n2,b,乙,x,y,开工一批,2\n", "utf-8", False),
    "NFKC-changed characters": (f"{HEADER}\n1,a,厂房5000㎡项目Ⅱ期,x,y,签约一批,1\n", "utf-8", False),
    "non-breaking space": (f"{HEADER}\n1,a,甲\u00a0项目,x,y,签约一批,1\n", "utf-8", False),
    "section and note rows": (f"{HEADER}\n一、签约一批,,,,,,\n1,a,甲,x,y,,1\n注：单位亿元,,,,,,\n", "utf-8", False),
    "合计 row": (f"{HEADER}\n1,a,甲,x,y,签约一批,1\n合计,,,,,,1\n", "utf-8", False),
    "ragged rows": (f"{HEADER}\n1,a,甲,x,y,签约一批,1,extra\n", "utf-8", False),
    "header below a title": (f"项目清单\n{HEADER}\n1,a,甲,x,y,签约一批,1\n", "utf-8", False),
    "header without a unit": ("项目名称,阶段,总投资\n甲,签约,1\n", "utf-8", False),
    "quote inside an unquoted field": (f'{HEADER}\n1,a"b,甲,x,y,签约一批,1\n', "utf-8", None),
    "text after a closing quote": (f'{HEADER}\n1,"a"b,甲,x,y,签约一批,1\n', "utf-8", None),
    "GB18030": (f"{HEADER}\n1,a,甲,x,y,签约一批,1\n", "gb18030", False),
}


_PREPARE = fast_csv.prepare


def _inbox(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def _load(inbox: Path, warehouse: Path, fast: bool, monkeypatch, batched: bool = False) -> list[str]:
    """Load the inbox with or without the fast path, one file per transaction or in batches (where
    the fast path reads the files of one shape with one read_csv); the files the fast path loaded."""
    taken: list[str] = []

    def spy(con, sources, shapes=None, pool=None):
        result = _PREPARE(con, sources, shapes, pool)
        taken.extend(s.path for s, prepared in zip(sources, result) if prepared is not None)
        return result

    monkeypatch.setattr(loader, "FAST_CSV", fast)
    monkeypatch.setattr(fast_csv, "prepare", spy)
    warehouse.parent.mkdir(parents=True)
    with duckdb.connect(str(warehouse)) as con:
        ensure_raw_schema(con)
        if batched:
            # Batches of ~2 MB: several at scale, each read ahead while the one before is written.
            loader.load_files(con, discover(inbox), "inbox", warehouse.parent / "store", max_bytes=2 * 1024 * 1024)
        else:
            for f in discover(inbox):
                loader.load_file(con, f, "inbox", warehouse.parent / "store")
    return taken


TABLES = {
    "raw.load_manifest": "file_path, sha256, kind, round_no, city_code, rows_read, rows_loaded, rows_quarantined, "
                         "rows_skipped, superseded_at IS NULL",
    "raw.submission_rows": "*",
    "raw.quarantine": "file_path, file_sha256, sheet, row_number, column_name, raw_values, reason",
    "raw.submission_findings": "*",
}


def _tables(warehouse: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {t: con.execute(f"SELECT {cols} FROM {t} ORDER BY ALL").fetchall() for t, cols in TABLES.items()}


def _compare(inbox: Path, tmp_path: Path, monkeypatch, batched: bool = False) -> list[str]:
    _load(inbox, tmp_path / "python" / "w.duckdb", False, monkeypatch)
    taken = _load(inbox, tmp_path / "fast" / "w.duckdb", True, monkeypatch, batched)
    python, fast = _tables(tmp_path / "python" / "w.duckdb"), _tables(tmp_path / "fast" / "w.duckdb")
    for table in TABLES:
        assert fast[table] == python[table], table
    return taken


def test_corpus_csvs_load_the_same(tmp_path, monkeypatch):
    csv_cases = [c for c in CASES if c.file_name.endswith(".csv")]
    # One inbox per case: several cases share a file name (and so a round and unit).
    taken_all = []
    for i, case in enumerate(csv_cases):
        inbox = _inbox(tmp_path / f"case{i}" / "inbox", {f"submissions/{case.folder}/{case.file_name}": case.build()})
        taken_all += [(case.name, t) for t in _compare(inbox, tmp_path / f"case{i}", monkeypatch)]
    # The regular ones took the fast path (the comparison above is not between two Python runs).
    assert {name for name, _ in taken_all} >= {"CSV, UTF-8 with BOM", "CSV, UTF-8 without BOM",
                                                "CSV with semicolons", "CSV, quoted thousands separators in 万元",
                                                "unit named by an alias"}


@pytest.mark.parametrize("name", list(AWKWARD))
def test_awkward_csvs_load_the_same(name, tmp_path, monkeypatch):
    text, encoding, regular = AWKWARD[name]
    inbox = _inbox(tmp_path / "inbox", {"submissions/13/郑州市.csv": text.encode(encoding)})
    taken = _compare(inbox, tmp_path, monkeypatch)
    if regular is not None:  # None: either path, as long as the tables are the same
        assert bool(taken) == regular


def test_sample_csvs_load_the_same(tmp_path, monkeypatch):
    """The bundled sample's CSVs (plain, 万元 with separators, GB18030, corrections superseding)."""
    inbox = tmp_path / "inbox"
    for path in (SAMPLE_DIR / "submissions").glob("*/*.csv"):
        target = inbox / path.relative_to(SAMPLE_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    taken = _compare(inbox, tmp_path, monkeypatch)
    assert len(taken) >= 50


def test_scale_sample_loads_the_same(tmp_path, monkeypatch):
    from sanpi.sample.scale import generate_scaled

    inbox = tmp_path / "inbox"
    generate_scaled(inbox, 20000)
    shutil.rmtree(inbox / "bulletins", ignore_errors=True)
    for path in (inbox / "submissions").glob("*/*.xlsx"):
        path.unlink()
    taken = _compare(inbox, tmp_path, monkeypatch)
    assert len(taken) == len(list((inbox / "submissions").glob("*/*.csv")))


def test_awkward_csvs_in_one_batch_load_the_same(tmp_path, monkeypatch):
    """All the awkward CSVs in one batch: those of one shape share a read_csv, and each that is not
    regular (or breaks read_csv) goes to the Python reader alone; the rest load as Python loads them."""
    from tests.test_ingest_batches import BREAKS_READ_CSV

    files, regular = {}, set()
    for i, (name, (text, encoding, fast)) in enumerate(AWKWARD.items(), start=1):
        for unit in ("郑州市", "开封市"):  # two of each: every shape has company
            rel = f"submissions/{i}/{unit}.csv"
            files[rel] = text.encode(encoding)
            if fast:
                regular.add(rel)
    files["submissions/90/郑州市.csv"] = BREAKS_READ_CSV
    files["submissions/90/开封市.csv"] = AWKWARD["CRLF line ends"][0].replace("\r\n", "\n").encode()
    regular.add("submissions/90/开封市.csv")
    inbox = _inbox(tmp_path / "inbox", files)
    taken = {Path(t).name for t in _compare(inbox, tmp_path, monkeypatch, batched=True)}
    stored = {rel: __import__("hashlib").sha256(data).hexdigest() for rel, data in files.items()}
    assert {rel for rel in files if any(name.startswith(stored[rel]) for name in taken)} >= regular
    assert not any(name.startswith(stored["submissions/90/郑州市.csv"]) for name in taken)


def test_scale_sample_in_batches_loads_the_same(tmp_path, monkeypatch):
    """Files of thousands of rows read together (both cores at work): row numbers still count each
    file's own lines, codes shared across units are found within a batch as across batches."""
    from sanpi.sample.scale import generate_scaled

    inbox = tmp_path / "inbox"
    generate_scaled(inbox, 150000)
    shutil.rmtree(inbox / "bulletins", ignore_errors=True)
    for path in (inbox / "submissions").glob("*/*.xlsx"):
        path.unlink()
    csvs = sorted((inbox / "submissions").glob("*/*.csv"))
    # A project of one unit submitted by another too (code_in_two_units, inside one batch), a
    # duplicate and a rejected row in files that are otherwise regular.
    for path, extra in ((csvs[1], "9999,{code},他市项目,县,业,签约一批,2\n"), (csvs[2], "9998,{code},重复,县,业,签约一批,1\n"
                         "9997,X-DUP,甲,县,业,开工一批,1\n9996,X-DUP,乙,县,业,开工一批,2\n9995,X-BAD,丙,县,业,开工,待定\n")):
        code = csvs[0].read_text(encoding="utf-8-sig").splitlines()[1].split(",")[1]
        path.write_text(path.read_text(encoding="utf-8-sig") + extra.format(code=code), encoding="utf-8-sig")
    taken = _compare(inbox, tmp_path, monkeypatch, batched=True)
    assert len(taken) == len(csvs)
    with duckdb.connect(str(tmp_path / "fast" / "w.duckdb"), read_only=True) as con:
        findings = dict(con.execute("""SELECT finding, count(*) FROM raw.submission_findings GROUP BY 1""").fetchall())
    assert findings.get("code_in_two_units", 0) >= 1 and findings.get("duplicate_project", 0) >= 1


def test_stable_characters_are_what_nfkc_leaves_alone():
    """The SQL normalisation (translate full-width ASCII, drop ASCII whitespace) equals cells.norm()
    for every character the fast path lets through."""
    from sanpi.ingest.cells import norm

    for ch in fast_csv.STABLE_PUNCTUATION + "\u3400\u4dbf\u4e00\u9fff计合" + "".join(map(chr, range(0x21, 0x7f))):
        assert unicodedata.normalize("NFKC", ch) == ch and not unicodedata.combining(ch), ch
        assert unicodedata.normalize("NFKC", "a" + ch + "甲") == "a" + ch + "甲", ch
    for wide, narrow in zip(fast_csv.FULL_WIDTH, fast_csv.HALF_WIDTH):
        assert unicodedata.normalize("NFKC", wide) == narrow
    for ch in fast_csv.ASCII_WHITESPACE:
        assert norm("a" + ch + "b") == "ab"
    for ch in (chr(c) for c in range(0x80)):
        assert (norm("a" + ch + "b") == "ab") == (ch in fast_csv.ASCII_WHITESPACE), repr(ch)


def test_totals_possible_is_whether_the_bytes_hold_计():
    texts = [text.encode(encoding) for text, encoding, _ in AWKWARD.values()]
    texts += [f"{HEADER}\n1,a,甲,x,y,签约一批,1\n2,b,小计,x,y,开工,2\n".encode(),
              f"{HEADER}\n1,a,计,x,y,签约一批,1\n".encode("utf-8-sig"), f"{HEADER}\n1,a,讦,x,y,签约,1\n".encode()]
    shapes = [(data, fast_csv.shape(data)) for data in texts]
    checked = [(shape.totals_possible, "计".encode() in data) for data, shape in shapes if shape is not None]
    assert len(checked) >= 10 and {got for got, _ in checked} == {True, False}
    assert all(got == expected for got, expected in checked)


@pytest.mark.parametrize("data", [
    b"", b"\n", "序号,项目\n1,甲\n".encode(), codecs.BOM_UTF8 + "序号,项目\n1,甲\n".encode(),
    codecs.BOM_UTF8, codecs.BOM_UTF8 + codecs.BOM_UTF8 + b"a\n", "序号,项目\r\n1,甲 乙\r\n".encode(),
    "全角１２３\n".encode(), b"a\x00b\n", b"a\tb\n\n", "\u3000x\n".encode(), "ｘ".encode() + b"\n" * 3,
    "é\n".encode(), b"no line end",
], ids=lambda d: repr(d[:12]))
def test_one_pass_finds_what_two_passes_found(data):
    """Plainness and line ends from one translate, as from the two scans they replace."""
    body = data[len(codecs.BOM_UTF8):] if data.startswith(codecs.BOM_UTF8) else data
    assert fast_csv._plain_and_line_ends(data) == (not body.translate(None, fast_csv._PLAIN_BYTES), data.count(b"\n"))
