"""Mirror an HTTP(S) inbox into the data folder: a directory index (as web servers list folders) or a
JSON manifest ({"files": [{"path": ..., "sha256": ..., "url": ...}]}). Only new or changed files are
downloaded (manifest sha256, or a conditional GET with the ETag / Last-Modified seen last time).
Remote names are checked so that no file lands outside the mirror folder.
"""
from __future__ import annotations

import hashlib
import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urljoin, urlsplit

from sanpi.ingest.inbox import BULLETIN_SUFFIXES, SUBMISSION_SUFFIXES

LOADABLE_SUFFIXES = BULLETIN_SUFFIXES | SUBMISSION_SUFFIXES | {".txt", ".html", ".htm"}
STATE_FILE = ".sanpi-http-state.json"
MAX_DEPTH = 4


class UnsafePathError(ValueError):
    pass


class RemoteSourceError(RuntimeError):
    pass


@dataclass(frozen=True)
class RemoteFile:
    rel_path: str          # path inside the inbox, e.g. submissions/13/郑州市.xlsx
    url: str
    sha256: str | None = None


def is_http(source: str | None) -> bool:
    return bool(source) and urlsplit(source).scheme in ("http", "https")


def mirror_dir(data_dir: Path, url: str) -> Path:
    parts = urlsplit(url)
    host = re.sub(r"[^A-Za-z0-9_.-]", "_", parts.netloc)
    return data_dir / "inbox_mirror" / f"{host}-{hashlib.sha256(url.encode()).hexdigest()[:12]}"


def safe_local_path(root: Path, rel_path: str) -> Path:
    """Where a remote file goes under root; refuses names that would escape it."""
    if not rel_path or "\\" in rel_path or "\x00" in rel_path or re.match(r"^[A-Za-z]:", rel_path):
        raise UnsafePathError(f"unsafe remote file name {rel_path!r}")
    pure = PurePosixPath(rel_path)
    if pure.is_absolute() or any(part in ("..", ".", "") for part in pure.parts):
        raise UnsafePathError(f"unsafe remote file name {rel_path!r}")
    target = (root / pure).resolve()
    if not target.is_relative_to(root.resolve()):
        raise UnsafePathError(f"remote file name {rel_path!r} escapes {root}")
    return target


def _get(url: str, timeout: float, headers: dict | None = None):
    request = urllib.request.Request(url, headers={"User-Agent": "sanpi-ingest", **(headers or {})})
    try:
        return urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return exc
        raise RemoteSourceError(f"GET {url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise RemoteSourceError(f"GET {url}: {reason} (timeout {timeout:g} s)") from exc


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)


def _read(response, url: str, timeout: float) -> bytes:
    try:
        return response.read()
    except (TimeoutError, OSError) as exc:
        raise RemoteSourceError(f"GET {url}: {exc} (timeout {timeout:g} s)") from exc


def _list_index(base: str, url: str, timeout: float, depth: int) -> list[RemoteFile]:
    with _get(url, timeout) as response:
        body = _read(response, url, timeout).decode("utf-8", errors="replace")
    parser = _Links()
    parser.feed(body)
    found: list[RemoteFile] = []
    for href in parser.links:
        target = urljoin(url, href)
        if not target.startswith(base) or target == url or "?" in href or href.startswith("#"):
            continue  # parent folders, sort links and other sites
        rel = unquote(target[len(base):])
        if target.endswith("/"):
            if depth < MAX_DEPTH:
                found += _list_index(base, target, timeout, depth + 1)
        elif PurePosixPath(rel).suffix.lower() in LOADABLE_SUFFIXES:
            found.append(RemoteFile(rel, target))
    return found


def list_remote(url: str, timeout: float) -> list[RemoteFile]:
    """The files a remote inbox offers: from its JSON manifest or by walking its directory index."""
    if urlsplit(url).path.endswith(".json"):
        with _get(url, timeout) as response:
            try:
                doc = json.loads(_read(response, url, timeout))
            except json.JSONDecodeError as exc:
                raise RemoteSourceError(f"{url} is not a JSON manifest: {exc}") from exc
        entries = doc.get("files") if isinstance(doc, dict) else None
        if not isinstance(entries, list):
            raise RemoteSourceError(f"{url}: a manifest needs a 'files' list")
        return [RemoteFile(e["path"], urljoin(url, e.get("url") or e["path"]), e.get("sha256")) for e in entries]
    base = url if url.endswith("/") else url + "/"
    return _list_index(base, base, timeout, 0)


def _sha256(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def fetch(remote: RemoteFile, root: Path, state: dict, timeout: float) -> bool:
    """Bring one file up to date under root. Returns True when new bytes were written."""
    target = safe_local_path(root, remote.rel_path)
    if remote.sha256 and _sha256(target) == remote.sha256:
        return False
    seen = state.get(remote.rel_path, {})
    headers = {}
    if target.exists() and not remote.sha256:
        if seen.get("etag"):
            headers["If-None-Match"] = seen["etag"]
        if seen.get("last_modified"):
            headers["If-Modified-Since"] = seen["last_modified"]
    with _get(remote.url, timeout, headers) as response:
        if getattr(response, "code", None) == 304 or getattr(response, "status", None) == 304:
            return False
        data = _read(response, remote.url, timeout)
        validators = {"etag": response.headers.get("ETag"), "last_modified": response.headers.get("Last-Modified")}
    digest = hashlib.sha256(data).hexdigest()
    if remote.sha256 and digest != remote.sha256:
        raise RemoteSourceError(f"{remote.url}: downloaded bytes do not match the manifest's sha256")
    state[remote.rel_path] = {**validators, "sha256": digest}
    if _sha256(target) == digest:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(data)
    partial.replace(target)  # atomic: a half-downloaded file is never seen by ingest
    return True


def load_state(root: Path) -> dict:
    path = root / STATE_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def save_state(root: Path, state: dict) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / STATE_FILE).write_text(json.dumps(state, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
