"""The garbage collector's settings for processes that render: an engine concern, shared by both engines."""

from __future__ import annotations

import gc
from contextlib import contextmanager

# Rendering allocates millions of small tuples that all live until the sample is written: at Python's
# default gen-0 threshold of 700 the collector ran ~1,100 times in a 5,449-frame run and took 5-7% of it
# (measured with gc.callbacks); at 10,000, 20 times and under 1%.
COLLECTOR_THRESHOLDS = (10_000, 10, 10)


def tune_collector() -> tuple[int, int, int]:
    """Collect cyclic garbage less often while rendering, objects made before the run frozen (never scanned); the thresholds before.

    A process that froze objects itself (a pre-fork server) keeps its own freeze: unfreezing later would thaw them too.
    """
    before = gc.get_threshold()
    if gc.get_freeze_count() == 0:
        gc.freeze()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
    return before


@contextmanager
def rendering_collector():
    """`tune_collector` for a block, the caller's settings restored afterwards (`synth()` from Python leaves its process as it was)."""
    frozen_by_caller = gc.get_freeze_count() > 0
    before = tune_collector()
    try:
        yield
    finally:
        gc.set_threshold(*before)
        if not frozen_by_caller:
            gc.unfreeze()
