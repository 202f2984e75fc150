"""Steady memory allocation for the timing scripts.

glibc hands a freed block larger than its "mmap threshold" back to the
operating system, and the next allocation of that size pays a page fault per
4 KiB page as it first touches the memory. The threshold adapts to the sizes a
process frees, so whether a timed call pays depends on what ran before it, and the
same layer can take several times as long in one process as in the next. A
training loop reaches the steady state (freed blocks reused) after a few
steps; the benchmarks fix it from the start by setting the threshold
(and the trim threshold that returns the top of the heap) before Python
starts, which means re-executing the script once with them in the environment.
"""

import os
import sys

SETTINGS = {"MALLOC_MMAP_THRESHOLD_": str(32 * 2**20), "MALLOC_TRIM_THRESHOLD_": str(256 * 2**20)}


def steady_allocator():
    """Re-run this script with the allocator settings, unless they are set already."""
    if all(os.environ.get(k) == v for k, v in SETTINGS.items()):
        return
    os.environ.update(SETTINGS)
    os.execv(sys.executable, [sys.executable, *sys.argv])
