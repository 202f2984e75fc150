"""Max pooling, one pass per kernel tap (cnncourse) vs torch.nn.functional.max_pool2d.

    .venv/bin/python benchmarks/pooling.py        # (8, 64, 112, 112), 2x2/2 and 3x3/2, CPU

Timed with cnncourse.timing.time_ms, after checking the results against PyTorch:
inference (no gradient: a running maximum, no argmax), forward with
the argmax indices (what training and unpooling need), and forward+backward
through the hand-written backward.
"""

import argparse

import torch
import torch.nn.functional as F

from cnncourse.layers import max_pool2d
from cnncourse.timing import time_ms


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", type=int, nargs=4, default=(8, 64, 112, 112))
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.manual_seed(0)
    x = torch.randn(*args.shape, device=args.device)
    print(f"input {tuple(x.shape)} on {args.device}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    for kernel, stride, padding in [(2, 2, 0), (3, 2, 1)]:
        torch.testing.assert_close(max_pool2d(x, kernel, stride, padding), F.max_pool2d(x, kernel, stride, padding))
        xg = x.clone().requires_grad_()

        def train_step(fn):
            fn(xg, kernel, stride, padding).sum().backward()

        t = {
            "cnncourse forward": time_ms(max_pool2d, x, kernel, stride, padding, min_time=2.0),
            "F.max_pool2d forward": time_ms(F.max_pool2d, x, kernel, stride, padding, min_time=2.0),
            "cnncourse +indices": time_ms(max_pool2d, x, kernel, stride, padding, return_indices=True, min_time=2.0),
            "F.max_pool2d +indices": time_ms(F.max_pool2d, x, kernel, stride, padding, return_indices=True, min_time=2.0),
            "cnncourse fwd+bwd": time_ms(train_step, max_pool2d, min_time=2.0),
            "F.max_pool2d fwd+bwd": time_ms(train_step, F.max_pool2d, min_time=2.0),
        }
        print(f"kernel {kernel}, stride {stride}, padding {padding}:")
        for name, ms in t.items():
            print(f"  {name:<22} {ms:8.2f} ms")
        print(f"  ratio forward {t['cnncourse forward'] / t['F.max_pool2d forward']:.2f}x, "
              f"with indices {t['cnncourse +indices'] / t['F.max_pool2d +indices']:.2f}x, "
              f"forward+backward {t['cnncourse fwd+bwd'] / t['F.max_pool2d fwd+bwd']:.2f}x")


if __name__ == "__main__":
    main()
