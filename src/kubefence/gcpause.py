"""Pausing Python's cycle collector while building many small objects that form no cycles.

Parsing a large cluster's manifests or reading a large flow log allocates millions of dicts, tuples
and lists, all of them alive. Each burst of allocations triggers the collector, which walks every
tracked object again; pausing it for the phase cuts its time by up to a third. Reference counting still frees
everything as usual; only cyclic garbage waits until the pause ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Pause the cycle collector for the block (nested pauses end with the outermost)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
