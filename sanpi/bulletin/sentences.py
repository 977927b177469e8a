"""Sentences with spans over the normalised text.

A sentence ends at 。!? and at a line break after terminal punctuation. Other line breaks join
lines: real copies break sentences across lines, and headline lines carry no punctuation at
all, so an unpunctuated break only separates clauses (the grammar treats it like a comma).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_TERMINAL = "。!?"
_HARD_BEFORE_NEWLINE = "。!?;:"


@dataclass(frozen=True)
class Sentence:
    start: int   # normalised-text offsets
    end: int
    text: str


def split_sentences(text: str) -> list[Sentence]:
    out: list[Sentence] = []
    start = 0

    def close(end: int) -> None:
        nonlocal start
        seg = text[start:end]
        lead = len(seg) - len(seg.lstrip())
        trail = len(seg.rstrip())
        if seg.strip():
            out.append(Sentence(start + lead, start + trail, seg[lead:trail]))
        start = end

    i = 0
    while i < len(text):
        c = text[i]
        english_stop = c == "." and (i + 1 == len(text) or text[i + 1] in " \n") and i > 0 and text[i - 1].isalnum()
        if c in _TERMINAL or english_stop:
            # closing quotes/brackets belong to the sentence they close
            j = i + 1
            while j < len(text) and text[j] in "”’)》】":
                j += 1
            close(j)
            i = j
            continue
        if c == "\n":
            prev = text[start:i].rstrip()
            if not prev or prev[-1] in _HARD_BEFORE_NEWLINE:
                close(i + 1)
        i += 1
    close(len(text))
    return out


_CHUNK = re.compile(r";")
_CLAUSE = re.compile(r"[,:;\n ]")


def chunk_bounds(sentence: str) -> list[tuple[int, int]]:
    """Spans of the ;-separated parts of a sentence (figures never pair across them)."""
    bounds, start = [], 0
    for m in _CHUNK.finditer(sentence):
        bounds.append((start, m.start()))
        start = m.end()
    bounds.append((start, len(sentence)))
    return bounds


def clause_start(sentence: str, pos: int, floor: int = 0) -> int:
    """Start of the clause holding pos: after the last , : ; newline or soft space before it."""
    i = pos - 1
    while i >= floor:
        if _CLAUSE.match(sentence[i]) or sentence[i] in "。":
            return i + 1
        i -= 1
    return floor


def clause_end(sentence: str, pos: int) -> int:
    m = _CLAUSE.search(sentence, pos)
    return m.start() if m else len(sentence)
