"""Images made by gradient: what the methods cost per image and per step, in one run.

    .venv/bin/python benchmarks/synthesis.py              # one 64x64 image, CPU
    .venv/bin/python benchmarks/synthesis.py --steps 300 --size 128 --device cuda

1. Style transfer by optimisation (Gatys et al.: ``--steps`` L-BFGS steps of
   the pixels through the style chapter's loss network,
   ``viz.random_features()``) against one forward pass of a
   ``TransformNet`` (Johnson et al.; untrained here, the cost is the same):
   the speed-up of the feed-forward network per image.
2. ``viz.gradient_ascent`` per step, without regularisers and with all of
   them, against a bare autograd loop that takes the same normalised step
   on the same objective (a class logit of ``alexnet_mini``, seeded): the
   overhead of the objectives, the hooks and the regularisers.

All on PyTorch's kernels (``layers.use_kernels("torch")``): this compares
the methods, not the convolutions. Times are medians of
``cnncourse.timing.time_ms``.
"""

import argparse

import torch

import cnncourse
from cnncourse import layers, models, viz
from cnncourse.timing import time_ms

from _allocator import steady_allocator


def bare_ascent(model, x, target, steps, lr):
    """The same climb as viz.gradient_ascent without regularisers, written out."""
    x = x.clone()
    for _ in range(steps):
        x.requires_grad_(True)
        (grad,) = torch.autograd.grad(model(x)[:, target].sum(), x)
        with torch.no_grad():
            x = (x + lr * grad / grad.abs().mean(dim=(1, 2, 3), keepdim=True)).clamp(0, 1)
    return x


def main():
    steady_allocator()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--device", default=None, help="default: cnncourse.device()")
    args = parser.parse_args()
    layers.use_kernels("torch")
    device = torch.device(args.device) if args.device else cnncourse.device()
    cnncourse.seed_everything(0)
    image, style = torch.rand(2, 1, 3, args.size, args.size)
    print(f"one {args.size}x{args.size} image on {device}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} CPU threads\n")

    loss_net = viz.random_features().to(device)
    net = viz.TransformNet().to(device).eval()
    t_gatys = time_ms(lambda: viz.style_transfer(loss_net, image, style, content_layers=("c3",),
                                                 style_layers=("c1", "c2", "c3", "c4"), steps=args.steps),
                      repeat=3, min_time=0.0)
    with torch.no_grad():
        t_johnson = time_ms(net, image, min_time=1.0)
    print(f"{'style transfer, per image':<48}{'ms':>10}")
    print(f"{f'Gatys: {args.steps} L-BFGS steps, random_features':<48}{t_gatys:10.1f}")
    print(f"{'Johnson: one TransformNet forward':<48}{t_johnson:10.2f}")
    print(f"ratio {t_gatys / t_johnson:.0f}x\n")

    model = models.get("alexnet_mini", num_classes=3).to(device).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    steps = 20
    start = image.to(device)
    regularizers = [viz.L2Decay(0.01), viz.GaussianBlur(1.0, every=4), viz.ClipNorm(20),
                    viz.ClipContribution(20), viz.Jitter(2)]
    t_bare = time_ms(bare_ascent, model, start, 1, steps, 0.02, repeat=3, min_time=0.0) / steps
    t_plain = time_ms(lambda: viz.gradient_ascent(model, viz.ClassLogit(1), start, steps=steps, lr=0.02,
                                                  mean=0.0), repeat=3, min_time=0.0) / steps
    t_all = time_ms(lambda: viz.gradient_ascent(model, viz.ClassLogit(1), start, steps=steps, lr=0.02,
                                                regularizers=regularizers), repeat=3, min_time=0.0) / steps
    print(f"{'gradient ascent on alexnet_mini, per step':<48}{'ms':>10}{'ratio':>8}")
    print(f"{'bare autograd loop':<48}{t_bare:10.2f}{1:8.2f}")
    print(f"{'viz.gradient_ascent, no regulariser':<48}{t_plain:10.2f}{t_plain / t_bare:8.2f}")
    print(f"{'viz.gradient_ascent, all five regularisers':<48}{t_all:10.2f}{t_all / t_bare:8.2f}")


if __name__ == "__main__":
    main()
