"""Sliding window against the same patch classifier run fully convolutionally, per image.

    .venv/bin/python benchmarks/segmentation.py                 # 32x32 and 64x64, patches 15 and 31, CPU
    .venv/bin/python benchmarks/segmentation.py --device cuda

The chapter *Semantic segmentation* asserts the arithmetic (deterministic) and
prints its own times; this script measures the times, on the course's kernels
and on PyTorch's, after checking that both forms give the same scores. The
issue's target: the fully convolutional form at least 10x faster per image at
equal patch size (exit status 1 if not, for every row).
"""

import argparse

import torch

from cnncourse import analysis, layers
from cnncourse import segmentation as seg
from cnncourse.timing import time_ms


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=(32, 64))
    parser.add_argument("--patches", type=int, nargs="+", default=(15, 31))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--target", type=float, default=10.0)
    args = parser.parse_args()
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, device {args.device}; "
          "patch classifier: unpadded 3x3 convolutions, widths 16..64 (seg.patch.default_widths), batch norm")
    print(f"{'size':>5} {'patch':>5} {'kernels':>8} {'window ms':>10} {'dense ms':>9} {'time x':>7} {'MACs x':>7}")
    slowest = float("inf")
    for size in args.sizes:
        image = torch.rand(1, 3, size, size, device=args.device)
        for patch in args.patches:
            net = seg.PatchClassifier(4, patch=patch, batch_norm=True).to(args.device).eval()
            dense = net.fully_convolutional().eval()
            macs = analysis.count_macs(net, (3, patch, patch)) * size**2 / analysis.count_macs(dense, (3, size, size))
            for kernels in ("torch", "scratch"):
                with torch.no_grad(), layers.use_kernels(kernels):
                    torch.testing.assert_close(seg.sliding_window(net, image), dense(image), atol=1e-4, rtol=1e-4)
                    window = time_ms(seg.sliding_window, net, image, repeat=3)
                    at_once = time_ms(dense, image, repeat=3)
                slowest = min(slowest, window / at_once)
                print(f"{size:5d} {patch:5d} {kernels:>8} {window:10.1f} {at_once:9.2f} {window / at_once:7.1f} "
                      f"{macs:7.1f}")
    print(f"smallest speed-up: {slowest:.1f}x (target {args.target:g}x)")
    raise SystemExit(0 if slowest >= args.target else 1)


if __name__ == "__main__":
    main()
