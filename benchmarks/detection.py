"""The detection ops against torchvision's: NMS on 2,000 boxes, RoIAlign and RoIPool on 512 RoIs.

    .venv/bin/python benchmarks/detection.py
    .venv/bin/python benchmarks/detection.py --device cuda

Each row first checks that ours and torchvision's agree on the inputs it
times. The boxes are 2,000 proposals of a 800x800 image (random corners and
sizes from 16 to 256 pixels, many overlapping), the feature map a stride-16
map of that image, (1, 256, 50, 50), with 512 RoIs, 7x7 outputs and
sampling ratio 2 (Mask R-CNN's box head). Targets: ``nms`` within 3x of
torchvision's time, ``roi_align`` within 5x (exit status 1 if either is
missed); ``nms_loop``, the rule as written, and ``roi_pool`` are shown too.
"""

import argparse

import torch
import torchvision.ops as tv

from cnncourse import detection as det
from cnncourse.timing import time_ms

TARGETS = {"nms": 3.0, "roi_align": 5.0}


def proposals(n, image, device, g):
    corner = torch.rand(n, 2, generator=g) * (image - 16)
    size = 16 + torch.rand(n, 2, generator=g) * 240
    return torch.cat([corner, (corner + size).clamp(max=image)], 1).to(device)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--boxes", type=int, default=2000)
    parser.add_argument("--rois", type=int, default=512)
    args = parser.parse_args()
    g = torch.Generator().manual_seed(0)
    boxes, scores = proposals(args.boxes, 800, args.device, g), torch.rand(args.boxes, generator=g).to(args.device)
    features = torch.randn(1, 256, 50, 50, generator=g).to(args.device)
    rois = torch.cat([torch.zeros(args.rois, 1, device=args.device), proposals(args.rois, 800, args.device, g)], 1)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, device {args.device}; "
          f"{args.boxes} boxes for NMS (IoU 0.7), {args.rois} RoIs on a {tuple(features.shape)} map, 7x7, scale 1/16")
    rows = {
        "nms": (det.nms, tv.nms, (boxes, scores, 0.7)),
        "nms_loop": (det.nms_loop, tv.nms, (boxes, scores, 0.7)),
        "roi_align": (det.roi_align, tv.roi_align, (features, rois, 7, 1 / 16, 2, True)),
        "roi_pool": (det.roi_pool, tv.roi_pool, (features, rois, 7, 1 / 16)),
    }
    print(f"{'op':>10} {'ours ms':>9} {'torchvision ms':>15} {'ratio':>6} {'target':>7}")
    missed = []
    for name, (ours, reference, inputs) in rows.items():
        expected = reference(*inputs)
        if name.startswith("nms"):
            assert torch.equal(ours(*inputs), expected), name
        else:
            torch.testing.assert_close(ours(*inputs), expected, atol=1e-4, rtol=1e-4)
        mine, theirs = time_ms(ours, *inputs, repeat=5), time_ms(reference, *inputs, repeat=5)
        target = TARGETS.get(name)
        missed += [name] if target is not None and mine / theirs > target else []
        print(f"{name:>10} {mine:9.2f} {theirs:15.2f} {mine / theirs:6.1f} "
              f"{f'{target:g}x' if target else '-':>7}")
    print("targets met" if not missed else f"targets missed: {missed}")
    raise SystemExit(1 if missed else 0)


if __name__ == "__main__":
    main()
