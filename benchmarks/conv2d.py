"""Loops vs the course's conv2d vs torch.nn.functional.conv2d, on one realistic layer.

    .venv/bin/python benchmarks/conv2d.py                # (8, 64, 56, 56) x (64, 64, 3, 3), CPU
    .venv/bin/python benchmarks/conv2d.py --device cuda
    .venv/bin/python benchmarks/conv2d.py --groups 32 --shape 8 128 28 28 --filters 128   # ResNeXt's 3x3
    .venv/bin/python benchmarks/conv2d.py --groups 256 --shape 8 256 28 28 --filters 256  # depthwise

The loops run once (they take seconds; ungrouped only); the others are timed with
cnncourse.timing.time_ms. All three results are checked against each other.
``layers.conv2d`` picks its formulation by shape: im2col for most layers, one
matrix product per image for 1x1, a sum over the kernel's taps for depthwise
(``groups`` = channels). ``benchmarks/kernels.py`` times every layer of the
course's networks.
"""

import argparse

import torch
import torch.nn.functional as F

from cnncourse.layers import conv2d, conv2d_loops
from cnncourse.timing import time_ms


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", type=int, nargs=4, default=(8, 64, 56, 56), help="input N C H W")
    parser.add_argument("--filters", type=int, default=64)
    parser.add_argument("--kernel", type=int, default=3)
    parser.add_argument("--groups", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--skip-loops", action="store_true")
    args = parser.parse_args()

    torch.manual_seed(0)
    x = torch.randn(*args.shape, device=args.device)
    w = torch.randn(args.filters, args.shape[1] // args.groups, args.kernel, args.kernel, device=args.device)
    pad, groups = args.kernel // 2, args.groups
    reference = F.conv2d(x, w, padding=pad, groups=groups)
    torch.testing.assert_close(conv2d(x, w, padding=pad, groups=groups), reference, atol=1e-3, rtol=1e-4)

    print(f"input {tuple(x.shape)} * weight {tuple(w.shape)}, padding {pad}, groups {groups}, on {args.device}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    times = {}
    if not args.skip_loops and groups == 1:
        times["loops"] = time_ms(conv2d_loops, x, w, padding=pad, repeat=1, min_time=0)
        torch.testing.assert_close(conv2d_loops(x[:1], w, padding=pad), reference[:1], atol=1e-3, rtol=1e-4)
    times["conv2d"] = time_ms(conv2d, x, w, padding=pad, groups=groups, min_time=2.0)
    times["F.conv2d"] = time_ms(F.conv2d, x, w, padding=pad, groups=groups, min_time=2.0)
    for name, ms in times.items():
        print(f"  {name:<9} {ms:12.2f} ms   {ms / times['F.conv2d']:8.2f}x F.conv2d")


if __name__ == "__main__":
    main()
