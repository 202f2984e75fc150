"""Forward time of cnncourse's architectures against torchvision's, same weights, CPU.

    .venv/bin/python benchmarks/models.py                 # resnet50 and densenet121, batch 8, 224x224
    .venv/bin/python benchmarks/models.py --batch 1 --models resnet18

Both models hold the same weights (torchvision's state_dict loaded strictly);
outputs are compared before timing with cnncourse.timing.time_ms.
"""

import argparse

import torch
import torchvision

from cnncourse import models
from cnncourse.timing import time_ms


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["resnet50", "densenet121"])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--size", type=int, default=224)
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
            t_ours = time_ms(ours, x, repeat=3, min_time=3.0)
            t_ref = time_ms(reference, x, repeat=3, min_time=3.0)
        print(f"  {name:<12} cnncourse {t_ours:9.1f} ms   torchvision {t_ref:9.1f} ms   ratio {t_ours / t_ref:.2f}x")


if __name__ == "__main__":
    main()
