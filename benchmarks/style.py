"""Style transfer by optimisation (Gatys et al.) against one forward pass of a trained TransformNet (Johnson et al.).

    .venv/bin/python benchmarks/style.py                  # 100 L-BFGS steps, one 64x64 image, CPU
    .venv/bin/python benchmarks/style.py --steps 300 --size 128 --device cuda

Gatys et al.'s method optimises the pixels of every image: ``--steps``
forward and backward passes of the loss network (``alexnet_mini`` with the
zoo's widths, seeded, untrained: the time does not depend on the weights).
Johnson et al.'s pays for training once, then stylises an image in one
forward pass of a ``TransformNet`` (untrained here, same cost). Both are
timed per image with cnncourse.timing.time_ms, on PyTorch's kernels
(``layers.use_kernels("torch")``): this compares the methods, not the
convolutions. The ratio is the speed-up of the feed-forward network.
"""

import argparse

import torch

import cnncourse
from cnncourse import layers, models
from cnncourse.timing import time_ms
from cnncourse.viz.fast_style import TransformNet
from cnncourse.viz.style import style_transfer

from _allocator import steady_allocator


def main():
    steady_allocator()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--optimizer", default="lbfgs", choices=["lbfgs", "adam"])
    parser.add_argument("--device", default=None, help="default: cnncourse.device()")
    args = parser.parse_args()
    layers.use_kernels("torch")
    device = torch.device(args.device) if args.device else cnncourse.device()
    cnncourse.seed_everything(0)
    loss_model = models.get("alexnet_mini", num_classes=3, widths=models.alexnet.AlexNetMini.WIDTHS).to(device)
    net = TransformNet().to(device).eval()
    content, style = torch.rand(2, 1, 3, args.size, args.size)
    print(f"one {args.size}x{args.size} image on {device}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} CPU threads")
    t_gatys = time_ms(lambda: style_transfer(loss_model, content, style, steps=args.steps, optimizer=args.optimizer),
                      repeat=3, min_time=0.0)
    with torch.no_grad():
        t_johnson = time_ms(net, content, min_time=1.0)
    print(f"{'method':<44}{'per image':>12}")
    print(f"{f'Gatys: {args.steps} {args.optimizer} steps on alexnet_mini':<44}{t_gatys:10.1f}ms")
    print(f"{'Johnson: one TransformNet forward':<44}{t_johnson:10.2f}ms")
    print(f"ratio {t_gatys / t_johnson:.0f}x ({t_gatys / args.steps:.2f} ms per optimisation step)")


if __name__ == "__main__":
    main()
