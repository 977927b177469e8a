"""Bytes -> article body: character set, HTML article extraction, SOURCE/NOTE header lines."""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from sanpi.bulletin.html import extract_article, looks_like_html

# Encodings tried in order once BOMs and declared charsets are exhausted. GB18030 is a superset of
# GBK/GB2312; Big5 comes last because GB18030 accepts most Big5 byte pairs too.
_FALLBACK_ENCODINGS = ("utf-8", "gb18030", "big5")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_-]+)""", re.I)
_HEADER = re.compile(r"(?P<key>SOURCE|NOTE)\s*:\s*(?P<value>.*)")


@dataclass(frozen=True)
class Document:
    """The decoded article body that spans index into, plus what the header lines said."""
    body: str
    source_url: str | None
    is_html: bool
    encoding: str


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode with the BOM, a declared HTML charset, then UTF-8 / GB18030 / Big5 (strict)."""
    for bom, enc in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                     (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(enc), enc
    candidates = list(_FALLBACK_ENCODINGS)
    declared = _META_CHARSET.search(data[:4096])
    if declared:
        name = declared.group(1).decode("ascii", "ignore").lower()
        try:
            name = codecs.lookup("gb18030" if name in ("gb2312", "gbk") else name).name
            candidates.insert(0, name)
        except LookupError:
            pass
    decoded = {}
    for enc in candidates:
        try:
            decoded[enc] = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if enc not in ("gb18030", "big5"):
            return decoded[enc], enc
    if "gb18030" in decoded and "big5" in decoded:
        # Most Big5 byte pairs are valid GB18030 too: keep the reading made of common characters
        best = max(("gb18030", "big5"), key=lambda e: _commonness(decoded[e], e))
        return decoded[best], best
    for enc, text in decoded.items():
        return text, enc
    # A stored copy with a few broken byte sequences is still a text: replace them, unless they
    # are so many that the bytes are no text in any of these encodings.
    for enc in candidates:
        text = data.decode(enc, errors="replace")
        if text.count("\ufffd") <= len(text) // 50:
            return text, enc + "+replaced"
    raise ValueError("cannot decode the file as UTF-8, GB18030 or Big5 text")


# Lead bytes of the frequently used characters: GB2312 level 1, Big5 常用字.
_COMMON_LEADS = {"gb18030": ("gb2312", 0xB0, 0xD7), "big5": ("big5", 0xA4, 0xC6)}


def _commonness(text: str, encoding: str) -> float:
    codec, lo, hi = _COMMON_LEADS[encoding]
    cjk = [c for c in text if "\u4e00" <= c <= "\u9fff"]
    if not cjk:
        return 0.0
    common = 0
    for c in cjk:
        try:
            lead = c.encode(codec)[0]
        except UnicodeEncodeError:
            continue
        common += lo <= lead <= hi
    return common / len(cjk)


def _strip_header(text: str) -> tuple[str, str | None]:
    """Drop leading SOURCE:/NOTE: lines (metadata of the stored copy, not article text)."""
    url = None
    pos = 0
    while pos < len(text):
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        line = text[pos:end].strip()
        m = _HEADER.fullmatch(line)
        if m:
            if m.group("key") == "SOURCE" and url is None:
                url = m.group("value").strip() or None
        elif line:
            break
        pos = end + 1
    return text[min(pos, len(text)):], url


def read_document(data: bytes) -> Document:
    text, encoding = decode_bytes(data)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    body, url = _strip_header(text)
    if looks_like_html(body):
        body, canonical = extract_article(body)
        url = url or canonical
        return Document(body, url, True, encoding)
    return Document(body, url, False, encoding)
