"""Properties of the case-study architectures that the chapters rely on."""

import pytest
import torch

from cnncourse import models, simcuda
from cnncourse.analysis import count_params


def test_lenet5_layer_parameters_match_the_paper():
    """LeCun et al. (1998): C1 156, S2 12, C3 1,516, S4 32, C5 48,120, F6 10,164 trainable parameters."""
    net = models.get("lenet5")
    f = net.features
    assert [count_params(f[0]), count_params(f[2]), f[4].connections(), count_params(f[6]), count_params(f[8])] == [156, 12, 1516, 32, 48120]
    assert count_params(net.classifier[1]) == 10164
    with pytest.raises(ValueError, match=r"input must be \(N, C, 32, 32\); got \(1, 1, 28, 28\)"):
        net(torch.zeros(1, 1, 28, 28))


def test_lenet5_c3_sees_only_its_table_of_s2_maps():
    net = models.get("lenet5")
    c3 = net.features[4]
    x = torch.zeros(1, 6, 14, 14, requires_grad=True)
    c3(x)[0, 0].sum().backward()
    assert (x.grad[0].abs().sum((1, 2)) > 0).nonzero().flatten().tolist() == [0, 1, 2]


@pytest.mark.parametrize("patch", [9, 17, 33])
def test_bagnet_receptive_field_and_evidence(patch):
    torch.manual_seed(0)
    net = models.get(f"bagnet{patch}", num_classes=5).double().eval()
    x = torch.randn(1, 3, 72, 72, dtype=torch.float64, requires_grad=True)
    evidence = net.evidence(x)
    torch.testing.assert_close(evidence.mean((2, 3)), net(x))
    i, j = evidence.shape[2] // 2, evidence.shape[3] // 2
    evidence[0, 0, i, j].backward()
    seen = x.grad[0].abs().sum(0) > 0
    rows, cols = seen.any(1).nonzero().flatten(), seen.any(0).nonzero().flatten()
    assert rows.max() - rows.min() + 1 == patch and cols.max() - cols.min() + 1 == patch
    with pytest.raises(ValueError, match=f"at least {patch}x{patch}"):
        net(torch.zeros(1, 3, patch - 1, patch - 1, dtype=torch.float64))


@pytest.mark.parametrize("kwargs, message", [
    ({"strides": (2, 1, 1)}, r"strides must have one entry per stage \(4\); got \(2, 1, 1\)"),
    ({"widths": (8, 16)}, r"widths must have one entry per stage \(4\); got \(8, 16\)"),
    ({"blocks": (1, 0, 1, 1)}, r"blocks must be >= 1 in every stage; got \(1, 0, 1, 1\)"),
    ({"strides": (1, 2, 2, 1)}, r"strides\[0\] must be 2 for a 9x9 patch; got \(1, 2, 2, 1\)"),
])
def test_bagnet_stage_settings_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        models.get("bagnet9", **kwargs)


def test_plain_networks_have_no_shortcuts_and_the_same_layers():
    plain, residual = models.get("plain18"), models.get("resnet18")
    assert not any(b.skip for b in plain.modules() if hasattr(b, "skip"))
    # the projection shortcuts are the only extra parameters of the residual network
    shortcut_params = sum(p.numel() for n, p in residual.named_parameters() if "downsample" in n)
    assert count_params(residual) - count_params(plain) == shortcut_params


def test_zero_padding_shortcut_adds_no_parameters():
    a, b = models.get("resnet34"), models.get("resnet34", shortcut="zeros")
    assert count_params(a) - count_params(b) == sum(p.numel() for n, p in a.named_parameters() if "downsample" in n)
    assert b(torch.randn(1, 3, 64, 64)).shape == (1, 1000)


def test_googlenet_returns_auxiliary_logits_in_training_only():
    net = models.get("googlenet", num_classes=4)
    outputs = net.train()(torch.randn(2, 3, 96, 96))
    assert [o.shape for o in outputs] == [(2, 4)] * 3
    assert net.eval()(torch.randn(2, 3, 96, 96)).shape == (2, 4)
    paper = models.get("googlenet_paper", num_classes=4)
    assert paper.inception3a.branch3[1].conv.kernel_size == (5, 5)


def test_highway_blocks_start_close_to_the_identity():
    net = models.get("highway", depth=3, width=8).eval()
    block = net.blocks[0]
    x = torch.randn(2, 8, 6, 6)
    gate = torch.sigmoid(block.gate(x))
    assert gate.mean() < 0.2
    torch.testing.assert_close(block(x), block.transform(x) * gate + x * (1 - gate))


def test_inception_v3_block_factorises_5x5_and_nxn():
    from cnncourse.models.googlenet import InceptionV3Block

    block = InceptionV3Block(32, width=16, n=7).eval()
    assert block(torch.randn(1, 32, 17, 17)).shape == (1, 64, 17, 17)
    # 1x7 then 7x1: 2 * 7 * 16 * 16 weights instead of 49 * 16 * 16 for a 7x7
    assert block.branchn[1].conv.weight.numel() + block.branchn[2].conv.weight.numel() == 2 * 7 * 16 * 16
    assert [m.conv.kernel_size for m in block.branch5] == [(1, 1), (3, 3), (3, 3)]


def test_bagnet_evidence_takes_cpu_images_for_a_gpu_model_and_returns_cpu_maps():
    with simcuda.simulated_cuda():
        net = models.get("bagnet9", widths=(8, 8, 8, 8), blocks=(1, 1, 1, 1), num_classes=3).eval().cuda()
        images = torch.rand(2, 3, 32, 32)
        with torch.no_grad():
            evidence = net.evidence(images)
            logits = net(images.cuda())
        assert not evidence.is_cuda and logits.is_cuda
        torch.testing.assert_close(evidence.mean((2, 3)), logits.cpu())


@pytest.mark.parametrize("name", ["alexnet_paper", "vgg11_lrn"])
def test_local_response_norm_uses_the_papers_constants(name):
    """Krizhevsky et al. (2012): b = a / (2 + 1e-4 * sum over 5 neighbouring channels of a^2)^0.75."""
    lrn = next(m for m in models.get(name).modules() if isinstance(m, torch.nn.LocalResponseNorm))
    a = torch.randn(1, 8, 3, 3) * 20
    squares = torch.nn.functional.pad(a.square(), (0, 0, 0, 0, 2, 2))
    window = sum(squares[:, i : i + 8] for i in range(5))
    torch.testing.assert_close(lrn(a), a / (2 + 1e-4 * window) ** 0.75)
