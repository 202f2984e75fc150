"""Attribution methods of cnncourse.viz against Captum's, on the zoo's trained network.

    .venv/bin/python benchmarks/attribution.py               # batch of 32 scenes, CPU
    .venv/bin/python benchmarks/attribution.py --batch 8 --device cuda

Each method runs on the same batch with the same targets (the true classes)
on ``zoo.load("alexnet_shapes")`` (trained on first use, then cached); the
results are checked equal (within 1e-4) before timing, and each is timed
with cnncourse.timing.time_ms (median of 5). The network runs PyTorch's
kernels for both (``layers.use_kernels("torch")``): this compares the
attribution code, not the convolutions. A ratio above 2 is flagged.
"""

import argparse
import warnings

import torch
from captum.attr import Deconvolution, GuidedBackprop, LayerGradCam, Occlusion, Saliency

import cnncourse
from cnncourse import data, layers, viz, zoo
from cnncourse.timing import time_ms


def methods(model, x, target, window, stride):
    """Name -> (ours, Captum's), each a no-argument call returning comparable tensors."""
    c5 = model.c5
    return {
        "saliency": (lambda: viz.saliency(model, x, target),
                     lambda: Saliency(model).attribute(x, target=target).amax(dim=1)),
        "guided backprop": (lambda: viz.guided_backprop(model, x, target),
                            lambda: GuidedBackprop(model).attribute(x, target=target)),
        "DeconvNet": (lambda: viz.deconvnet(model, x, target),
                      lambda: Deconvolution(model).attribute(x, target=target)),
        "Grad-CAM (c5)": (lambda: viz.grad_cam(model, "c5", x, target),
                          lambda: LayerGradCam(model, c5).attribute(x, target=target, relu_attributions=True)[:, 0]),
        f"occlusion {window}/{stride}": (
            lambda: viz.occlusion(model, x, target, window=window, stride=stride),
            lambda: Occlusion(model).attribute(x, target=target, sliding_window_shapes=(3, window, window),
                                               strides=(3, stride, stride), perturbations_per_eval=64)),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--window", type=int, default=12)
    parser.add_argument("--stride", type=int, default=4)
    parser.add_argument("--device", default=None, help="default: cnncourse.device()")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=UserWarning, module="captum")
    layers.use_kernels("torch")
    cnncourse.seed_everything(0)
    model = zoo.load("alexnet_shapes", device=args.device)
    device = cnncourse.device_of(model)
    scenes = data.single_objects(args.batch, seed=11)
    x, target = scenes.images.to(device), scenes.labels.to(device)
    print(f"alexnet_shapes on {device}, batch {tuple(x.shape)}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} CPU threads")
    print(f"{'method':<20}{'cnncourse':>12}{'Captum':>12}{'ratio':>8}")
    worst = 0.0
    for name, (ours, theirs) in methods(model, x, target, args.window, args.stride).items():
        torch.testing.assert_close(ours().cpu(), theirs().detach().cpu(), atol=1e-4, rtol=1e-4)
        t_ours, t_theirs = time_ms(ours, min_time=1.0), time_ms(theirs, min_time=1.0)
        ratio = t_ours / t_theirs
        worst = max(worst, ratio)
        flag = "  OVER 2x" if ratio > 2 else ""
        print(f"{name:<20}{t_ours:10.1f}ms{t_theirs:10.1f}ms{ratio:7.2f}x{flag}")
    print(f"largest ratio {worst:.2f}x")


if __name__ == "__main__":
    main()
