"""Sliding window vs fully convolutional, FCN, SegNet and U-Net: shapes, errors, the papers' mechanisms, training."""

import pytest
import torch
import torch.nn.functional as F

from steps import train_steps

from cnncourse.analysis.costs import count_params
from cnncourse.data.shapes import shapes
from cnncourse.layers import use_kernels
from cnncourse.segmentation.fcn import FCN, SkipFusion, fuse
from cnncourse.segmentation.patch import PatchClassifier, sliding_window
from cnncourse.segmentation.segnet import SegNet
from cnncourse.segmentation.unet import UNet

DENSE = {  # name -> (builder, the multiple its input sizes must be)
    "fcn-32s": (lambda k, c=3: FCN(k, c, variant="32s"), 32),
    "fcn-16s": (lambda k, c=3: FCN(k, c, variant="16s"), 32),
    "fcn-8s": (lambda k, c=3: FCN(k, c, variant="8s"), 32),
    "segnet": (lambda k, c=3: SegNet(k, c), 16),
    "segnet-transposed": (lambda k, c=3: SegNet(k, c, decoder="transposed"), 16),
    "segnet-tied": (lambda k, c=3: SegNet(k, c, decoder="transposed", tied=True), 16),
    "unet": (lambda k, c=3: UNet(k, c), 8),
    "unet-bn": (lambda k, c=3: UNet(k, c, batch_norm=True), 8),
    "patch-dense": (lambda k, c=3: PatchClassifier(k, c, patch=7).fully_convolutional(), 1),
}


@pytest.mark.parametrize("name", DENSE)
def test_output_is_per_pixel_logits_at_the_input_size(name):
    build, multiple = DENSE[name]
    model = build(5, 2).eval()
    for h, w in [(32, 32), (64, 32), (32, 96)]:
        with torch.no_grad():
            assert model(torch.randn(2, 2, h, w)).shape == (2, 5, h, w)
    if multiple > 1:
        with torch.no_grad(), use_kernels("scratch"):  # the course's own kernels give the same shapes
            assert model(torch.randn(1, 2, multiple, 2 * multiple)).shape == (1, 5, multiple, 2 * multiple)


@pytest.mark.parametrize("name", DENSE)
def test_bad_inputs_are_refused_with_clear_errors(name):
    build, multiple = DENSE[name]
    model = build(3)
    fn = type(model).__name__
    with pytest.raises(ValueError, match=f"{fn}: input must have 3 channels .*got 1"):
        model(torch.randn(2, 1, 32, 32))
    if multiple > 1:
        with pytest.raises(ValueError, match=f"{fn}: input height and width must be multiples of {multiple}.*30x40"):
            model(torch.randn(2, 3, 30, 40))


@pytest.mark.parametrize("call, words", [
    (lambda: FCN(3, variant="4s"), ["FCN: variant must be one of 32s, 16s, 8s", "'4s'"]),
    (lambda: FCN(0), ["FCN: num_classes must be a positive int", "0"]),
    (lambda: SegNet(3, config="vgg19"), ["SegNet: config must be one of", "'vgg19'"]),
    (lambda: SegNet(3, tied=True), ["tied=True needs decoder='transposed'"]),
    (lambda: SegNet(3, config=[[8], [16, 16]], decoder="transposed", tied=True), ["stage 0 ends with 3 -> 8"]),
    (lambda: UNet(3, config=[16]), ["UNet: config needs at least 2 levels"]),
    (lambda: PatchClassifier(3, patch=8), ["patch must be an odd int >= 3", "8"]),
    (lambda: PatchClassifier(3, patch=7, widths=[8, 8]), ["7x7 patch needs 3 unpadded 3x3", "got 2 widths"]),
    (lambda: PatchClassifier(3, patch=7)(torch.randn(1, 3, 9, 9)), ["must be 7x7 patches", "got 9x9"]),
    (lambda: sliding_window(PatchClassifier(3, patch=7), torch.randn(1, 3, 5, 5), padding="edge"),
     ["sliding_window: padding must be one of ('zeros', 'reflect')", "'edge'"]),
    (lambda: sliding_window(PatchClassifier(3, patch=7), torch.randn(1, 3, 3, 5), padding="reflect"),
     ["reflect' needs height and width > 3", "got 3x5"]),
    (lambda: fuse(torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 5, 5)), ["fuse: coarse_scores and skip", "(1, 3, 5, 5)"]),
])
def test_bad_arguments_errors(call, words):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))


@pytest.mark.parametrize("padding", ["zeros", "reflect"])
def test_sliding_window_equals_the_fully_convolutional_network(padding):
    """The chapter's point: classifying every patch separately and running the convolutionalised network once
    over the padded image give the same scores; only the second shares the overlapping windows' features."""
    torch.manual_seed(0)
    model = PatchClassifier(4, in_channels=3, patch=9)
    image = torch.randn(2, 3, 13, 10)
    with torch.no_grad():
        slow = sliding_window(model, image, batch_size=37, padding=padding)
        fast = model.fully_convolutional(padding)(image)
        padded = F.pad(image, (4, 4, 4, 4), mode="constant" if padding == "zeros" else "reflect")
        corner = model(padded[:, :, 9:18, 1:10])  # the patch of pixel (9, 1), cut by hand
    assert slow.shape == fast.shape == (2, 4, 13, 10)
    torch.testing.assert_close(fast, slow, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(slow[:, :, 9, 1], corner, atol=1e-5, rtol=1e-5)


def test_fcn_upsamplers_start_as_bilinear_interpolation():
    torch.manual_seed(0)
    for variant, factor in [("32s", 32), ("16s", 16), ("8s", 8)]:
        model = FCN(3, variant=variant)
        scores = torch.randn(2, 3, 5, 4)
        with torch.no_grad():
            out = model.upsample(scores)
        reference = F.interpolate(scores, scale_factor=factor, mode="bilinear", align_corners=False)
        inner = (..., slice(factor, -factor), slice(factor, -factor))
        torch.testing.assert_close(out[inner], reference[inner], atol=1e-5, rtol=1e-5)
        for fusion in model.fusions:
            with torch.no_grad():
                up = fusion.upsample(scores)
            reference = F.interpolate(scores, scale_factor=2, mode="bilinear", align_corners=False)
            torch.testing.assert_close(up[..., 2:-2, 2:-2], reference[..., 2:-2, 2:-2], atol=1e-5, rtol=1e-5)


def test_fcn_skips_read_pool4_and_pool3_and_start_switched_off():
    torch.manual_seed(0)
    models = {v: FCN(3, variant=v).eval() for v in ("32s", "16s", "8s")}
    pools = models["8s"].encode(torch.randn(2, 3, 64, 64))

    def changed(model, index):
        other = list(pools)
        other[index] = torch.randn_like(other[index])
        with torch.no_grad():
            return not torch.allclose(model.decode(pools), model.decode(other))

    # Zero-initialised skip scorers (Long et al., 2015): the finer nets start out ignoring pool3 and pool4.
    assert not changed(models["8s"], 2) and not changed(models["8s"], 3)
    for model in models.values():
        for fusion in model.fusions:
            torch.nn.init.normal_(fusion.score.weight)
    assert [changed(models[v], 2) for v in ("32s", "16s", "8s")] == [False, False, True]  # pool3
    assert [changed(models[v], 3) for v in ("32s", "16s", "8s")] == [False, True, True]  # pool4
    assert all(changed(models[v], 4) for v in models)  # pool5 feeds the classifier of every variant


def test_skip_fusion_is_upsampled_coarse_scores_plus_scored_skip_features():
    torch.manual_seed(0)
    fusion = SkipFusion(6, 3)
    torch.nn.init.normal_(fusion.score.weight)
    coarse, features = torch.randn(2, 3, 4, 5), torch.randn(2, 6, 8, 10)
    expected = F.conv_transpose2d(coarse, fusion.upsample.weight, stride=2, padding=1) + F.conv2d(
        features, fusion.score.weight, fusion.score.bias)
    torch.testing.assert_close(fusion(coarse, features), expected, atol=1e-5, rtol=1e-5)


def test_segnet_unpools_to_the_encoders_argmax_positions():
    torch.manual_seed(0)
    model = SegNet(3).eval()
    seen = {}
    for s in range(len(model.encoder)):
        model.encoder[s].register_forward_hook(lambda m, i, o, s=s: seen.__setitem__(("enc", s), o))
        model.upsample[s].register_forward_hook(lambda m, i, o, s=s: seen.__setitem__(("up", s), (i[0], o)))
    with torch.no_grad(), use_kernels("torch"):  # pools like F.max_pool2d, which breaks ties (ReLU's zeros) its own way
        model(torch.randn(2, 3, 32, 32))
    for s in range(len(model.encoder)):
        values, out = seen["up", s]
        _, indices = F.max_pool2d(seen["enc", s], 2, return_indices=True)
        torch.testing.assert_close(out, F.max_unpool2d(values, indices, 2))
        window_max = F.max_pool2d(seen["enc", s], 2).repeat_interleave(2, 2).repeat_interleave(2, 3)
        assert (out != 0).any() and ((out != 0) <= (seen["enc", s] == window_max)).all()


def test_tied_transposed_decoder_shares_the_encoder_weights():
    torch.manual_seed(0)
    tied = SegNet(3, decoder="transposed", tied=True)
    untied = SegNet(3, decoder="transposed")
    kernels = sum(up.kernel().numel() for up in untied.upsample)
    assert count_params(untied) - count_params(tied) == kernels == count_params(untied) - count_params(SegNet(3))
    conv = tied.encoder[1][-1][0]
    up = tied.upsample[1]
    assert up.kernel() is conv.weight  # one parameter, not a copy
    y, r = torch.randn(2, 32, 4, 5), torch.randn(2, 32, 8, 10)
    out = up(y)
    (grad,) = torch.autograd.grad((out * r).sum(), conv.weight)  # the decoder's gradient reaches the encoder conv
    w = conv.weight.detach().clone().requires_grad_()
    ref = F.conv_transpose2d(y, w, stride=2, padding=1, output_padding=1)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(grad, torch.autograd.grad((ref * r).sum(), w)[0], atol=1e-4, rtol=1e-5)


def _batch(n=2, size=32):
    samples = [shapes(n, size=size)[i] for i in range(n)]
    return torch.stack([s["image"] for s in samples]), torch.stack([s["semantic"] for s in samples])


@pytest.mark.parametrize("name", [n for n in DENSE if n != "patch-dense"] + ["patch"])
def test_each_model_learns_a_repeated_batch(name):
    torch.manual_seed(0)
    images, labels = _batch()
    if name == "patch":  # the patch classifier learns the centre pixel's class from 7x7 crops
        model = PatchClassifier(4, patch=7)
        images, labels = images.unfold(2, 7, 4).unfold(3, 7, 4).permute(0, 2, 3, 1, 4, 5).reshape(-1, 3, 7, 7), \
            labels[:, 3::4, 3::4][:, :7, :7].reshape(-1)
    else:
        model = DENSE[name][0](4)
    losses = train_steps(model, lambda m: F.cross_entropy(m(images), labels), steps=8, lr=3e-3)
    assert losses[-1] < 0.9 * losses[0], losses


def test_paper_configurations_parameter_counts():
    with torch.device("meta"):
        fcn8s, fcn32s = FCN(21, config="vgg16", variant="8s"), FCN(21, config="vgg16", variant="32s")
        segnet = SegNet(11, config="vgg16")
        unet = UNet(2, config="paper")
    assert count_params(fcn8s) == 134_489_759  # Long et al. (2015) count 134M for FCN-VGG16
    assert abs(count_params(fcn8s) - 134e6) < 0.01 * 134e6
    assert count_params(fcn32s) == 136_152_917
    assert count_params(segnet) == 29_441_419
    assert abs(count_params(segnet.encoder) - 14.7e6) < 0.01 * 14.7e6  # Badrinarayanan et al.: 14.7M in the encoder
    assert count_params(unet) == 31_031_810
    assert count_params(SegNet(11, config="vgg16", decoder="transposed", tied=True)) == 29_441_419


def test_sampled_patches_are_the_windows_the_sliding_window_classifies():
    from cnncourse.segmentation.patch import sample_patches
    g = torch.Generator().manual_seed(0)
    images, labels = torch.randn(3, 2, 9, 11, generator=g), torch.randint(0, 4, (3, 9, 11), generator=g)
    crops, centre = sample_patches(images, labels, 5, 40, seed=1)
    assert crops.shape == (40, 2, 5, 5) and centre.shape == (40,)
    padded = torch.nn.functional.pad(images, (2, 2, 2, 2))
    for k in range(40):  # find each crop in the padded images: its centre pixel is the label's
        hits = [(i, r, c) for i in range(3) for r in range(9) for c in range(11)
                if torch.equal(padded[i, :, r:r + 5, c:c + 5], crops[k])]
        assert any(labels[i, r, c] == centre[k] for i, r, c in hits)


@pytest.mark.parametrize("batch_norm", [False, True])
def test_a_dense_patch_classifier_goes_back_to_the_same_per_window_classifier(batch_norm):
    from cnncourse.segmentation.patch import PatchClassifier, sliding_window
    torch.manual_seed(0)
    model = PatchClassifier(3, patch=7, widths=[4, 6, 8], batch_norm=batch_norm)
    original = PatchClassifier(3, patch=7, widths=[4, 6, 8], batch_norm=batch_norm).eval()
    original.load_state_dict(model.state_dict())
    dense = model.fully_convolutional()
    dense(torch.randn(4, 3, 9, 9))  # a training-mode pass moves batch norm's running statistics
    with torch.no_grad():
        for p in dense.parameters():
            p.add_(0.1 * torch.randn_like(p))  # "training" the dense network changes its weights
    dense.eval()
    back = dense.patch_classifier().eval()
    model = original
    image = torch.randn(2, 3, 9, 10)
    with torch.no_grad():
        torch.testing.assert_close(sliding_window(back, image), dense(image), atol=1e-5, rtol=1e-5)
        assert not torch.allclose(sliding_window(model, image), dense(image), atol=1e-3)


def test_count_macs_charges_the_transposed_decoders_their_upsampling():
    from cnncourse.analysis import count_macs
    unpool, tied, own = (SegNet(4), SegNet(4, decoder="transposed", tied=True), SegNet(4, decoder="transposed"))
    size = (3, 32, 32)
    extra = count_macs(tied, size) - count_macs(unpool, size)
    # every stage's upsampling: its input (C, h, w) values, each stamping a C x 3 x 3 kernel
    expected = sum(c * (32 >> (s + 1)) ** 2 * c * 9 for s, c in enumerate([16, 32, 64, 64]))
    assert extra == expected and count_macs(own, size) == count_macs(tied, size)
