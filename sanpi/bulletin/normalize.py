"""Normalised text for the grammar, with a map back to the article body.

The grammar reads simplified characters, half-width digits and punctuation, no pinyin glosses,
no doubled punctuation and no stray spaces inside figures. Every normalised character remembers
the body index it came from, so spans and source sentences always refer to the text as published.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

# Traditional-text corner brackets read as the quotes simplified texts use (labels keep “”).
_QUOTES = {"「": "“", "」": "”", "『": "‘", "』": "’", "〝": "“", "〞": "”"}
# NFKC would turn these into something the grammar must not see (ellipsis -> "...").
_KEEP = {"…", "—", "–"}
_PINYIN = re.compile(r"(?<=[\u4e00-\u9fff])\((?:[a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ]{1,8})\)")
_CLAUSE_PUNCT = ",、;:。"


def is_cjk(c: str) -> bool:
    return "\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf"


@lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC  # opencc-python-reimplemented: dictionary-based, pure Python

    return OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional -> simplified, one character for one (spans must survive); phrase conversion
    is used when it keeps the length, per-character conversion otherwise."""
    cc = _t2s()
    out = cc.convert(text)
    if len(out) == len(text):
        return out
    return "".join(c if len(s := cc.convert(c)) != 1 else s for c in text)


@dataclass
class Normalized:
    text: str
    origin: list[int]          # origin[i]: body index of text[i]; origin[len(text)] == len(body)
    defects: set[str] = field(default_factory=set)

    def body_span(self, start: int, end: int) -> tuple[int, int]:
        """Body [start, end) of the normalised slice [start, end)."""
        if end <= start:
            return self.origin[start], self.origin[start]
        return self.origin[start], self.origin[end - 1] + 1


def _rebuild(chars: list[tuple[str, int]], pattern: re.Pattern, repl) -> list[tuple[str, int]]:
    """Apply a regex substitution to (char, origin) pairs; replacement chars take the origin of
    the match start."""
    text = "".join(c for c, _ in chars)
    out: list[tuple[str, int]] = []
    pos = 0
    for m in pattern.finditer(text):
        out.extend(chars[pos:m.start()])
        new = repl(m) if callable(repl) else repl
        for k, c in enumerate(new):
            out.append((c, chars[min(m.start() + k, m.end() - 1)][1]))
        pos = m.end()
    out.extend(chars[pos:])
    return out


def _space_repl(m: re.Match) -> str:
    """Spaces between two Chinese characters separate headline phrases: keep one as a soft
    separator. Spaces touching a digit, or at line ends, are stray: drop them. Latin text keeps
    one space."""
    s = m.string
    before = s[m.start() - 1] if m.start() > 0 else "\n"
    after = s[m.end()] if m.end() < len(s) else "\n"
    if before == "\n" or after == "\n":
        return ""
    if before.isascii() and after.isascii():
        return " "  # English text, or a date and a time: words and numbers must not merge
    if before.isdigit() or after.isdigit() or before in ".%" or after in ".%":
        return ""
    if is_cjk(before) and is_cjk(after):
        return " "
    return ""


def _punct_repl(m: re.Match) -> str:
    run = m.group(0)
    return "。" if "。" in run else run[-1]


_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u3000\ufeff]+")
_DOUBLED = re.compile(r"[,、;:。](?:\s*[,、;:。])+")


def normalize(body: str) -> Normalized:
    defects: set[str] = set()
    simplified = to_simplified(body)
    if sum(1 for a, b in zip(body, simplified) if a != b) >= 3:
        defects.add("traditional")
    chars: list[tuple[str, int]] = []
    for i, c in enumerate(simplified):
        if c in _QUOTES:
            chars.append((_QUOTES[c], i))
            continue
        n = c if c in _KEEP else unicodedata.normalize("NFKC", c)
        chars.extend((x, i) for x in n)
    text = "".join(c for c, _ in chars)
    if _PINYIN.search(text):
        defects.add("pinyin_glosses")
        chars = _rebuild(chars, _PINYIN, "")
    chars = _rebuild(chars, _SPACES, _space_repl)
    text = "".join(c for c, _ in chars)
    if _DOUBLED.search(text):
        defects.add("doubled_punctuation")
        chars = _rebuild(chars, _DOUBLED, _punct_repl)
    text = "".join(c for c, _ in chars)
    origin = [o for _, o in chars] + [len(body)]
    return Normalized(text, origin, defects)
