"""Validate: Great Expectations suites over the built warehouse, run by checkpoints.

GX imports scipy.stats and altair when it is imported (for the KL-divergence expectation and its
charts), ~0.8-1 s of its ~2.5 s import, and sanpi's suites use neither. Until something reads an
attribute of them they stay placeholders; the first attribute read imports the real module.
(importlib.util.LazyLoader would be the library way, but on Python 3.11 the import system reads the
module's __spec__ on `import scipy.stats`, which makes LazyLoader execute it at once.)
"""
from __future__ import annotations

import importlib
import importlib.machinery
import sys
import threading
import types

DEFERRED = ("scipy.stats", "altair")
_loading = threading.Lock()


class _Deferred(types.ModuleType):
    """Stands in sys.modules for a module not imported yet. `import x` and `from pkg import x` return it
    without loading (its __spec__ is its own attribute); reading any other attribute loads the module."""

    def __getattr__(self, attr: str):
        return getattr(load(self.__name__), attr)


def load(name: str) -> types.ModuleType:
    """The real module (imported now if it was deferred)."""
    with _loading:
        if isinstance(sys.modules.get(name), _Deferred):
            del sys.modules[name]
        module = importlib.import_module(name)
    parent, _, child = name.rpartition(".")
    if parent and isinstance(getattr(sys.modules.get(parent), child, None), _Deferred):
        setattr(sys.modules[parent], child, module)
    return module


def defer(name: str) -> None:
    if name in sys.modules:
        return
    placeholder = _Deferred(name)
    placeholder.__spec__ = importlib.machinery.ModuleSpec(name, None)
    sys.modules[name] = placeholder


for _name in DEFERRED:
    defer(_name)
