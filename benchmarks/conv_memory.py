"""Peak extra memory of the course's conv2d against F.conv2d, on the registry's largest convolution.

    .venv/bin/python benchmarks/conv_memory.py              # batch 8, like benchmarks/kernels.py
    .venv/bin/python benchmarks/conv_memory.py --batch 32

im2col's columns hold k^2 copies of every pixel; ``layers.conv2d`` builds
them for a band of output rows at a time (``BAND_BYTES``), so the extra
memory should stay near the output's size whatever the layer. Each
function runs once, in inference, in a fresh process: the peak resident
memory (``ru_maxrss``) after the call minus the peak before it (input and
weights allocated) is what the call needed on top of its arguments,
output included.
"""

import argparse
import json
import subprocess
import sys

from cnncourse import models

from kernels import collect

CHILD = """
import json, resource, sys, torch, torch.nn.functional as F
from cnncourse import layers
shape, weight, settings, which = json.loads(sys.argv[1])
x, w = torch.randn(shape), torch.randn(weight)
fn = {"course": layers.conv2d, "torch": F.conv2d}[which]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with torch.no_grad():
    out = fn(x, w, **settings)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"extra_mb": (after - before) / 1024, "output_mb": out.numel() * 4 / 2**20}))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    convs = [c for c in collect(models.list_models(), args.batch) if c.kind == "conv2d"]

    def column_bytes(c):  # im2col's full column matrix, were it built at once
        return c.input[0] * c.input[1] * c.weight[2] * c.weight[3] * c.input[2] * c.input[3] * 4

    largest = max(convs, key=column_bytes)
    print(f"largest convolution: {largest.describe()}; its full im2col matrix would take "
          f"{column_bytes(largest) / 2**20:.0f} MB")
    for which in ("course", "torch"):
        job = json.dumps([largest.input, largest.weight, dict(largest.settings), which])
        result = json.loads(subprocess.run([sys.executable, "-c", CHILD, job], capture_output=True,
                                           text=True, check=True).stdout)
        print(f"  {which:<7} peak extra {result['extra_mb']:7.0f} MB (output {result['output_mb']:.0f} MB)")


if __name__ == "__main__":
    main()
