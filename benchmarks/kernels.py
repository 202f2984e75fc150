"""Every convolution and pooling layer of the registry's networks: course kernel vs PyTorch's.

    .venv/bin/python benchmarks/kernels.py                     # every network, batch 8
    .venv/bin/python benchmarks/kernels.py --models mobilenet_v2 resnext50_32x4d
    .venv/bin/python benchmarks/kernels.py --kinds conv2d --worst 20 --csv kernels.csv

The layers are collected by running each network of ``models.list_models()``
once on the meta device (shapes only) at batch 8 and the network's native
resolution (``input_size`` in the registry), with a hook on every module that
the course computes with its own kernels (``Conv2d``, ``ConvTranspose2d``,
``MaxPool2d``, ``AvgPool2d``, ...). Each distinct configuration (input shape,
kernel, stride, padding, dilation, groups, ...) is then timed once on random
data: the course's function against ``torch.nn.functional``'s, in inference
(forward under ``no_grad``) and in training (forward + backward to the input
and the weights). The results are checked equal before timing. The table
lists every configuration; the summary, the worst ratios.
"""

from __future__ import annotations

import argparse
import csv
import functools
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from cnncourse import layers, models
from cnncourse.models.lenet import Subsampling
from cnncourse.models.registry import get_entry
from cnncourse.timing import time_ms

from _allocator import steady_allocator


@dataclass(frozen=True)
class Config:
    """One layer's computation: which function, on what input shape, with which settings."""

    kind: str
    input: tuple[int, ...]  # (N, C, H, W) or (N, C, L)
    weight: tuple[int, ...] | None  # None for pooling
    bias: bool
    settings: tuple[tuple[str, object], ...]  # keyword arguments of the functional form

    def describe(self):
        shown = {k: v for k, v in self.settings if v not in (0, 1, (0, 0), (1, 1), False, None)}
        weight = f" w{list(self.weight)}{' +bias' if self.bias else ''}" if self.weight else ""
        return f"{list(self.input)}{weight} " + " ".join(f"{k}={v}" for k, v in shown.items())


def _conv(module, x):
    settings = dict(stride=module.stride, padding=module.padding, dilation=module.dilation, groups=module.groups)
    return tuple(module.weight.shape), module.bias is not None, settings


def _conv_transpose(module, x):
    output_padding = module._output_padding(x, None, module.stride, module.padding, module.kernel_size, 2,
                                            module.dilation)
    settings = dict(stride=module.stride, padding=module.padding, output_padding=tuple(output_padding),
                    groups=module.groups, dilation=module.dilation)
    return tuple(module.weight.shape), module.bias is not None, settings


def _max_pool(module, x):
    return None, False, dict(kernel_size=module.kernel_size, stride=module.stride, padding=module.padding,
                             dilation=module.dilation, ceil_mode=module.ceil_mode)


def _avg_pool(module, x):
    settings = dict(kernel_size=module.kernel_size, stride=module.stride, padding=module.padding)
    if isinstance(module, layers.AvgPool2d):
        settings.update(ceil_mode=module.ceil_mode, count_include_pad=module.count_include_pad)
    return None, False, settings


# module class -> (kind, settings reader); the kind names the functional pair below
MODULES = {
    layers.Conv2d: ("conv2d", _conv),
    layers.Conv1d: ("conv1d", _conv),
    layers.ConvTranspose2d: ("conv_transpose2d", _conv_transpose),
    layers.MaxPool2d: ("max_pool2d", _max_pool),
    layers.AvgPool2d: ("avg_pool2d", _avg_pool),
    Subsampling: ("avg_pool2d", _avg_pool),  # LeNet-5's trainable subsampling averages 2x2 blocks
}
FUNCTIONS = {  # kind -> (course, PyTorch)
    "conv2d": (layers.conv2d, F.conv2d),
    "conv1d": (layers.conv1d, F.conv1d),
    "conv_transpose2d": (layers.conv_transpose2d, F.conv_transpose2d),
    "max_pool2d": (layers.max_pool2d, F.max_pool2d),
    "avg_pool2d": (layers.avg_pool2d, F.avg_pool2d),
}


def collect(names, batch):
    """{Config: [network names]} for every course-computed layer of the networks ``names``."""
    found = {}
    for name in names:
        size = get_entry(name).input_size
        with torch.device("meta"):
            model = models.get(name).eval()
        channels = next(m for m in model.modules() if isinstance(m, (layers.Conv2d, layers.Conv1d))).in_channels

        def hook(module, args, output, name=name):
            kind, read = MODULES[type(module)]
            weight, bias, settings = read(module, args[0])
            config = Config(kind, tuple(args[0].shape), weight, bias, tuple(settings.items()))
            found.setdefault(config, [])
            if name not in found[config]:
                found[config].append(name)

        handles = [m.register_forward_hook(hook) for m in model.modules() if type(m) in MODULES]
        with torch.no_grad():
            model(torch.empty(batch, channels, size, size, device="meta"))
        for handle in handles:
            handle.remove()
    return found


def measure(config, min_time, rounds):
    """Milliseconds of the course's and PyTorch's function: inference, forward + backward.

    Weights require grad in both modes, as a model's parameters do (some
    PyTorch routines take another path for them even under ``no_grad``).
    The two functions are timed in alternation, ``rounds`` times, and the best
    of each is kept, so that a slow moment of the machine hits both alike.
    """
    ours, reference = FUNCTIONS[config.kind]
    torch.manual_seed(0)
    tensors = [torch.randn(config.input)]
    if config.weight:
        tensors.append(torch.randn(config.weight) / (config.weight[1] * config.weight[2]) ** 0.5)
        if config.bias:
            tensors.append(torch.randn(config.weight[0] if config.kind != "conv_transpose2d"
                                       else config.weight[1] * dict(config.settings)["groups"]))
    settings = dict(config.settings)
    params = [tensors[0]] + [t.requires_grad_() for t in tensors[1:]]
    with torch.no_grad():
        expected = reference(*params, **settings)
        torch.testing.assert_close(ours(*params, **settings), expected, atol=1e-3, rtol=1e-3)
    grad = torch.randn_like(expected)
    leaves = [t.detach().clone().requires_grad_() for t in tensors]

    def train(fn):
        for leaf in leaves:
            leaf.grad = None
        fn(*leaves, **settings).backward(grad)

    @torch.no_grad()
    def infer(fn):
        fn(*params, **settings)

    times = {}
    for _ in range(rounds):
        for mode, step in (("forward", infer), ("fwd+bwd", train)):
            for who, fn in (("course", ours), ("torch", reference)):
                call = functools.partial(step, fn)
                # a slow layer (bagnet's 1x1 at 26x26 takes half a second) is timed once per round
                repeat = 1 if times.get((mode, who), 0) > 50 else 3
                ms = time_ms(call, repeat=repeat, min_time=min_time / rounds)
                times[mode, who] = min(times.get((mode, who), ms), ms)
    return times


def main():
    steady_allocator()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=None, help="registry names (default: all)")
    parser.add_argument("--kinds", nargs="+", default=sorted(FUNCTIONS), choices=sorted(FUNCTIONS))
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--min-time", type=float, default=0.2, help="seconds per timing, over all rounds")
    parser.add_argument("--rounds", type=int, default=2, help="alternations of the two functions; the best counts")
    parser.add_argument("--worst", type=int, default=10, help="rows in the summary of worst ratios")
    parser.add_argument("--csv", help="also write every row to this CSV file")
    args = parser.parse_args()

    names = args.models or models.list_models()
    found = {c: n for c, n in collect(names, args.batch).items() if c.kind in args.kinds}
    print(f"{len(found)} distinct layers in {len(names)} networks, batch {args.batch}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} CPU threads; times in ms, ratio = course / PyTorch")
    header = f"{'kind':<17} {'configuration':<64} {'fwd':>8} {'ratio':>6} {'fwd+bwd':>8} {'ratio':>6}  networks"
    print(header)
    rows = []
    for config in sorted(found, key=lambda c: (c.kind, c.describe())):
        t = measure(config, args.min_time, args.rounds)
        row = dict(kind=config.kind, configuration=config.describe(),
                   forward_ms=t["forward", "course"], forward_ratio=t["forward", "course"] / t["forward", "torch"],
                   train_ms=t["fwd+bwd", "course"], train_ratio=t["fwd+bwd", "course"] / t["fwd+bwd", "torch"],
                   networks=" ".join(found[config]))
        rows.append(row)
        first = found[config][0] + (f" +{len(found[config]) - 1}" if len(found[config]) > 1 else "")
        print(f"{row['kind']:<17} {row['configuration'][:64]:<64} {row['forward_ms']:8.2f} "
              f"{row['forward_ratio']:5.2f}x {row['train_ms']:8.2f} {row['train_ratio']:5.2f}x  {first}", flush=True)
    for key, limit, label in (("forward_ratio", 2.0, "inference"), ("train_ratio", 3.0, "forward + backward")):
        worst = sorted(rows, key=lambda r: -r[key])
        over = sum(r[key] > limit for r in rows)
        print(f"\nworst {label} ratios ({over} of {len(rows)} layers above {limit:.0f}x):")
        for r in worst[: args.worst]:
            print(f"  {r[key]:6.2f}x  {r['kind']:<17} {r['configuration']}  ({r['networks'].split()[0]})")
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


if __name__ == "__main__":
    main()
