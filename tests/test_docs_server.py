"""`sanpi docs --serve` serves the dbt docs site over HTTP on 127.0.0.1."""
from __future__ import annotations

import threading
import urllib.request

from sanpi.docs import make_docs_server


def test_docs_site_is_served_on_loopback(tmp_path):
    (tmp_path / "index.html").write_text("<html>dbt docs</html>", encoding="utf-8")
    (tmp_path / "manifest.json").write_text('{"nodes": {}}', encoding="utf-8")
    server = make_docs_server(tmp_path, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1"
        for name, expected in (("index.html", "dbt docs"), ("manifest.json", '"nodes"')):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/{name}", timeout=10) as response:
                assert expected in response.read().decode()
    finally:
        server.shutdown()
        server.server_close()
