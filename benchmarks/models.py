"""Forward time of cnncourse's architectures against torchvision's, same weights, CPU.

    .venv/bin/python benchmarks/models.py                 # the five of the kernels issue, batch 8, 224x224
    .venv/bin/python benchmarks/models.py --batch 1 --models resnet18

Both models hold the same weights (torchvision's state_dict loaded strictly);
outputs are compared before timing with cnncourse.timing.time_ms. The
cnncourse model is timed twice: on the course's from-scratch kernels (im2col
convolution, ...) and on PyTorch's (``layers.use_kernels("torch")``), which
isolates the cost of the architecture code from the cost of the kernels.
"""

import argparse

import torch
import torchvision

from cnncourse import layers, models
from cnncourse.timing import time_ms

from _allocator import steady_allocator


def main():
    steady_allocator()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+",
                        default=["resnet50", "densenet121", "mobilenet_v2", "googlenet", "vgg16"])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    torch.manual_seed(0)
    x = torch.randn(args.batch, 3, args.size, args.size)
    print(f"input {tuple(x.shape)}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    for name in args.models:
        reference = getattr(torchvision.models, name)().eval()
        ours = models.get(name).eval()
        ours.load_state_dict(reference.state_dict(), strict=True)
        with torch.no_grad():
            torch.testing.assert_close(ours(x[:1]), reference(x[:1]), atol=1e-2, rtol=1e-2)
            # Interleave the three so that the machine's drift (other jobs, clock
            # changes) hits all of them alike; report the best round of each.
            times = {"torchvision": [], "scratch": [], "torch": []}
            for _ in range(args.rounds):
                times["torchvision"].append(time_ms(reference, x, repeat=1, min_time=2.0))
                for kernels in ("scratch", "torch"):
                    with layers.use_kernels(kernels):
                        times[kernels].append(time_ms(ours, x, repeat=1, min_time=2.0))
        t_ref = min(times["torchvision"])
        for kernels in ("scratch", "torch"):
            t_ours = min(times[kernels])
            print(f"  {name:<12} cnncourse ({kernels:>7} kernels) {t_ours:8.1f} ms   "
                  f"torchvision {t_ref:8.1f} ms   ratio {t_ours / t_ref:.2f}x")


if __name__ == "__main__":
    main()
