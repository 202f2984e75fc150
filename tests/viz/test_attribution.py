"""The attribution methods against Captum, on random small networks (in-place ReLUs, max pooling,
batch norm, a residual addition), values within 1e-5; batched results equal per-image ones."""

import pytest
import torch
from captum.attr import Deconvolution, GuidedBackprop, LayerGradCam, Occlusion, Saliency
from torch import nn

from cnncourse import models, viz


class Residual(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)
        self.bn = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(x + self.bn(self.conv(x)))


def small_net(seed, classes=5):
    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Conv2d(3, 8, 5, padding=2), nn.BatchNorm2d(8), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        Residual(8), nn.Conv2d(8, 12, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(12, classes),
    )
    for m in net.modules():  # batch norm with statistics of its own, as after training
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    return net.eval()


CASES = [(seed, shape) for seed, shape in [(0, (3, 3, 16, 16)), (1, (2, 3, 20, 12)), (2, (4, 3, 12, 12))]]


def inputs(seed, shape):
    torch.manual_seed(100 + seed)
    return torch.randn(shape), torch.randint(0, 5, (shape[0],))


@pytest.mark.parametrize("seed, shape", CASES)
def test_gradient_and_saliency_are_the_autograd_gradient(seed, shape):
    net = small_net(seed)
    x, target = inputs(seed, shape)
    expected = Saliency(net).attribute(x, target=target, abs=False)
    torch.testing.assert_close(viz.gradient(net, x, target), expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(viz.saliency(net, x, target), expected.abs().amax(dim=1), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("method, reference", [(viz.guided_backprop, GuidedBackprop), (viz.deconvnet, Deconvolution)])
@pytest.mark.parametrize("seed, shape", CASES)
def test_modified_relu_backprop_equals_captum(method, reference, seed, shape):
    net = small_net(seed)
    x, target = inputs(seed, shape)
    expected = reference(net).attribute(x, target=target)
    ours = method(net, x, target)
    torch.testing.assert_close(ours, expected, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(ours, viz.gradient(net, x, target), atol=1e-4)  # the rule changed something
    for i in range(len(x)):  # batched = per image
        torch.testing.assert_close(method(net, x[i:i + 1], int(target[i])), ours[i:i + 1], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("window, stride, baseline", [(4, 2, 0.0), (5, 3, 0.5), ((3, 6), (2, 4), -1.0)])
@pytest.mark.parametrize("seed, shape", CASES)
def test_occlusion_equals_captum(window, stride, baseline, seed, shape):
    net = small_net(seed)
    x, target = inputs(seed, shape)
    w = (window, window) if isinstance(window, int) else window
    s = (stride, stride) if isinstance(stride, int) else stride
    expected = Occlusion(net).attribute(x, sliding_window_shapes=(shape[1], *w), strides=(shape[1], *s),
                                        baselines=baseline, target=target)
    ours = viz.occlusion(net, x, target, window=window, stride=stride, baseline=baseline, batch_size=7)
    torch.testing.assert_close(ours, expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("layer", ["3", "4", "6"])
@pytest.mark.parametrize("seed, shape", CASES)
def test_grad_cam_equals_captum_with_relu(layer, seed, shape):
    net = small_net(seed)
    x, target = inputs(seed, shape)
    expected = LayerGradCam(net, dict(net.named_modules())[layer]).attribute(x, target=target, relu_attributions=True)
    ours = viz.grad_cam(net, layer, x, target)
    torch.testing.assert_close(ours, expected[:, 0], atol=1e-5, rtol=1e-5)
    for i in range(len(x)):
        torch.testing.assert_close(viz.grad_cam(net, layer, x[i:i + 1], int(target[i])), ours[i:i + 1],
                                   atol=1e-5, rtol=1e-5)


def test_cam_is_grad_cam_times_the_positions_for_a_global_pooling_network():
    net = small_net(3)
    x, target = inputs(3, (3, 3, 16, 16))
    ours = viz.cam(net, "7", x, target)  # the last maps, 4x4, globally pooled into the classifier
    torch.testing.assert_close(viz.grad_cam(net, "7", x, target, relu=False) * 16, ours, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("pool", ["max", "avg"])
def test_cam_is_grad_cam_times_the_positions_with_global_max_or_average_pooling(pool):
    torch.manual_seed(5)
    net = models.alexnet.AlexNetMini(num_classes=3, widths=(4, 6, 8, 8, 8), pool=pool).eval()
    x, target = torch.randn(2, 3, 32, 32), torch.tensor([0, 2])
    ours = viz.cam(net, "c5", x, target)  # (2, 4, 4)
    torch.testing.assert_close(viz.grad_cam(net, "c5", x, target, relu=False) * 16, ours, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("window, stride, baseline", [(4, 2, 0.0), ((5, 3), (3, 2), 0.5)])
def test_occlusion_map_is_the_probability_with_the_square_at_each_fitting_position(window, stride, baseline):
    net = small_net(6).eval()
    x, target = inputs(6, (2, 3, 13, 11))
    (wh, ww), (sh, sw) = [(v, v) if isinstance(v, int) else v for v in (window, stride)]
    rows, cols = (13 - wh) // sh + 1, (11 - ww) // sw + 1
    expected = torch.empty(2, rows, cols)
    with torch.no_grad():
        for i in range(rows):
            for j in range(cols):
                occluded = x.clone()
                occluded[:, :, i * sh:i * sh + wh, j * sw:j * sw + ww] = baseline
                expected[:, i, j] = net(occluded).softmax(1)[torch.arange(2), target]
    got = viz.occlusion_map(net, x, target, window=window, stride=stride, baseline=baseline, batch_size=5)
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=1e-5)


def test_methods_leave_the_model_and_the_input_as_they_were():
    net = small_net(4).train()
    x, target = inputs(4, (2, 3, 16, 16))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    grads = [p.requires_grad for p in net.parameters()]
    for method in (viz.gradient, viz.saliency, viz.guided_backprop, viz.deconvnet):
        method(net, x, target)
    viz.grad_cam(net, "6", x, target)
    viz.occlusion(net, x, target, window=4, stride=4)
    assert net.training and [p.requires_grad for p in net.parameters()] == grads and not x.requires_grad
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())  # batch norm statistics too
    assert all(not m._forward_hooks and not m._backward_hooks and "forward" not in m.__dict__ for m in net.modules())
    assert all(p.grad is None for p in net.parameters())


def test_bad_input_is_a_clear_error():
    net = small_net(5)
    x, target = inputs(5, (2, 3, 16, 16))
    with pytest.raises(ValueError, match=r"input must be a batch \(N, C, H, W\); got \(3, 16, 16\)"):
        viz.saliency(net, x[0], target)
    with pytest.raises(ValueError, match=r"target must be in 0..4 .*got \[0, 7\]"):
        viz.gradient(net, x, [0, 7])
    with pytest.raises(ValueError, match=r"no layer 'conv9'; its layers are: 0, 1, 2"):
        viz.grad_cam(net, "conv9", x, target)
    with pytest.raises(ValueError, match=r"window 17x17 is larger than the image \(16x16\)"):
        viz.occlusion(net, x, target, window=17)
    with pytest.raises(ValueError, match=r"stride must be a positive int or a pair of them; got 0"):
        viz.occlusion(net, x, target, stride=0)


def test_a_gpu_model_takes_cpu_images_and_gives_cpu_maps():
    from cnncourse import simcuda

    net = small_net(6)
    x, target = inputs(6, (2, 3, 16, 16))
    on_cpu = viz.guided_backprop(net, x, target)
    with simcuda.simulated_cuda():
        net.cuda()
        maps = [viz.gradient(net, x, target), viz.guided_backprop(net, x, target), viz.grad_cam(net, "7", x, target),
                viz.cam(net, "7", x, target), viz.occlusion(net, x, target, window=4, stride=4),
                viz.occlusion_map(net, x, target, window=4, stride=4),
                viz.occlusion(net, x, lambda m, images: m(images)[:, 0], window=4, stride=4)]
        assert not any(m.is_cuda for m in maps) and not any(m.requires_grad for m in maps)
        torch.testing.assert_close(maps[1], on_cpu)
        net.cpu()
