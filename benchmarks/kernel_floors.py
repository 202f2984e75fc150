"""What the course's depthwise and grouped convolutions cannot go below, against PyTorch's whole kernel.

    .venv/bin/python benchmarks/kernel_floors.py                  # the layers of mobilenet_v2 and resnext50_32x4d
    .venv/bin/python benchmarks/kernel_floors.py --models mobilenet_v1

For every depthwise and grouped layer of the networks (collected as
``benchmarks/kernels.py`` does), this times, in inference, PyTorch's
``F.conv2d`` and the course's ``conv2d``, and the parts of the course's
formulation that no amount of tuning removes, each on its own:

* ``taps``: a depthwise layer's k^2 multiply-adds of whole maps by one
  weight per channel, on contiguous output-sized maps (no shifts, no
  padding, no copies): the arithmetic of the sum over taps.
* ``phases``: a strided depthwise layer's split of the input into its
  phases, where :mod:`cnncourse.layers.depthwise` makes that split (the
  output is the input divided by the stride).
* ``columns``: a grouped layer's im2col copies, band by band as the
  course's ``conv2d`` makes them, before any matrix product.

A part that takes more than twice PyTorch's whole layer shows that the
formulation, written in PyTorch's tensor operations, cannot come within 2x
on that layer, whatever else is tuned.
"""

import argparse

import torch
import torch.nn.functional as F

from cnncourse import layers
from cnncourse.layers.conv import SMALL_MAP, _bands, _columns
from cnncourse.layers._args import conv_padding
from cnncourse.layers.depthwise import _phases, grid_taps
from cnncourse.timing import time_ms

from _allocator import steady_allocator
from kernels import collect


def best_ms(fn, rounds=3):
    return min(time_ms(fn, repeat=3, min_time=0.05) for _ in range(rounds))


def parts(config):
    """{name: function} of the parts timed for one layer (besides the two whole layers)."""
    settings = dict(config.settings)
    x = torch.randn(config.input)
    w = torch.randn(config.weight)
    out = F.conv2d(x, w, **settings)
    pads = conv_padding("kernel_floors", settings["padding"], config.weight[2:], settings["stride"],
                        settings["dilation"])
    found = {"torch": lambda: F.conv2d(x, w, **settings), "course": lambda: layers.conv2d(x, w, **settings)}
    if config.weight[1] == 1:  # depthwise
        maps, weights = torch.randn_like(out), torch.randn(1, out.shape[1], 1, 1)
        taps = config.weight[2] * config.weight[3]

        def tap_sum():
            total = maps * weights
            for _ in range(taps - 1):
                total.addcmul_(maps, weights)

        found["taps"] = tap_sum
        grid = grid_taps(x.shape[2:], config.weight[2:], settings["stride"], settings["dilation"], pads,
                         out.shape[2:])
        if settings["stride"] != (1, 1) and grid is not None:
            repeated = x.repeat_interleave(config.weight[0] // x.shape[1], dim=1)  # a channel multiplier
            found["phases"] = lambda: _phases(repeated, settings["stride"])
    else:
        padded = F.pad(x, pads)
        geometry = settings["stride"], settings["dilation"]
        together = out[0, 0].numel() <= SMALL_MAP  # as conv2d decides for grouped layers

        def columns():
            for _, _, rows in _bands(padded, w, *geometry, out.shape[2:]):
                _columns(padded[:, :, rows], w, *geometry, settings["groups"], together)

        found["columns"] = columns
    return found


def main():
    steady_allocator()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["mobilenet_v2", "resnext50_32x4d"])
    args = parser.parse_args()
    configs = [c for c in collect(args.models, 8) if c.kind == "conv2d" and dict(c.settings)["groups"] > 1]
    print(f"{len(configs)} grouped or depthwise layers, batch 8, torch {torch.__version__}, "
          f"{torch.get_num_threads()} CPU threads; inference, ratios to F.conv2d's whole layer")
    print(f"{'configuration':<62} {'torch ms':>8} {'course':>7} {'taps':>6} {'phases':>7} {'columns':>8}")
    with torch.no_grad():
        for config in sorted(configs, key=lambda c: c.describe()):
            torch.manual_seed(0)
            times = {name: best_ms(fn) for name, fn in parts(config).items()}
            ratios = {k: f"{times[k] / times['torch']:.2f}x" if k in times else "" for k in
                      ("course", "taps", "phases", "columns")}
            print(f"{config.describe()[:62]:<62} {times['torch']:8.2f} {ratios['course']:>7} {ratios['taps']:>6} "
                  f"{ratios['phases']:>7} {ratios['columns']:>8}", flush=True)


if __name__ == "__main__":
    main()
