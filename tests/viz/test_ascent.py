"""Gradient ascent, its regularisers, multi-faceted visualisation and DeepDream, on tiny random networks."""

from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnncourse import models, viz
from cnncourse.viz import ascent


def tiny_net(seed=0, classes=4):
    torch.manual_seed(seed)
    net = nn.Sequential(OrderedDict([
        ("c1", nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(inplace=True))),
        ("pool", nn.MaxPool2d(2)),
        ("c2", nn.Sequential(nn.Conv2d(6, 8, 3, padding=1), nn.ReLU())),
        ("gap", nn.AdaptiveAvgPool2d(1)), ("flat", nn.Flatten()), ("fc", nn.Linear(8, classes)),
    ]))
    net.c1[1].running_var.uniform_(0.5, 2.0)
    return net.train()  # the methods must switch to eval mode and back


def state(net):
    return ({k: v.clone() for k, v in net.state_dict().items()}, [p.requires_grad for p in net.parameters()],
            net.training)


def assert_unchanged(net, before):
    params, flags, training = before
    for k, v in net.state_dict().items():
        torch.testing.assert_close(v, params[k], rtol=0, atol=0)
    assert [p.requires_grad for p in net.parameters()] == flags and net.training == training
    assert all(p.grad is None for p in net.parameters())


OBJECTIVES = [ascent.ClassLogit(2), ascent.Unit("c2", 3), ascent.Channel("c1", 1), ascent.LayerNorm("c2")]


@pytest.mark.parametrize("objective", OBJECTIVES, ids=repr)
def test_each_objective_rises_and_the_model_is_left_as_it_was(objective):
    net = tiny_net()
    before = state(net)
    result = viz.gradient_ascent(net, objective, size=12, steps=15, lr=0.02, batch=2, value_range=None)
    assert result.image.shape == (2, 3, 12, 12) and result.image.device.type == "cpu"
    assert result.trajectory.shape == (15, 2)
    assert (result.trajectory[-1] > result.trajectory[0]).all()
    assert_unchanged(net, before)


def test_objectives_read_the_right_numbers():
    net = tiny_net().eval()
    x = torch.rand(2, 3, 8, 8)
    acts = viz.activations(net, x, ["c1", "c2"])
    logits = net(x).detach()
    torch.testing.assert_close(ascent.objective_values(net, ascent.ClassLogit(1), x).detach(), logits[:, 1])
    torch.testing.assert_close(ascent.objective_values(net, ascent.Unit("c2", 3, (1, 2)), x).detach(),
                               acts["c2"][:, 3, 1, 2])
    torch.testing.assert_close(ascent.objective_values(net, ascent.Unit("c2", 3), x).detach(),
                               acts["c2"][:, 3, 2, 2])  # the centre of a 4x4 map
    torch.testing.assert_close(ascent.objective_values(net, ascent.Channel("c1", 5), x).detach(),
                               acts["c1"][:, 5].mean((1, 2)))
    torch.testing.assert_close(ascent.objective_values(net, ascent.LayerNorm("c2"), x).detach(),
                               acts["c2"].pow(2).mean((1, 2, 3)))


def test_without_regularisers_a_step_is_the_normalised_gradient():
    net = tiny_net().eval()
    start = torch.rand(1, 3, 10, 10)
    x = start.clone().requires_grad_()
    (grad,) = torch.autograd.grad(net(x)[:, 0].sum(), x)
    expected = start + 0.1 * grad / grad.abs().mean()
    got = viz.gradient_ascent(net, ascent.ClassLogit(0), start, steps=1, lr=0.1, value_range=None).image
    torch.testing.assert_close(got, expected)
    plain = viz.gradient_ascent(net, ascent.ClassLogit(0), start, steps=1, lr=0.1, value_range=None,
                                normalize=False).image
    torch.testing.assert_close(plain, start + 0.1 * grad)


def test_the_same_seed_gives_the_same_image_and_another_seed_another():
    net = tiny_net()
    regs = [ascent.L2Decay(0.05), ascent.GaussianBlur(0.6, every=2), ascent.ClipNorm(20), ascent.Jitter(2)]
    run = [viz.gradient_ascent(net, ascent.ClassLogit(1), size=16, steps=6, regularizers=regs, seed=s).image
           for s in (3, 3, 4)]
    assert torch.equal(run[0], run[1]) and not torch.equal(run[0], run[2])


def test_blur_with_sigma_zero_is_the_identity_and_blur_preserves_the_mean_of_a_periodic_image():
    z = torch.randn(2, 3, 9, 11)
    assert torch.equal(ascent.GaussianBlur(0.0)(z, z, 0), z)
    blurred = ascent.GaussianBlur(1.0)(z, z, 0)
    assert blurred.shape == z.shape and blurred.var() < z.var()
    constant = torch.full((1, 3, 9, 11), 0.7)
    torch.testing.assert_close(ascent.GaussianBlur(1.5)(constant, constant, 0), constant)
    # every ``every`` steps only
    assert torch.equal(ascent.GaussianBlur(1.0, every=3)(z, z, 1), z)
    assert not torch.equal(ascent.GaussianBlur(1.0, every=3)(z, z, 3), z)


def test_blur_equals_a_2d_gaussian_convolution():
    z = torch.randn(1, 2, 12, 12)
    k = ascent.gaussian_kernel(0.8)
    r = k.numel() // 2
    kernel2d = (k[:, None] * k[None, :]).expand(2, 1, -1, -1)
    expected = F.conv2d(F.pad(z, (r, r, r, r), mode="reflect"), kernel2d, groups=2)
    torch.testing.assert_close(ascent.GaussianBlur(0.8)(z, z, 0), expected)


def test_decay_alone_shrinks_the_image_geometrically_towards_the_mean():
    net = tiny_net()
    start = torch.rand(1, 3, 8, 8)
    z = start - 0.5
    decay = ascent.L2Decay(0.1)
    for _ in range(5):
        z = decay(z, None, 0)
    torch.testing.assert_close(z, (start - 0.5) * 0.9 ** 5)
    # inside the ascent, with a per-channel mean: a far-away start pulled towards the mean step by step
    mean = [0.4, 0.5, 0.6]
    distance = [viz.gradient_ascent(net, ascent.Channel("c1", 0), start, steps=s, lr=1e-6, mean=mean,
                                    regularizers=[ascent.L2Decay(0.2)], value_range=None).image
                - torch.tensor(mean).view(1, 3, 1, 1) for s in (1, 2, 3)]
    torch.testing.assert_close(distance[1], distance[0] * 0.8, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(distance[2], distance[0] * 0.64, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("percentile", [0, 25, 50, 90, 100])
def test_percentile_clipping_zeroes_that_share_of_pixels(percentile):
    torch.manual_seed(percentile)
    z, grad = torch.randn(3, 3, 10, 10), torch.randn(3, 3, 10, 10)
    for regularizer, measure in [(ascent.ClipNorm(percentile), z.norm(dim=1)),
                                 (ascent.ClipContribution(percentile), (z * grad).sum(1).abs())]:
        out = regularizer(z, grad, 0)
        zeroed = (out == 0).all(dim=1)  # (N, H, W)
        assert (zeroed.flatten(1).sum(1) == round(percentile)).all()
        if 0 < percentile < 100:  # the zeroed pixels are the smallest by the measure
            for n in range(3):
                assert measure[n][zeroed[n]].max() <= measure[n][~zeroed[n]].min()
        torch.testing.assert_close(out[~zeroed.unsqueeze(1).expand_as(out)], z[~zeroed.unsqueeze(1).expand_as(z)])


def test_jitter_shifts_are_bounded_and_seeded():
    jitter = ascent.Jitter(3)
    shifts = [jitter.shift(torch.Generator().manual_seed(0)) for _ in range(2)]
    assert shifts[0] == shifts[1]
    g = torch.Generator().manual_seed(1)
    assert all(abs(v) <= 3 for _ in range(50) for v in jitter.shift(g))


def test_linf_ball_makes_a_fooling_image_that_stays_close():
    net = tiny_net().eval()
    image = torch.rand(1, 3, 12, 12)
    with torch.no_grad():
        logits = net(image)
    other = int(logits.argmin())
    fooled = viz.gradient_ascent(net, ascent.ClassLogit(other), image, steps=30, lr=0.01,
                                 regularizers=[ascent.LinfBall(image, 0.03)])
    assert (fooled.image - image).abs().max() <= 0.03 + 1e-6
    assert fooled.trajectory[-1, 0] > fooled.trajectory[0, 0]
    assert fooled.image.min() >= 0 and fooled.image.max() <= 1


def test_deep_dream_raises_the_layer_norm_keeps_the_range_and_the_size():
    net = tiny_net()
    before = state(net)
    photo = torch.rand(3, 20, 24)
    dream = viz.deep_dream(net, photo, "c2", octaves=3, octave_scale=1.4, steps=4, step_size=0.02, jitter=2)
    assert dream.image.shape == (1, 3, 20, 24) and dream.trajectory.shape == (12, 1)
    assert dream.image.min() >= 0 and dream.image.max() <= 1
    x = dream.image
    assert ascent.objective_values(net.eval(), ascent.LayerNorm("c2"), x) > \
        ascent.objective_values(net, ascent.LayerNorm("c2"), photo[None])
    net.train()
    assert_unchanged(net, before)
    again = viz.deep_dream(net, photo, "c2", octaves=3, octave_scale=1.4, steps=4, step_size=0.02, jitter=2)
    assert torch.equal(again.image, dream.image)


def test_octave_sizes_shrink_by_the_scale_and_end_at_full_size():
    assert viz.octave_sizes((100, 50), 3, 2.0) == [(25, 12), (50, 25), (100, 50)]


def test_multifaceted_clusters_the_top_images_and_starts_from_their_means():
    net = tiny_net().eval()
    torch.manual_seed(5)
    # two kinds of images, both exciting the objective: bright red and bright blue
    red, blue = torch.rand(20, 3, 8, 8) * 0.2, torch.rand(20, 3, 8, 8) * 0.2
    red[:, 0] += 0.8
    blue[:, 2] += 0.8
    images = torch.cat([red, blue])
    objective = ascent.ClassLogit(0)
    scores = ascent.objective_values(net, objective, images).detach()
    facets = viz.multifaceted(net, objective, images, facets=2, top=40, feature_layer="c1", steps=3)
    assert facets.images.shape == (2, 3, 8, 8) and facets.trajectory.shape == (3, 2)
    groups = sorted(sorted(m.tolist()) for m in facets.members)
    assert groups == [list(range(20)), list(range(20, 40))]
    for start, members in zip(facets.starts, facets.members):
        torch.testing.assert_close(start, images[members].mean(0))
    top = viz.multifaceted(net, objective, images, facets=2, top=5, feature_layer="c1", steps=1)
    assert sorted(torch.cat(top.members).tolist()) == sorted(scores.topk(5).indices.tolist())


def test_high_frequency_share_separates_checkerboards_noise_and_smooth_images():
    rows, cols = torch.meshgrid(torch.arange(16), torch.arange(16), indexing="ij")
    checker = ((rows + cols) % 2).float().expand(1, 3, 16, 16)
    smooth = torch.sin(2 * torch.pi * cols / 16).float().expand(1, 3, 16, 16)
    torch.manual_seed(0)
    noise = torch.rand(4, 3, 64, 64)
    assert viz.high_frequency_share(checker).item() == pytest.approx(1.0)
    assert viz.high_frequency_share(smooth).item() == pytest.approx(0.0, abs=1e-9)
    assert viz.high_frequency_share(noise).mean().item() == pytest.approx(1 - torch.pi * 0.25 / 4, abs=0.02)
    blurred = ascent.GaussianBlur(1.0)(noise, noise, 0)
    assert (viz.high_frequency_share(blurred) < viz.high_frequency_share(noise)).all()


def test_works_on_the_course_alexnet_with_its_layer_names():
    net = models.get("alexnet_mini", num_classes=3)
    result = viz.gradient_ascent(net, ascent.Channel("c5", 0), size=32, steps=2,
                                 regularizers=[ascent.GaussianBlur(0.5), ascent.Jitter(1)])
    assert result.image.shape == (1, 3, 32, 32)


@pytest.mark.parametrize("call, argument", [
    (lambda net: viz.gradient_ascent(net, ascent.ClassLogit(0), size=8, steps=0), "steps"),
    (lambda net: viz.gradient_ascent(net, ascent.ClassLogit(0), size=8, lr=-1), "lr"),
    (lambda net: viz.gradient_ascent(net, ascent.ClassLogit(0)), "size"),
    (lambda net: viz.gradient_ascent(net, ascent.Unit("conv9", 0), size=8), "conv9"),
    (lambda net: viz.gradient_ascent(net, ascent.ClassLogit(0), torch.rand(1, 1, 8, 8)), "channels"),
    (lambda net: viz.gradient_ascent(net, ascent.ClassLogit(0), torch.rand(1, 3, 8, 8) * 3), r"\[0.0, 1.0\]"),
    (lambda net: viz.gradient_ascent(net, ascent.ClassLogit(9), size=8, steps=1), "target"),
    (lambda net: viz.gradient_ascent(net, ascent.Channel("c1", 6), size=8, steps=1), "channel"),
    (lambda net: ascent.L2Decay(1.5), "decay"),
    (lambda net: ascent.GaussianBlur(-1), "sigma"),
    (lambda net: ascent.ClipNorm(120), "percentile"),
    (lambda net: ascent.Jitter(-2), "pixels"),
    (lambda net: viz.deep_dream(net, torch.rand(3, 8, 8), "c2", octaves=0), "octaves"),
    (lambda net: viz.deep_dream(net, torch.rand(3, 8, 8), "c2", octave_scale=0.5), "octave_scale"),
    (lambda net: viz.deep_dream(net, torch.rand(3, 8, 8), "c2", steps=0), "steps"),
    (lambda net: viz.deep_dream(net, torch.rand(3, 8, 8) + 1, "c2"), "image"),
    (lambda net: viz.deep_dream(net, torch.rand(3, 8, 8), "c7"), "c7"),
    (lambda net: viz.multifaceted(net, ascent.ClassLogit(0), torch.rand(5, 3, 8, 8), top=10), "top"),
])
def test_bad_input_is_a_clear_error(call, argument):
    with pytest.raises(ValueError, match=argument):
        call(tiny_net())


def test_octave_loop_carries_the_detail_from_octave_to_octave():
    image = torch.rand(1, 3, 20, 20)
    seen = []

    def ascend(start, octave):
        seen.append((octave, tuple(start.shape[2:])))
        return (start + 0.1).clamp(0, 1) if octave == 0 else start

    result = viz.octave_loop(image, 2, 2.0, ascend)
    assert seen == [(0, (10, 10)), (1, (20, 20))]
    small = F.interpolate(image, size=(10, 10), mode="bilinear", align_corners=False, antialias=True)
    detail = (small + 0.1).clamp(0, 1) - small
    expected = (image + F.interpolate(detail, size=(20, 20), mode="bilinear", align_corners=False,
                                      antialias=True)).clamp(0, 1)
    torch.testing.assert_close(result, expected)
