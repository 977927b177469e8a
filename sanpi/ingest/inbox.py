"""Find the files of an inbox folder and tell what each one is (kind, round, reporting unit).

Layout:  bulletins/<any name>.json|txt|html         round bulletins and city reports: structured JSON,
                                                     or published text / web pages read by sanpi.bulletin
         submissions/<round>/<unit>.xlsx|csv         one city submission per round and unit

<round> is a number (13, 013, round_13, 第13期); <unit> is a unit's name, alias or code, or a file name
that contains one (郑州市第13期项目清单.xlsx); a 第N期 in the file name is used when the folder has none. Several files for one round and unit are
versions of one submission: loaded in order (更正/修订/v2 marks after the plain name, then by time), the
last one is current.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sanpi.reference import Unit, resolve_unit, units

SUBMISSION_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".csv"}
BULLETIN_SUFFIXES = {".json", ".txt", ".html", ".htm"}
_ROUND_IN_NAME = re.compile(r"第\s*0*(\d{1,3})\s*期")
_REVISION_MARK = re.compile(r"(更正|修正|修订|修改|补充|重报)|[vV](\d+)|第(\d+)版")


@dataclass(frozen=True)
class InboxFile:
    path: Path               # absolute path on disk
    rel_path: str            # path relative to the inbox root, '/'-separated
    kind: str                # bulletin | submission
    round_no: int | None
    unit_label: str | None   # unit as written in the file name
    city_code: str | None    # resolved reporting unit, None when the name is unknown


def round_from_folder(name: str) -> int | None:
    match = re.fullmatch(r"(?:round_?|第)?0*(\d{1,3})(?:期)?", name.strip())
    return int(match.group(1)) if match else None


@lru_cache(maxsize=1)
def _names_longest_first() -> tuple[tuple[str, Unit], ...]:
    names = {n: u for u in units() for n in (u.name_zh, u.short_zh, *u.aliases) if len(n) >= 2}
    return tuple(sorted(names.items(), key=lambda item: -len(item[0])))


def unit_in_name(stem: str) -> Unit | None:
    """The reporting unit a file name names: exact name, alias or code first, then the longest
    unit name inside it (郑州航空港区… is 航空港区, not 郑州市). 示范区 alone is too vague inside a name."""
    exact = resolve_unit(stem)
    if exact:
        return exact
    for name, unit in _names_longest_first():
        if name != "示范区" and name in stem:
            return unit
    code = re.search(r"(?<!\d)(41\d{4})(?!\d)", stem)
    return resolve_unit(code.group(1)) if code else None


def revision_rank(stem: str) -> int:
    """How late a version a file name says it is: 郑州市（更正）.xlsx and 郑州市_v2.xlsx come after
    郑州市.xlsx, so that in one inbox the correction is loaded last and ends up current."""
    match = _REVISION_MARK.search(stem)
    if not match:
        return 0
    number = match.group(2) or match.group(3)
    return int(number) if number else 1


def _submission(root: Path, path: Path) -> InboxFile:
    unit = unit_in_name(path.stem)
    round_no = round_from_folder(path.parent.name)
    if round_no is None:
        match = _ROUND_IN_NAME.search(path.stem)
        round_no = int(match.group(1)) if match else None
    return InboxFile(path, path.relative_to(root).as_posix(), "submission", round_no, path.stem,
                     unit.code if unit else None)


def discover(root: Path) -> list[InboxFile]:
    """All loadable files under root, sorted for a stable load order (bulletins first, then by round;
    within a round and unit, older files first so the newest version ends up current)."""
    root = root.resolve()
    found: list[InboxFile] = []
    for path in sorted((root / "bulletins").glob("*")):
        if path.is_file() and path.suffix.lower() in BULLETIN_SUFFIXES:
            found.append(InboxFile(path, path.relative_to(root).as_posix(), "bulletin", None, None, None))
    for path in (root / "submissions").glob("*/*"):
        if path.is_file() and path.suffix.lower() in SUBMISSION_SUFFIXES and not path.name.startswith(("~$", ".")):
            found.append(_submission(root, path))
    found.sort(key=lambda f: (f.kind != "bulletin", f.round_no or 0, f.city_code or "",
                              revision_rank(f.path.stem), f.path.stat().st_mtime_ns, f.rel_path))
    return found


def not_loaded(root: Path, files: list[InboxFile]) -> list[str]:
    """Files under root that discover() does not load (e.g. text bulletins, stray files), so a run
    can say what it left out instead of passing over it in silence."""
    loaded = {f.path for f in files}
    return sorted(p.relative_to(root).as_posix() for p in root.resolve().rglob("*")
                  if p.is_file() and p not in loaded and not p.name.startswith(".") and p.name != "README.md")


# A file whose size, times, inode and device are what they were when its path's latest load read it
# is not read again: its bytes are those bytes (make, rsync and git trust the same). Any write to a
# file moves its ctime, which no one can set back; but the clock the file system stamps with is coarse,
# so a write just after the read could leave the times as they were ("racy" files, in git's words):
# a stat is kept only when the file's last change was at least this long before it was read.
SETTLED_NS = 2_000_000_000


def settled_stat(path: Path) -> str | None:
    """The file's stat as raw.load_manifest.file_stat keeps it (size:mtime_ns:ctime_ns:inode:device),
    taken before its bytes are read (a change after it shows in the next run's stat); None when the
    file changed too recently to be trusted."""
    st = path.stat()
    if time.time_ns() - st.st_ctime_ns < SETTLED_NS:
        return None
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}:{st.st_dev}"
