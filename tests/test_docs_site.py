"""The dbt docs site as an analyst opens it: generated from the project, served on loopback by
`sanpi.docs.make_docs_server` (what `sanpi docs --serve` runs) and rendered by headless Chromium
with the internet cut off (every host but 127.0.0.1 fails to resolve).

Checked: the overview page, model pages (description with the grain, columns with their Chinese
terms), the lineage graph of a model (Cytoscape nodes drawn on a canvas), that no request leaves
loopback, and that static_index.html renders from file:// too. Screenshots go to tmp_path.

Chromium is driven over the DevTools protocol with `websockets` (already installed with Prefect);
without it the test falls back to Chromium's --dump-dom / --screenshot flags. It skips only when
/usr/bin/chromium is missing (Debian package `chromium`).
"""
from __future__ import annotations

import base64
import itertools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import warnings
from pathlib import Path

import duckdb
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from sanpi.docs import make_docs_server  # noqa: E402
from sanpi.raw_schema import ensure_raw_schema  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="headless Chromium is not installed at /usr/bin/chromium (Debian: apt-get install chromium)")

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1400,900", "--hide-scrollbars",
    # no internet: any host other than loopback fails to resolve
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
MODEL_PAGES = {
    # model -> words its page must show (description with the grain, columns, Chinese terms)
    "fct_project_stage": ["One row per project per round per stage", "project_key", "is_carried_over", "结转投产"],
    "fct_project_lifecycle": ["One row per project followed", "signed_round_no", "rounds_started_to_production",
                              "项目全周期"],
    "rpt_reconciliation": ["One row per round per stage per measure", "provincial_value", "核对"],
    "dim_project_history": ["One row per project per version", "valid_from_round_no", "SCD"],
    "rpt_bulletin_conflicts": ["One row per statement", "char_start", "数字冲突"],
}


# --------------------------------------------------------------------------- the site

@pytest.fixture(scope="module")
def docs_site(tmp_path_factory):
    """dbt seed + run + docs generate --static (as the pipeline does) on a warehouse with empty raw tables."""
    from sanpi.settings import get_settings
    from sanpi.transform import run_dbt

    root = tmp_path_factory.mktemp("docs_site")
    warehouse = root / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    ensure_raw_schema(con)
    con.close()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SANPI_DATA_DIR", str(root))
        mp.setenv("SANPI_WAREHOUSE", str(warehouse))
        mp.setenv("SANPI_DBT_TARGET", str(root / "target"))
        mp.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        settings = get_settings()
        for command in (["seed"], ["run"], ["docs", "generate", "--static"]):
            outcome = run_dbt(settings, *command)
            assert outcome.success, outcome.failures
    return root / "target"


@pytest.fixture(scope="module")
def served(docs_site):
    """The site served from a thread on 127.0.0.1 (port 0: any free port); yields its base URL."""
    server = make_docs_server(docs_site, host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


# --------------------------------------------------------------------------- a small DevTools client

class Browser:
    """Headless Chromium with one page, driven over the DevTools protocol."""

    def __init__(self, user_data_dir: Path):
        from websockets.sync.client import connect

        self.proc = subprocess.Popen(
            [str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={user_data_dir}", "--remote-debugging-port=0",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = user_data_dir / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and len(port_file.read_text().split()) >= 2):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError("Chromium did not start its DevTools endpoint")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
            page = next(t for t in json.load(response) if t["type"] == "page")
        self.ws = connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=10)
        self.ids = itertools.count(1)
        self.requests: list[str] = []
        self.call("Network.enable")
        self.call("Page.enable")

    def call(self, method: str, **params):
        call_id = next(self.ids)
        self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=60))
            if message.get("method") == "Network.requestWillBeSent":
                self.requests.append(message["params"]["request"]["url"])
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    def js(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.js(expression)
            if value:
                return value
            time.sleep(0.2)
        raise AssertionError(f"page never satisfied: {expression}\n---\n{self.js('document.body.innerText')[:2000]}")

    def open(self, url: str) -> None:
        self.call("Page.navigate", url="about:blank")
        self.call("Page.navigate", url=url)

    def screenshot(self, path: Path) -> Path:
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"]))
        return path

    def close(self) -> None:
        if getattr(self, "ws", None) is not None:
            self.ws.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def _has_websockets() -> bool:
    try:
        import websockets.sync.client  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture
def browser(tmp_path):
    if not _has_websockets():
        pytest.skip("websockets is not installed: the --dump-dom fallback test covers the site")
    b = Browser(Path(tempfile.mkdtemp(prefix="chromium-", dir=tmp_path)))
    try:
        yield b
    finally:
        b.close()


def _page_text(model: str) -> str:
    return f"document.body && document.body.innerText.includes({json.dumps(model)}) && document.body.innerText"


def _has_cjk_font() -> bool:
    try:
        out = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return bool(out.strip())


def _is_offline_url(url: str) -> bool:
    parsed = urllib.parse.urlsplit(url)
    return parsed.scheme in ("data", "blob", "about", "file") or parsed.hostname == "127.0.0.1"


# --------------------------------------------------------------------------- tests

def test_docs_site_renders_model_pages_and_lineage_offline(served, browser, tmp_path):
    browser.open(served + "#!/overview")
    overview = browser.wait_for(_page_text("三个一批"))
    assert "Where to start" in overview and "fct_project_lifecycle" in overview

    for model, words in MODEL_PAGES.items():
        browser.open(served + f"#!/model/model.sanpi.{model}")
        text = browser.wait_for(_page_text(words[0]))
        missing = [w for w in words if w not in text]
        assert not missing, (model, missing)
        # the Columns table lists the model's columns with types from the catalog
        assert browser.js("document.querySelectorAll('table tr').length") > 3, model

    browser.open(served + "#!/model/model.sanpi.fct_project_lifecycle")
    browser.wait_for(_page_text("One row per project followed"))
    page = browser.screenshot(tmp_path / "docs_model_page.png")
    if not _has_cjk_font():
        warnings.warn("no CJK font installed: Chinese text renders as boxes in the screenshots "
                      "(Debian: apt-get install fonts-wqy-microhei)")

    # the lineage graph of the model: Cytoscape draws its nodes on canvases
    browser.js("document.querySelector('a[title=\"View Lineage Graph\"]').click()")
    labels = browser.wait_for("""(() => { const c = document.getElementById('cy');
        const cy = c && c._cyreg && c._cyreg.cy;
        return cy && cy.nodes().length > 2 && cy.nodes().map(n => n.data('label') || n.id()); })()""")
    assert {"fct_project_stage", "fct_project_lifecycle", "rpt_lifecycle_conversion"} <= set(labels)
    browser.js("document.querySelector('a[title=\"View Fullscreen\"]').click()")
    browser.wait_for("[...document.querySelectorAll('#cy canvas')].some(c => c.width > 800 && c.height > 300)")
    time.sleep(1.0)  # let the layout settle before the picture
    lineage = browser.screenshot(tmp_path / "docs_lineage_graph.png")
    print(f"\nscreenshots: {page}\n             {lineage}")
    for shot in (page, lineage):
        data = shot.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 30_000, shot

    # nothing was fetched from the internet (index.html fetches manifest.json and catalog.json only)
    assert any(u.endswith("manifest.json") or "manifest.json?" in u for u in browser.requests)
    outside = sorted({u for u in browser.requests if not _is_offline_url(u)})
    assert outside == [], outside


def test_static_index_renders_from_file_url(docs_site, browser):
    """static_index.html carries manifest and catalog inside: it opens with no server at all."""
    browser.open((docs_site / "static_index.html").as_uri() + "#!/model/model.sanpi.fct_project_lifecycle")
    text = browser.wait_for(_page_text("One row per project followed"))
    assert "lifecycle_key" in text
    outside = sorted({u for u in browser.requests if not _is_offline_url(u)})
    assert outside == [], outside


def test_docs_site_without_devtools_client(served, tmp_path):
    """The same site through Chromium's own --dump-dom and --screenshot flags (no Python client)."""
    url = served + "#!/model/model.sanpi.fct_project_lifecycle"
    common = [str(CHROMIUM), *CHROMIUM_FLAGS, "--virtual-time-budget=15000"]
    dom = subprocess.run([*common, f"--user-data-dir={tempfile.mkdtemp(dir=tmp_path)}", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120, env={**os.environ, "LANG": "C.UTF-8"}).stdout
    assert "One row per project followed" in dom and "signed_round_no" in dom
    assert 'id="cy"' in dom  # the lineage graph's container is on the page
    shot = tmp_path / "docs_cli_screenshot.png"
    subprocess.run([*common, f"--user-data-dir={tempfile.mkdtemp(dir=tmp_path)}", f"--screenshot={shot}", url],
                   capture_output=True, timeout=120, check=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 30_000


def test_docs_do_not_phone_home(docs_site):
    """dbt docs load a tracking script from a CDN when usage stats are on: they must be off."""
    manifest = json.loads((docs_site / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["metadata"]["send_anonymous_usage_stats"] is False
