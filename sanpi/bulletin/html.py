"""HTML page -> article text. Readability-style scoring is overkill for news pages and misjudges
short ones; dropping page furniture and taking the densest content container is enough."""
from __future__ import annotations

import re

from bs4 import BeautifulSoup, Comment

_HTML_HINT = re.compile(r"<\s*(html|body|div|p|article|head)\b", re.I)
# Page furniture by tag, and by class/id words that sites use for menus, sidebars and link lists.
_DROP_TAGS = ("script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe",
              "select", "button", "template", "svg")
_FURNITURE = re.compile(r"nav|menu|footer|sidebar|side-|related|recommend|comment|share|"
                        r"breadcrumb|crumb|banner|advert|\bad\b|toolbar|copyright|hot|rank|tags?\b|"
                        r"links?\b|foot|head(er)?\b|topbar|login|search", re.I)
_CONTENT = re.compile(r"article|content|detail|main|text|body|news|zw|TRS_Editor|post|entry", re.I)
_BLOCKS = ("p", "div", "section", "article", "td", "li", "h1", "h2", "h3", "h4", "h5", "h6", "br",
           "tr", "table", "ul", "ol", "blockquote", "pre")


def looks_like_html(text: str) -> bool:
    return bool(_HTML_HINT.search(text[:2000]))


def _cjk_len(text: str) -> int:
    return sum(1 for c in text if "\u4e00" <= c <= "\u9fff")


def _text(node) -> str:
    """Block elements become line breaks so sentences and headings stay apart."""
    for br in node.find_all("br"):
        br.replace_with("\n")
    for block in node.find_all(_BLOCKS):
        block.insert_before("\n")
        block.insert_after("\n")
    lines = (line.strip() for line in node.get_text().split("\n"))
    return "\n".join(line for line in lines if line)


def _score(tag) -> float:
    """Chinese prose the container holds (paragraph text if it has paragraphs)."""
    paragraphs = tag.find_all("p")
    text = " ".join(p.get_text() for p in paragraphs) if paragraphs else tag.get_text()
    marks = " ".join([*(tag.get("class") or []), tag.get("id") or ""])
    bonus = 1.2 if tag.name == "article" or (marks and _CONTENT.search(marks)) else 1.0
    return _cjk_len(text) * bonus


def _densest(body):
    """The container with the most prose, narrowed to a child while the child keeps 80% of it."""
    candidates = body.find_all(["article", "main", "div", "section", "td"]) or [body]
    best = max(candidates, key=_score)
    while True:
        children = [c for c in best.find_all(["article", "main", "div", "section", "td"], recursive=False)]
        inner = max(children, key=_score, default=None)
        if inner is None or _score(inner) < 0.8 * _score(best):
            return best
        best = inner


def extract_article(page: str) -> tuple[str, str | None]:
    """(article text with its headline first, canonical URL if the page names one)."""
    soup = BeautifulSoup(page, "lxml")
    canonical = None
    link = soup.find("link", rel="canonical") or soup.find("meta", property="og:url")
    if link is not None:
        canonical = link.get("href") or link.get("content") or None
    for c in soup.find_all(string=lambda s: isinstance(s, Comment)):
        c.extract()
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(True):
        if tag.attrs is None:
            continue
        marks = " ".join([*(tag.get("class") or []), tag.get("id") or ""])
        if marks and _FURNITURE.search(marks) and not _CONTENT.search(marks):
            tag.decompose()
    body = soup.body or soup
    best = _densest(body)
    headline = ""
    h1 = best.find("h1") or body.find("h1")
    if h1 is not None and h1.get_text(strip=True):
        headline = h1.get_text(" ", strip=True)
    elif soup.title is not None and soup.title.string:
        headline = re.split(r"[_|｜-]", soup.title.string.strip())[0].strip()
    text = _text(best)
    if headline and headline not in text:
        text = headline + "\n" + text
    return text, canonical
