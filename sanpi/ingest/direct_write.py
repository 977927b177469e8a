"""Write a file's bytes past the page cache (O_DIRECT), for the raw copies the loader keeps.

A raw copy is written once and read only to replay a load. Through the page cache, each byte is
copied into a freshly allocated cache page and written back later: at 10^7 rows (1.1 GB of CSV) the
copies cost 0.3-2.2 s of system time, depending on how much cache the kernel had to reclaim first.
With O_DIRECT the disk reads the bytes from an aligned buffer of ours (0.2 s of CPU; the thread
waits for the disk meanwhile, with the GIL released). Whole blocks go direct; the last partial block
is appended through the cache. Where O_DIRECT is refused (tmpfs, some network file systems, another
OS) or a write comes up short, the file is written the ordinary way.
"""
from __future__ import annotations

import mmap
import os
import threading
from pathlib import Path

# Aligned for any device's logical block (512 B or 4 KiB): the page size, a multiple of both.
_ALIGN = mmap.PAGESIZE
_CHUNK = 8 * 1024 * 1024            # the buffer each thread keeps (a multiple of _ALIGN)
_SMALLEST = 1024 * 1024             # below this the cache costs little and the buffer copy is not worth it
_local = threading.local()
_O_DIRECT = getattr(os, "O_DIRECT", 0)


def _buffer() -> mmap.mmap:
    """This thread's aligned buffer (anonymous mmap: page-aligned), kept for its next file."""
    buf = getattr(_local, "buf", None)
    if buf is None:
        buf = _local.buf = mmap.mmap(-1, _CHUNK)
    return buf


def _write_direct(path: Path, data: bytes) -> None:
    whole = len(data) - len(data) % _ALIGN
    view = memoryview(data)
    buf = _buffer()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _O_DIRECT, 0o644)
    try:
        for start in range(0, whole, _CHUNK):
            size = min(_CHUNK, whole - start)
            buf[:size] = view[start:start + size]
            if os.write(fd, memoryview(buf)[:size]) != size:
                raise OSError(f"short O_DIRECT write to {path}")
    finally:
        os.close(fd)
    if whole < len(data):
        with open(path, "ab") as tail:
            tail.write(view[whole:])


def write_bytes(path: Path, data: bytes) -> None:
    """path.write_bytes(data), without going through the page cache where the system allows."""
    if _O_DIRECT and len(data) >= _SMALLEST:
        try:
            _write_direct(path, data)
            return
        except OSError:
            pass   # refused or short: the ordinary write below replaces whatever was written
    path.write_bytes(data)
