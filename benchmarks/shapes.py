"""Scenes per second from cnncourse.data.shapes, on one CPU core.

    .venv/bin/python benchmarks/shapes.py            # 64x64, 2000 scenes
    .venv/bin/python benchmarks/shapes.py --size 128

The target for 64x64 scenes is at least 500 per second.
"""

import argparse
import os
import time

import torch

from cnncourse.data import shapes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    torch.set_num_threads(1)
    dataset = shapes(n=args.n, size=args.size, seed=0)
    rates = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        for i in range(args.n):
            dataset[i]
        rates.append(args.n / (time.perf_counter() - start))
    objects = sum(len(dataset[i]["labels"]) for i in range(200)) / 200
    print(f"shapes {args.size}x{args.size}: {max(rates):.0f} scenes/s best of {args.repeat} "
          f"(runs: {', '.join(f'{r:.0f}' for r in rates)}), one core, {objects:.1f} objects per scene")


if __name__ == "__main__":
    main()
