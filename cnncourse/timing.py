"""Wall-clock timing for the chapters and the benchmark scripts.

Speed claims in the course are measured, never asserted in unit tests: the
notebooks and ``benchmarks/`` time code with :func:`time_ms`.
"""

from __future__ import annotations

import statistics
import time

import torch
from torch import nn

from cnncourse.runtime import device_of


def _sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def time_ms(fn, *args, repeat: int = 5, min_time: float = 0.2, **kwargs) -> float:
    """Median milliseconds per call of ``fn(*args, **kwargs)``.

    One warm-up call, then ``repeat`` measurements, each of enough calls to
    last about ``min_time / repeat`` seconds. CUDA work is synchronised
    before the clock is read. When ``fn`` is a model (an ``nn.Module``), its
    tensor arguments are first moved to the model's device, so the copy is
    not timed and a CPU batch can time a GPU model.
    """
    if repeat < 1 or min_time < 0:
        raise ValueError(f"time_ms: repeat must be >= 1 and min_time >= 0; got {repeat}, {min_time}")
    if isinstance(fn, nn.Module):
        device = device_of(fn)
        args = tuple(a.to(device) if isinstance(a, torch.Tensor) else a for a in args)
        kwargs = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in kwargs.items()}

    def measure(number):
        _sync()
        start = time.perf_counter()
        for _ in range(number):
            fn(*args, **kwargs)
        _sync()
        return time.perf_counter() - start

    first = measure(1)  # warm-up, and a first estimate of the cost of one call
    number = max(1, int(min_time / repeat / max(first, 1e-9)))
    return statistics.median(measure(number) / number for _ in range(repeat)) * 1e3
