"""Rendered room views per second from cnncourse.data.rooms, on one CPU core.

    .venv/bin/python benchmarks/render.py             # 64x64, 512 views
    .venv/bin/python benchmarks/render.py --size 128 --target 0

Two ways in: ``rooms(...)[i]``, one camera per call (what a DataLoader does),
and ``room_tensors(...)``, cameras rendered in batches. The target for 64x64
views is at least 200 per second each way; the script exits with status 1 if
either rate is below ``--target``.
"""

import argparse
import os
import sys
import time

import torch

from cnncourse.data.rooms import room_tensors, rooms


def best_rate(fn, n, repeat):
    """The best of ``repeat`` runs of ``fn()``, as ``n`` views per second, and every run's rate."""
    rates = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        rates.append(n / (time.perf_counter() - start))
    return max(rates), rates


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("-n", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--target", type=float, default=200.0, help="images per second, each way")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    torch.set_num_threads(1)
    views = rooms(n=args.n, size=args.size, seed=0)
    views[0]  # warm up: textures, pixel grid
    results = {
        "rooms(...)[i], one camera": best_rate(lambda: [views[i] for i in range(args.n)], args.n, args.repeat),
        "room_tensors(...), batched": best_rate(lambda: room_tensors(n=args.n, size=args.size, seed=0),
                                                args.n, args.repeat),
    }
    print(f"room views {args.size}x{args.size}, one core, torch {torch.__version__}, best of {args.repeat}:")
    for name, (best, rates) in results.items():
        print(f"  {name:<28} {best:8.0f} images/s   (runs: {', '.join(f'{r:.0f}' for r in rates)})")
    slow = [name for name, (best, _) in results.items() if best < args.target]
    if slow:
        print(f"below the target of {args.target:.0f} images/s: {', '.join(slow)}")
        sys.exit(1)
    print(f"target of {args.target:.0f} images/s met")


if __name__ == "__main__":
    main()
