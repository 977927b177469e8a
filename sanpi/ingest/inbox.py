"""Find the files of an inbox folder and tell what each one is (kind, round, reporting unit).

Layout:  bulletins/round_NN.json                      provincial round bulletins (structured form)
         submissions/<round number>/<unit>.xlsx|csv   one city submission per round and unit
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sanpi.reference import resolve_unit

SUBMISSION_SUFFIXES = {".xlsx", ".csv"}
BULLETIN_SUFFIXES = {".json"}


@dataclass(frozen=True)
class InboxFile:
    path: Path               # absolute path on disk
    rel_path: str            # path relative to the inbox root, '/'-separated
    kind: str                # bulletin | submission
    round_no: int | None
    unit_label: str | None   # unit as written in the file name
    city_code: str | None    # resolved reporting unit, None when the name is unknown


def _round_from_folder(name: str) -> int | None:
    match = re.fullmatch(r"(?:round_?|第)?0*(\d{1,3})(?:期)?", name.strip())
    return int(match.group(1)) if match else None


def discover(root: Path) -> list[InboxFile]:
    """All loadable files under root, sorted for stable load order. Unknown files are skipped."""
    root = root.resolve()
    found: list[InboxFile] = []
    for path in sorted((root / "bulletins").glob("*")):
        if path.is_file() and path.suffix.lower() in BULLETIN_SUFFIXES:
            found.append(InboxFile(path, path.relative_to(root).as_posix(), "bulletin", None, None, None))
    submissions = root / "submissions"
    for path in sorted(submissions.glob("*/*")):
        if not path.is_file() or path.suffix.lower() not in SUBMISSION_SUFFIXES or path.name.startswith("~$"):
            continue
        unit = resolve_unit(path.stem)
        found.append(InboxFile(
            path, path.relative_to(root).as_posix(), "submission",
            _round_from_folder(path.parent.name), path.stem, unit.code if unit else None,
        ))
    found.sort(key=lambda f: (f.kind != "bulletin", f.round_no or 0, f.rel_path))
    return found


def not_loaded(root: Path, files: list[InboxFile]) -> list[str]:
    """Files under root that discover() does not load (e.g. text bulletins, stray files), so a run
    can say what it left out instead of passing over it in silence."""
    loaded = {f.path for f in files}
    return sorted(p.relative_to(root).as_posix() for p in root.resolve().rglob("*")
                  if p.is_file() and p not in loaded and not p.name.startswith(".") and p.name != "README.md")
