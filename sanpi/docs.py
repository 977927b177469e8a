"""Serve the dbt docs site on loopback (index.html fetches manifest.json and catalog.json over HTTP)."""
from __future__ import annotations

import functools
import http.server
from pathlib import Path


def make_docs_server(site: Path, host: str = "127.0.0.1", port: int = 8080) -> http.server.ThreadingHTTPServer:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    return http.server.ThreadingHTTPServer((host, port), handler)


def serve_docs(site: Path, host: str = "127.0.0.1", port: int = 8080) -> None:
    server = make_docs_server(site, host, port)
    print(f"Serving the dbt docs site at http://{host}:{server.server_address[1]}/ (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
