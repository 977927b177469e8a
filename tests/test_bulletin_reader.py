"""The bulletin reader (sanpi.bulletin): own fixtures, the synthetic sample bulletins, and — when
the shared folder is present next to the repo — the real labelled texts and the seed bulletin."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sanpi.bulletin import read_bulletin
from sanpi.bulletin.command import run_parse_bulletin
from sanpi.bulletin.decode import read_document

REPO = Path(__file__).parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "bulletins"
SAMPLE = REPO / "data" / "sample" / "bulletins"
SHARED = Path(__file__).parents[2] / "shared"


def fixture_cases() -> list[Path]:
    return sorted(p for p in FIXTURES.iterdir()
                  if p.suffix in (".txt", ".html", ".json") and not p.name.endswith(".expected.json"))


def expected_for(path: Path) -> dict:
    return json.loads((FIXTURES / f"{path.stem}.expected.json").read_text("utf-8"))


def figure_key(f: dict) -> tuple:
    b = f.get("breakdown")
    return (f["unit"], f["stage"], f["measure"], round(float(f["value"]), 4), f.get("qualifier", "exact"),
            b["dimension"] if b else None, b["category"] if b else None)


def row_key(row: list) -> tuple:
    unit, stage, measure, value, qualifier, dimension, category = row
    return (unit, stage, measure, round(float(value), 4), qualifier, dimension, category)


@pytest.mark.parametrize("path", fixture_cases(), ids=lambda p: p.name)
def test_fixture_reads_as_expected(path: Path) -> None:
    want = expected_for(path)
    got = read_bulletin(path.read_bytes(), path.name)
    assert {figure_key(f) for f in got["figures"]} == {row_key(r) for r in want["figures"]}
    assert len(got["figures"]) == len({figure_key(f) for f in got["figures"]}), "a figure is repeated"
    for field in ("province", "round", "held_on", "main_venue", "cumulative", "source_url"):
        if field in want:
            assert got[field] == want[field], field
    reasons = [w["reason"] for w in got["warnings"]]
    for needle in want.get("warnings", []):
        assert any(needle in r for r in reasons), f"no warning about {needle!r} in {reasons}"
    if "warnings" not in want:
        assert not [r for r in reasons if "digits" in r or "cut off" in r], reasons


@pytest.mark.parametrize("path", [p for p in fixture_cases() if p.suffix != ".json"], ids=lambda p: p.name)
def test_every_text_figure_names_its_sentence_and_span(path: Path) -> None:
    data = path.read_bytes()
    body = read_document(data).body
    got = read_bulletin(data, path.name)
    for f in got["figures"]:
        assert f["source_text"] == body[f["char_start"]:f["char_end"]]
        assert f["source_text"].strip() == f["source_text"] and f["source_text"]
        if f["measure"] == "projects" and f["value"] >= 10:
            assert re.search(r"\d", f["source_text"])


def test_provenance_fields() -> None:
    path = FIXTURES / "prov_r16_plain.txt"
    data = path.read_bytes()
    got = read_bulletin(data, "r16.txt")
    assert got["file"] == "r16.txt"
    assert len(got["sha256"]) == 64 and got["sha256"] == __import__("hashlib").sha256(data).hexdigest()
    assert got["source_url"] == "https://example.org/henan/r16.html"
    signed = next(f for f in got["figures"] if f["stage"] == "signed" and f["measure"] == "projects"
                  and f["breakdown"] is None)
    assert "签约项目702个" in signed["source_text"]
    assert "SOURCE:" not in read_document(data).body


def test_traditional_text_reads_like_simplified() -> None:
    simplified = "全省第十七期“三个一批”项目建设活动举行。全省签约项目598个,总投资4102.6亿元。"
    traditional = "全省第十七期「三個一批」項目建設活動舉行。全省簽約項目598個，總投資4102.6億元。"
    a = read_bulletin(simplified.encode(), "s.txt")
    b = read_bulletin(traditional.encode(), "t.txt")
    assert {figure_key(f) for f in a["figures"]} == {figure_key(f) for f in b["figures"]} != set()
    assert b["figures"][0]["source_text"] == traditional[traditional.index("全省簽約"):]


def test_undecodable_bytes_raise_a_clear_error() -> None:
    with pytest.raises(ValueError, match="decode"):
        read_bulletin(b"\x80\x80\xff\xfe\x81", "broken.txt")


@pytest.mark.parametrize("data", [b"", b"   \n", "没有任何数字的一段话。".encode(), b"{not json", b"{\"a\": 1}"])
def test_garbage_gives_no_figures_and_a_warning(data: bytes) -> None:
    got = read_bulletin(data, "g.txt")
    assert got["figures"] == [] and got["province"] in (None, "other")
    assert got["warnings"]


@pytest.mark.parametrize("path", sorted(SAMPLE.glob("round_*.txt")), ids=lambda p: p.name)
def test_sample_bulletin_text_reads_as_its_json(path: Path) -> None:
    want = json.loads(path.with_suffix(".json").read_text("utf-8"))
    got = read_bulletin(path.read_bytes(), path.name)
    assert {figure_key(f) for f in got["figures"]} == {figure_key(f) for f in want["figures"]}
    for field in ("province", "round", "held_on", "main_venue", "cumulative"):
        assert got[field] == want[field], field
    assert got["warnings"] == []


def test_sample_json_form_passes_through() -> None:
    path = SAMPLE / "round_13.json"
    want = json.loads(path.read_text("utf-8"))
    got = read_bulletin(path.read_bytes(), path.name)
    assert {figure_key(f) for f in got["figures"]} == {figure_key(f) for f in want["figures"]}
    assert got["cumulative"] == want["cumulative"] and got["warnings"] == []


def test_command_prints_one_json_object_per_file(capsys) -> None:
    files = [str(FIXTURES / "prov_r16_plain.txt"), str(FIXTURES / "confounder_zhejiang.txt")]
    assert run_parse_bulletin(files, as_json=True) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    objects = [json.loads(line) for line in lines]
    assert [o["file"] for o in objects] == files
    assert set(objects[0]) >= {"province", "round", "held_on", "main_venue", "figures", "cumulative",
                               "sha256", "source_url", "warnings"}
    assert run_parse_bulletin(files[:1], as_json=False) == 0
    table = capsys.readouterr().out
    assert "702" in table and "signed" in table


def test_command_reports_unreadable_files(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x80\x80\xff")
    assert run_parse_bulletin([str(bad), str(tmp_path / "missing.txt")], as_json=True) == 1
    assert "cannot decode" in capsys.readouterr().err


needs_shared = pytest.mark.skipif(not (SHARED / "bulletins" / "labels.jsonl").exists(),
                                  reason="shared folder with the real labelled texts is absent")


@needs_shared
def test_real_texts_score_perfectly() -> None:
    """The real texts stay in ../shared (other people's prose); the scorer runs the CLI on them."""
    cmd = [sys.executable, str(SHARED / "tools" / "score_bulletins.py"), "--texts",
           str(SHARED / "bulletins" / "texts"), "--labels", str(SHARED / "bulletins" / "labels.jsonl"),
           "--", sys.executable, "-m", "sanpi.cli", "parse-bulletin", "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=300).stdout
    assert "precision 1.000 recall 1.000" in out, out
    meta = re.search(r"metadata (\d+)/(\d+)", out)
    assert meta and meta.group(1) == meta.group(2), out


@needs_shared
def test_seed_bulletin_reads_as_its_label() -> None:
    seed = SHARED / "seed" / "round_13_bulletin.txt"
    label = json.loads((SHARED / "seed" / "round_13_bulletin.label.json").read_text("utf-8"))
    got = read_bulletin(seed.read_bytes(), seed.name)
    assert {figure_key(f) for f in got["figures"]} == {figure_key(f) for f in label["figures"]}
    assert len(got["figures"]) == len(label["figures"])
    for field in ("province", "round", "held_on", "main_venue", "cumulative"):
        assert got[field] == label[field], field


def test_a_few_broken_bytes_do_not_lose_the_text() -> None:
    text = ("全省第十七期“三个一批”项目建设活动今天上午举行,各省辖市、济源示范区、航空港区设分会场。"
            "全省签约项目598个,总投资4102.6亿元。").encode()
    got = read_bulletin(text[:6] + b"\xff" + text[6:], "damaged.txt")  # between two characters
    assert {(f["measure"], f["value"]) for f in got["figures"]} == {("projects", 598), ("investment_yi", 4102.6)}
    assert "decode_errors" in got["defects"]
