"""Segmentation at scale and speed: DeepLab (atrous, ASPP), the dense CRF, ENet, FRRN, SharpMask."""

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.segmentation.deeplabv3 import ASPP as TorchvisionASPP

from steps import train_steps

from cnncourse.analysis import count_params, receptive_fields
from cnncourse.data.shapes import Shapes
from cnncourse.layers import use_kernels
from cnncourse.segmentation.crf import dense_crf
from cnncourse.segmentation.deeplab import ASPP, DeepLab, deeplab_paper
from cnncourse.segmentation.enet import SMALL as ENET_SMALL
from cnncourse.segmentation.enet import Bottleneck, ENet
from cnncourse.segmentation.frrn import SMALL as FRRN_SMALL
from cnncourse.segmentation.frrn import FRRN, FRRU
from cnncourse.segmentation.sharpmask import RefinementModule, SharpMaskNet

MODELS = {  # name: (factory, total stride, the name in error messages)
    "deeplab_v1": (lambda **kw: DeepLab(version="v1", **kw), 8, "DeepLab"),
    "deeplab_v3": (lambda **kw: DeepLab(version="v3", **kw), 8, "DeepLab"),
    "enet": (ENet, 8, "ENet"),
    "frrn": (FRRN, 8, "FRRN"),
    "sharpmask": (SharpMaskNet, 16, "SharpMaskNet"),
}


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("in_channels, size", [(3, (32, 32)), (1, (48, 32))])
def test_logits_have_the_input_resolution(name, in_channels, size):
    factory, _, _ = MODELS[name]
    model = factory(num_classes=5, in_channels=in_channels)
    assert model(torch.randn(2, in_channels, *size)).shape == (2, 5, *size)


@pytest.mark.parametrize("name", MODELS)
def test_sizes_the_strides_do_not_allow_are_refused(name):
    factory, stride, fn = MODELS[name]
    model = factory(num_classes=3)
    with pytest.raises(ValueError, match=f"{fn}: input height and width must be multiples of {stride}"):
        model(torch.randn(2, 3, stride + 4, 2 * stride))
    with pytest.raises(ValueError, match=f"{fn}: input must have 3 channels"):
        model(torch.randn(2, 1, 2 * stride, 2 * stride))


@pytest.mark.parametrize("name", MODELS)
def test_loss_decreases_on_a_repeated_batch(name):
    torch.manual_seed(0)
    scenes = Shapes(n=2, size=32, seed=0)
    images = torch.stack([scenes[i]["image"] for i in range(2)])
    labels = torch.stack([scenes[i]["semantic"] for i in range(2)])
    model = MODELS[name][0](num_classes=4)
    losses = train_steps(model, lambda m: F.cross_entropy(m(images), labels), steps=10, lr=1e-2)
    assert losses[-1] < 0.7 * losses[0], losses


# DeepLab ---------------------------------------------------------------------------------------------------------


def test_deeplab_features_stay_at_the_output_stride():
    x = torch.randn(2, 3, 64, 48)
    assert DeepLab(3).backbone(x).shape[-2:] == (8, 6)  # 1/8, not VGG's 1/32
    assert DeepLab(3, version="v3", output_stride=16).backbone(x).shape[-2:] == (4, 3)
    with pytest.raises(ValueError, match="output_stride must be one of"):
        DeepLab(3, output_stride=12)


def test_atrous_convolution_enlarges_the_receptive_field_at_the_same_resolution():
    model = DeepLab(3)
    plain = copy.deepcopy(model)  # the same network with every dilation set back to 1
    for conv in plain.modules():
        if isinstance(conv, nn.Conv2d):
            conv.dilation, conv.padding = (1, 1), tuple(k // 2 for k in conv.kernel_size)
    x = torch.randn(1, 3, 64, 64)
    assert model.backbone(x).shape == plain.backbone(x).shape
    dilated, undilated = (receptive_fields(m, (3, 64, 64))["classifier"] for m in (model, plain))
    assert dilated.jump == undilated.jump == (8, 8)
    assert dilated.size == (325, 325) and undilated.size == (133, 133)


def test_deeplab_largefov_has_the_papers_parameter_count():
    """Chen et al. (2015), Table 2: DeepLab-CRF-LargeFOV has 20.5M parameters."""
    count = count_params(deeplab_paper(21, version="v1"))
    assert count == 20_511_701  # batch norm instead of the convolutions' biases: +4,224
    assert round(count / 1e5) == 205


def _randomise_batch_norm(module):
    for bn in module.modules():
        if isinstance(bn, nn.BatchNorm2d):
            bn.weight.data.uniform_(0.5, 1.5)
            bn.bias.data.normal_()
            bn.running_mean.normal_()
            bn.running_var.uniform_(0.5, 2.0)


def test_aspp_matches_torchvision_values_and_gradients():
    torch.manual_seed(0)
    reference = TorchvisionASPP(6, (1, 2, 3), out_channels=5)
    _randomise_batch_norm(reference)
    ours = ASPP(6, 5, rates=(1, 2, 3))
    ours.load_state_dict(reference.state_dict(), strict=True)
    ours.eval(), reference.eval()
    x = torch.randn(2, 6, 9, 7, requires_grad=True)
    out, expected = ours(x), reference(x)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
    g = torch.randn_like(out)
    grads = torch.autograd.grad(out, [x, *ours.parameters()], g)
    expected_grads = torch.autograd.grad(expected, [x, *reference.parameters()], g)
    for a, b in zip(grads, expected_grads, strict=True):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


def test_image_pooling_branch_is_constant_over_positions_and_sees_every_pixel():
    torch.manual_seed(0)
    pooling = ASPP(4, 3, rates=(2,)).convs[-1].eval()
    x = torch.randn(2, 4, 6, 5)
    out = pooling(x)
    assert torch.equal(out, out[..., :1, :1].expand_as(out))
    x2 = x.clone()
    x2[:, :, 0, 0] += 10.0  # one corner pixel moves the branch everywhere
    assert (pooling(x2) - out).abs().amin(dim=(2, 3)).gt(0).any()


def test_a_rate_as_large_as_the_map_degenerates_to_the_centre_tap():
    """Chen et al. (2017), Fig. 4: with rate >= the map size only the centre weight of a 3x3 atrous filter
    meets the map; the others read padding, so the branch is a 1x1 convolution."""
    torch.manual_seed(0)
    branch = ASPP(4, 3, rates=(8,), image_pooling=False).convs[1].eval()
    centre = copy.deepcopy(branch)
    centre[0] = nn.Conv2d(4, 3, 1, bias=False)
    centre[0].weight.data = branch[0].weight.data[:, :, 1:2, 1:2].clone()
    small, large = torch.randn(2, 4, 8, 8), torch.randn(2, 4, 20, 20)
    torch.testing.assert_close(branch(small), centre(small))
    assert not torch.allclose(branch(large), centre(large))  # on a larger map all nine taps count


# Dense CRF -------------------------------------------------------------------------------------------------------


def _toy(seed=0, size=32, noise=1.0):
    """Left half red, right half blue; logits = one-hot of the true half plus Gaussian noise."""
    image = torch.zeros(1, 3, size, size)
    image[:, 0, :, : size // 2] = 1.0
    image[:, 2, :, size // 2 :] = 1.0
    truth = torch.zeros(1, size, size, dtype=torch.long)
    truth[..., size // 2 :] = 1
    noisy = F.one_hot(truth, 2).permute(0, 3, 1, 2).float()
    noisy += noise * torch.randn(noisy.shape, generator=torch.Generator().manual_seed(seed))
    return image, truth, noisy


def test_crf_with_zero_weights_or_no_iteration_is_the_softmax():
    image, _, logits = _toy()
    torch.testing.assert_close(dense_crf(logits, image, weights=(0.0, 0.0)), logits.softmax(1))
    torch.testing.assert_close(dense_crf(logits, image, iterations=0), logits.softmax(1))


def test_crf_is_deterministic():
    image, _, logits = _toy()
    assert torch.equal(dense_crf(logits, image), dense_crf(logits, image))


def test_crf_removes_label_noise_inside_colour_regions():
    image, truth, logits = _toy(seed=0)
    before = (logits.argmax(1) != truth).float().mean()
    after = (dense_crf(logits, image).argmax(1) != truth).float().mean()
    assert before > 0.2  # a quarter of the pixels start with the wrong label
    assert after < 0.25 * before


def _mean_field_step_by_loops(logits, image, sg, sa, sb, wg, wb, mu, normalize):
    """One mean-field update, written pixel pair by pixel pair (Krähenbühl & Koltun, 2011, Algorithm 1)."""
    labels, h, w = logits.shape
    pixels = [(r, c) for r in range(h) for c in range(w)]
    q = logits.softmax(0)
    out = torch.empty_like(logits)
    for i, (ri, ci) in enumerate(pixels):
        messages, sums = torch.zeros(2, labels, dtype=logits.dtype), [0.0, 0.0]
        for j, (rj, cj) in enumerate(pixels):
            if j == i:
                continue
            d_pos = (ri - rj) ** 2 + (ci - cj) ** 2
            d_col = float((image[:, ri, ci] - image[:, rj, cj]).square().sum())
            kernels = (math.exp(-d_pos / (2 * sg**2)), math.exp(-d_pos / (2 * sa**2) - d_col / (2 * sb**2)))
            for m, k in enumerate(kernels):
                messages[m] += k * q[:, rj, cj]
                sums[m] += k
        if normalize:
            messages = messages / torch.tensor(sums, dtype=logits.dtype)[:, None]
        penalty = mu @ (wg * messages[0] + wb * messages[1])
        out[:, ri, ci] = (logits[:, ri, ci] - penalty).softmax(0)
    return out


@pytest.mark.parametrize("normalize", [True, False])
def test_one_crf_iteration_matches_the_pairwise_definition(normalize):
    torch.manual_seed(0)
    logits, image = torch.randn(1, 3, 3, 4, dtype=torch.float64), torch.rand(1, 3, 3, 4, dtype=torch.float64)
    mu = torch.rand(3, 3, dtype=torch.float64)
    ours = dense_crf(logits, image, iterations=1, spatial_sigma=1.5, bilateral_sigma=(2.0, 0.3), weights=(0.7, 1.3),
                     compatibility=mu, normalize=normalize)
    expected = _mean_field_step_by_loops(logits[0], image[0], 1.5, 2.0, 0.3, 0.7, 1.3, mu, normalize)
    torch.testing.assert_close(ours[0], expected)


def test_crf_refuses_large_images_and_mismatched_inputs():
    with pytest.raises(ValueError, match="dense_crf: .*max_pixels=4096; got 80x64"):
        dense_crf(torch.randn(1, 2, 80, 64), torch.rand(1, 3, 80, 64))
    with pytest.raises(ValueError, match="dense_crf: image .* must have the batch size and the height and width"):
        dense_crf(torch.randn(1, 2, 8, 8), torch.rand(1, 3, 8, 6))
    with pytest.raises(ValueError, match=r"compatibility must be 'potts' or a \(2, 2\) tensor"):
        dense_crf(torch.randn(1, 2, 8, 8), torch.rand(1, 3, 8, 8), compatibility=torch.eye(3))


# ENet ------------------------------------------------------------------------------------------------------------


def test_enet_paper_configuration_has_about_0_37_million_parameters():
    """Paszke et al. (2016) report 0.37M parameters, 79x fewer than SegNet's 29.5M."""
    count = count_params(ENet(12, config="paper"))
    assert count == 364_192  # 12 classes (CamVid with void); the full convolution adds 65 per class
    assert abs(count / 0.37e6 - 1) < 0.02


def test_enet_paper_configuration_reproduces_table_1():
    """Table 1 at 512x512: initial 16x256x256, stage 1 64x128x128, stages 2-3 128x64x64, stage 4 64x128x128,
    stage 5 16x256x256, fullconv Cx512x512; here at 128x128, every size divided by 4."""
    model = ENet(12, config="paper").eval()
    assert [len(stage) for stage in model.stages] == [5, 9, 8, 3, 2]
    assert [b.main[3].dilation[0] for b in model.stages[1] if b.kind == "dilated"] == [2, 4, 8, 16]
    assert [b.main[3][0].kernel_size for b in model.stages[2] if b.kind == "asymmetric"] == [(5, 1), (5, 1)]
    sizes = []
    model.initial.register_forward_hook(lambda m, args, out: sizes.append(tuple(out.shape[1:])))
    for stage in model.stages:
        stage[-1].register_forward_hook(lambda m, args, out: sizes.append(
            tuple((out[0] if isinstance(out, tuple) else out).shape[1:])))
    with torch.no_grad(), use_kernels("torch"):
        out = model(torch.randn(1, 3, 128, 128))
    assert sizes == [(16, 64, 64), (64, 32, 32), (128, 16, 16), (128, 16, 16), (64, 32, 32), (16, 64, 64)]
    assert out.shape == (1, 12, 128, 128)


def test_enet_initial_block_gives_16_channels_at_half_resolution():
    model = ENet(3)
    assert model.initial.conv.out_channels == 13  # 13 filters + the 3 pooled input channels
    assert model.initial(torch.randn(2, 3, 32, 48)).shape == (2, 16, 16, 24)


def test_enet_upsampling_bottlenecks_get_the_downsampling_indices_in_reverse_order():
    model = ENet(3)
    blocks = [b for stage in model.stages for b in stage]
    down = [b for b in blocks if b.kind == "downsampling"]
    up = [b for b in blocks if b.kind == "upsampling"]
    produced, received = {}, {}
    for i, b in enumerate(down):
        b.register_forward_hook(lambda m, args, out, i=i: produced.__setitem__(i, out[1]))
    for i, b in enumerate(up):
        b.register_forward_pre_hook(lambda m, args, i=i: received.__setitem__(i, args[1]))
    model(torch.randn(2, 3, 32, 32))
    assert len(down) == len(up) == 2
    assert received[0] is produced[1] and received[1] is produced[0]


def test_upsampling_bottleneck_puts_values_back_where_the_maxima_were():
    torch.manual_seed(0)
    down, up = Bottleneck(4, 8, "downsampling").eval(), Bottleneck(8, 4, "upsampling").eval()
    x = torch.randn(2, 4, 8, 8)
    y, indices = down(x)
    assert y.shape == (2, 8, 4, 4)
    assert torch.equal(indices, F.max_pool2d(x, 2, return_indices=True)[1])
    nn.init.zeros_(up.main[7].weight)  # silence the main branch: only the unpooled shortcut is left
    nn.init.zeros_(up.main[7].bias)
    out = up(y, indices)
    argmax = torch.zeros(2, 4, 64).scatter_(2, indices.flatten(2), 1.0).view(2, 4, 8, 8).bool()
    assert out.shape == x.shape
    assert (out[~argmax] == 0).all() and (out[argmax] != 0).all()


def test_enet_rejects_an_unmatched_configuration():
    config = copy.deepcopy(ENET_SMALL)
    config["stages"][2][0] = ("upsampling", 48, 1)  # its partner pooled a 32-channel map
    with pytest.raises(ValueError, match="ENet: upsampling to 48 channels; its downsampling partner expects 32"):
        ENet(3, config=config)


# FRRN ------------------------------------------------------------------------------------------------------------


def test_frrn_residual_stream_keeps_the_input_resolution_throughout():
    model = FRRN(3)
    seen = []
    for unit in model.modules():
        if isinstance(unit, FRRU):
            unit.register_forward_hook(lambda m, args, out: seen.append((m.scale, out[0].shape, out[1].shape)))
    model(torch.randn(2, 3, 32, 48))
    assert len(seen) == sum(units for units, _, _ in FRRN_SMALL["stages"])
    assert [scale for scale, _, _ in seen] == [s for n, _, s in FRRN_SMALL["stages"] for _ in range(n)]
    for scale, pooling, residual in seen:
        assert residual == (2, FRRN_SMALL["lanes"], 32, 48)
        assert pooling[-2:] == (32 // scale, 48 // scale)


def test_frrn_a_and_b_have_the_papers_parameter_counts():
    """Pohlen et al. (2017): FRRN A 17.7M parameters, FRRN B 24.8M."""
    a, b = count_params(FRRN(19, config="frrn_a")), count_params(FRRN(19, config="frrn_b"))
    assert (a, b) == (17_746_803, 24_755_699)
    assert (round(a / 1e5), round(b / 1e5)) == (177, 248)


# SharpMask -------------------------------------------------------------------------------------------------------


def test_refinement_module_doubles_the_resolution():
    module = RefinementModule(8, 5, 6)
    assert module(torch.randn(2, 8, 4, 6), torch.randn(2, 5, 4, 6)).shape == (2, 6, 8, 12)
    with pytest.raises(ValueError, match="RefinementModule: mask and features must be .* of the same size"):
        module(torch.randn(2, 8, 4, 6), torch.randn(2, 5, 8, 12))


def test_sharpmask_refines_from_the_deepest_scale_back_to_full_resolution():
    model = SharpMaskNet(3)
    sizes = []
    for module in model.refine:
        module.register_forward_hook(lambda m, args, out: sizes.append((args[0].shape[-1], out.shape[-1])))
    model(torch.randn(2, 3, 32, 64))
    assert sizes == [(4, 8), (8, 16), (16, 32), (32, 64)]


def test_valid_taps_fall_to_the_centre_tap_when_the_rate_outgrows_the_map():
    from cnncourse.segmentation.deeplab import valid_taps
    assert valid_taps(1, 1) == 1.0
    assert valid_taps(100, 1) == pytest.approx(2.98 ** 2)  # per axis: 1 + 2 * 99 / 100
    assert valid_taps(4, 6) == 1.0 and valid_taps(65, 6) > 7
    with pytest.raises(ValueError, match=r"valid_taps: rate must be a positive int; got 0"):
        valid_taps(8, 0)
