"""Raw copies written past the page cache: every size comes back byte for byte, and a refused or
short direct write still leaves the whole file."""
from __future__ import annotations

import os

import pytest

from sanpi.ingest import direct_write

SIZES = [0, 1, 4095, 4096, 4097, direct_write._SMALLEST - 1, direct_write._SMALLEST + 123,
         2 * direct_write._CHUNK + 4096 * 3 + 17]


def _bytes(size: int) -> bytes:
    return (os.urandom(4096) * (size // 4096 + 1))[:size]


@pytest.mark.parametrize("size", SIZES)
def test_written_bytes_read_back_equal(tmp_path, size):
    data = _bytes(size)
    target = tmp_path / "copy.csv"
    direct_write.write_bytes(target, data)
    assert target.read_bytes() == data


def test_rewrite_replaces_a_longer_file(tmp_path):
    target = tmp_path / "copy.csv"
    direct_write.write_bytes(target, _bytes(3 * direct_write._SMALLEST))
    data = _bytes(direct_write._SMALLEST + 5)
    direct_write.write_bytes(target, data)
    assert target.read_bytes() == data


def test_short_direct_write_falls_back_to_the_cache(tmp_path, monkeypatch):
    real_write = os.write
    calls = []

    def short(fd, chunk):   # the kernel may write less than asked: the file must still be whole
        calls.append(len(chunk))
        return real_write(fd, memoryview(chunk)[:4096])

    monkeypatch.setattr(direct_write.os, "write", short)
    data = _bytes(direct_write._CHUNK + 10_000)
    target = tmp_path / "copy.csv"
    direct_write.write_bytes(target, data)
    assert calls, "the direct route was not tried"
    assert target.read_bytes() == data


def test_refused_direct_open_falls_back_to_the_cache(tmp_path, monkeypatch):
    real_open = os.open

    def refuse_direct(path, flags, *args):
        if flags & direct_write._O_DIRECT:
            raise OSError(22, "Invalid argument")   # what tmpfs and others answer
        return real_open(path, flags, *args)

    monkeypatch.setattr(direct_write.os, "open", refuse_direct)
    data = _bytes(direct_write._SMALLEST * 2 + 1)
    target = tmp_path / "copy.csv"
    direct_write.write_bytes(target, data)
    assert target.read_bytes() == data
