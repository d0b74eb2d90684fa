"""Pausing Python's cycle collector while building many small objects that form no cycles.

Reading a large flow log allocates millions of tuples and lists (rows, then flows). Each allocation
burst triggers the collector, which walks every tracked object, all of them alive; pausing it for
the burst cuts the time of such a phase by about a third. Reference counting still frees
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
