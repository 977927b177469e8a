"""Pulling an inbox over HTTP, against a real HTTP server on 127.0.0.1."""
from __future__ import annotations

import functools
import hashlib
import http.server
import json
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote, unquote

import pytest

from sanpi.ingest import http_source
from sanpi.ingest.http_source import RemoteSourceError, UnsafePathError, safe_local_path

CSV = "项目代码,项目名称,阶段,总投资(亿元)\n{code},甲,签约一批,1.5\n"


class InboxHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; can fail a path N times with HTTP 500 or stall on it, and counts requests."""

    def __init__(self, *args, behaviour: dict, **kwargs):
        self.behaviour = behaviour
        super().__init__(*args, **kwargs)

    def do_GET(self):
        path = unquote(self.path)
        b = self.behaviour
        b["requests"][path] += 1
        if b["fail"].get(path, 0) > 0:
            b["fail"][path] -= 1
            self.send_error(500, "temporarily broken")
            return
        if path in b["stall"]:
            time.sleep(b["stall"][path])
        if self.headers.get("If-Modified-Since"):
            b["conditional"][path] += 1
        try:
            super().do_GET()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting: that is the point of the stall

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    site = tmp_path / "site"
    (site / "inbox" / "submissions" / "13").mkdir(parents=True)
    (site / "inbox" / "bulletins").mkdir()
    (site / "inbox" / "submissions" / "13" / "郑州市.csv").write_text(CSV.format(code="A-1"), encoding="utf-8")
    (site / "inbox" / "submissions" / "13" / "开封市.csv").write_text(CSV.format(code="B-1"), encoding="utf-8")
    behaviour = {"requests": Counter(), "conditional": Counter(), "fail": {}, "stall": {}}
    handler = functools.partial(InboxHandler, behaviour=behaviour, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{httpd.server_address[1]}", "site": site, "behaviour": behaviour}
    httpd.shutdown()
    httpd.server_close()


def pull(url: str, root: Path, timeout: float = 5) -> int:
    state = http_source.load_state(root)
    changed = sum(http_source.fetch(r, root, state, timeout) for r in http_source.list_remote(url, timeout))
    http_source.save_state(root, state)
    return changed


@pytest.mark.parametrize("name", ["../evil.csv", "/etc/passwd", "a/../../b.csv", "C:\\x.csv", "a\\b.csv", ""])
def test_remote_names_never_escape_the_mirror(tmp_path, name):
    with pytest.raises(UnsafePathError):
        safe_local_path(tmp_path, name)


def test_nested_chinese_names_are_fine(tmp_path):
    assert safe_local_path(tmp_path, "submissions/13/郑州市.xlsx") == (tmp_path / "submissions/13/郑州市.xlsx").resolve()


def test_directory_index_is_mirrored_and_unchanged_files_are_not_downloaded_again(server, tmp_path):
    url = server["url"] + "/inbox/"
    mirror = tmp_path / "mirror"
    assert pull(url, mirror) == 2
    assert (mirror / "submissions/13/郑州市.csv").read_text(encoding="utf-8") == CSV.format(code="A-1")
    file_path = "/inbox/submissions/13/郑州市.csv"
    assert pull(url, mirror) == 0
    assert server["behaviour"]["conditional"][file_path] == 1  # asked "changed since?" and got 304
    time.sleep(1.1)  # Last-Modified has one-second resolution
    (server["site"] / "inbox/submissions/13/郑州市.csv").write_text(CSV.format(code="A-2"), encoding="utf-8")
    assert pull(url, mirror) == 1
    assert "A-2" in (mirror / "submissions/13/郑州市.csv").read_text(encoding="utf-8")


def test_manifest_with_hashes_skips_known_files_without_asking(server, tmp_path):
    site = server["site"]
    files = ["submissions/13/郑州市.csv", "submissions/13/开封市.csv"]
    manifest = {"files": [{"path": p, "sha256": hashlib.sha256((site / "inbox" / p).read_bytes()).hexdigest(),
                           "url": quote(p)} for p in files]
                + [{"path": "../../outside.csv", "url": quote(files[0])}]}
    (site / "inbox" / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    mirror = tmp_path / "data" / "mirror"
    remote = http_source.list_remote(server["url"] + "/inbox/manifest.json", 5)
    state: dict = {}
    fetched = []
    for r in remote:
        try:
            fetched.append(http_source.fetch(r, mirror, state, 5))
        except UnsafePathError:
            fetched.append("refused")
    assert fetched == [True, True, "refused"]
    assert not (tmp_path / "outside.csv").exists() and not (tmp_path / "data" / "outside.csv").exists()
    before = sum(server["behaviour"]["requests"].values())
    assert [http_source.fetch(r, mirror, state, 5) for r in remote[:2]] == [False, False]
    assert sum(server["behaviour"]["requests"].values()) == before


def test_a_stalled_server_times_out_with_a_clear_message(server, tmp_path):
    server["behaviour"]["stall"]["/inbox/submissions/13/郑州市.csv"] = 3
    with pytest.raises(RemoteSourceError, match=r"郑州|%E9.*timeout 0.5 s|timed out"):
        pull(server["url"] + "/inbox/", tmp_path / "mirror", timeout=0.5)


def test_ingest_flow_retries_a_flaky_server_then_loads(prefect_api, workspace, server, monkeypatch):
    import duckdb

    from flows.ingest import ingest_flow

    monkeypatch.setenv("SANPI_HTTP_RETRIES", "3")
    monkeypatch.setenv("SANPI_HTTP_RETRY_DELAY", "0")
    flaky = "/inbox/submissions/13/开封市.csv"
    server["behaviour"]["fail"][flaky] = 2
    summary = ingest_flow(source=server["url"] + "/inbox/")
    assert summary.statuses == {"loaded": 2} and summary.rows_loaded == 2
    assert server["behaviour"]["requests"][flaky] == 3  # failed twice, then succeeded
    with duckdb.connect(str(workspace / "data" / "warehouse.duckdb"), read_only=True) as con:
        sources = con.sql("SELECT DISTINCT source_root FROM raw.load_manifest").fetchall()
    assert sources == [(server["url"] + "/inbox/",)]
    again = ingest_flow(source=server["url"] + "/inbox/")
    assert again.statuses == {"unchanged": 2}


def test_ingest_flow_gives_up_on_a_server_that_keeps_timing_out(prefect_api, workspace, server, monkeypatch):
    from flows.ingest import ingest_flow

    monkeypatch.setenv("SANPI_HTTP_RETRIES", "1")
    monkeypatch.setenv("SANPI_HTTP_RETRY_DELAY", "0")
    monkeypatch.setenv("SANPI_HTTP_TIMEOUT", "0.5")
    stalled = "/inbox/submissions/13/郑州市.csv"
    server["behaviour"]["stall"][stalled] = 3
    with pytest.raises(RemoteSourceError, match="timeout 0.5 s"):
        ingest_flow(source=server["url"] + "/inbox/")
    assert server["behaviour"]["requests"][stalled] == 2  # the first try and one retry
