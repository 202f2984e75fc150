"""Style transfer, texture synthesis and fast style transfer on tiny random networks and 16x16 images:
the Gram matrix's properties and normalisation, the losses, optimisation that lowers them, seeding, the model
left as it was, devices, and a clear error for every bad argument."""

from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnncourse import models, simcuda, viz
from cnncourse.viz.fast_style import TransformNet, photo_crops, train_fast_style
from cnncourse.viz.style import content_loss, gram_matrix, style_loss, style_transfer, synthesize_texture

CONTENT, STYLE = ("relu3",), ("relu1", "relu2", "relu3")
SETTINGS = dict(content_layers=CONTENT, style_layers=STYLE)


def tiny_net(seed=0, channels=3):
    torch.manual_seed(seed)
    net = nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(channels, 8, 3, padding=1)), ("relu1", nn.ReLU()),
        ("conv2", nn.Conv2d(8, 8, 3, stride=2, padding=1)), ("bn2", nn.BatchNorm2d(8)), ("relu2", nn.ReLU()),
        ("conv3", nn.Conv2d(8, 12, 3, padding=1)), ("relu3", nn.ReLU(inplace=True)),
        ("pool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()), ("fc", nn.Linear(12, 3)),
    ]))
    net.bn2.running_mean.uniform_(-0.2, 0.2)
    net.bn2.running_var.uniform_(0.5, 2.0)
    return net


def images(seed, n=1, channels=3, size=16):
    torch.manual_seed(100 + seed)
    return torch.rand(n, channels, size, size)


@pytest.mark.parametrize("shape", [(2, 5, 4, 6), (1, 8, 7, 3), (3, 1, 2, 2)])
def test_gram_matrix_is_symmetric_psd_blind_to_positions_and_equals_the_einsum(shape):
    torch.manual_seed(sum(shape))
    f = torch.randn(shape, dtype=torch.float64)
    g = gram_matrix(f)
    n, c, h, w = shape
    assert g.shape == (n, c, c)
    torch.testing.assert_close(g, torch.einsum("nchw,ndhw->ncd", f, f) / (h * w))
    torch.testing.assert_close(g, g.transpose(1, 2))
    assert (torch.linalg.eigvalsh(g) >= -1e-10).all()
    shuffled = f.flatten(2)[:, :, torch.randperm(h * w)].reshape(shape)
    torch.testing.assert_close(gram_matrix(shuffled), g)


def test_style_loss_per_layer_is_four_times_gatys_layer_loss():
    torch.manual_seed(1)
    f, a = torch.randn(1, 6, 5, 7, dtype=torch.float64), torch.randn(1, 6, 5, 7, dtype=torch.float64)
    fl, al = f.flatten(2)[0], a.flatten(2)[0]  # (C, M): Gatys's Grams are the plain sums F F^T
    gatys = ((fl @ fl.T - al @ al.T) ** 2).sum() / (4 * 6**2 * 35**2)
    torch.testing.assert_close(style_loss({"x": f}, {"x": gram_matrix(a)}), 4 * gatys)


def test_content_loss_is_the_mean_squared_error():
    torch.manual_seed(2)
    f, p = torch.randn(2, 4, 5, 5), torch.randn(2, 4, 5, 5)
    assert content_loss(f, f.clone()) == 0
    torch.testing.assert_close(content_loss(f, p), F.mse_loss(f, p))
    torch.testing.assert_close(content_loss(f[:1], p[:1]) * 4 * 5 * 5 / 2, 0.5 * ((f[:1] - p[:1]) ** 2).sum())


def test_style_loss_is_zero_for_the_style_itself_and_broadcasts_one_style():
    torch.manual_seed(3)
    maps = {"a": torch.rand(3, 4, 6, 6), "b": torch.rand(3, 5, 3, 3)}
    grams = {name: gram_matrix(m) for name, m in maps.items()}
    assert style_loss(maps, grams) == 0
    one = {name: g[:1] for name, g in grams.items()}
    repeated = {name: g.expand(3, -1, -1) for name, g in one.items()}
    torch.testing.assert_close(style_loss(maps, one), style_loss(maps, repeated))
    weights = {"a": 0.2, "b": 3.0}
    expected = sum(w * ((gram_matrix(maps[k]) - one[k]) ** 2).mean() for k, w in weights.items())
    torch.testing.assert_close(style_loss(maps, one, weights), expected)
    torch.testing.assert_close(style_loss(maps, one), style_loss(maps, one, {"a": 0.5, "b": 0.5}))


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
@pytest.mark.parametrize("init", ["content", "noise"])
def test_style_transfer_lowers_its_loss_and_keeps_pixels_in_range(optimizer, init):
    net = tiny_net(4)
    result = style_transfer(net, images(0, 2), images(1)[0], steps=8, optimizer=optimizer, init=init,
                            content_weight=2.0, style_weight=300.0, **SETTINGS)
    assert result.image.shape == (2, 3, 16, 16) and result.image.device.type == "cpu"
    assert result.image.min() >= 0 and result.image.max() <= 1
    assert set(result.losses) == {"content", "style", "total"}
    assert all(v.shape == (8,) and v.device.type == "cpu" for v in result.losses.values())
    total = result.losses["total"]
    assert total[-1] < 0.5 * total[0]
    torch.testing.assert_close(total, 2 * result.losses["content"] + 300 * result.losses["style"])


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_synthesize_texture_lowers_the_style_loss(optimizer):
    net = tiny_net(5)
    result = synthesize_texture(net, images(2), size=(12, 20), steps=8, optimizer=optimizer, style_layers=STYLE)
    assert result.image.shape == (1, 3, 12, 20) and set(result.losses) == {"style", "total"}
    assert result.image.min() >= 0 and result.image.max() <= 1
    assert result.losses["style"][-1] < 0.5 * result.losses["style"][0]


def test_same_seed_same_image_other_seed_another():
    net, style = tiny_net(6), images(3)
    first = synthesize_texture(net, style, steps=3, seed=7, style_layers=STYLE)
    again = synthesize_texture(net, style, steps=3, seed=7, style_layers=STYLE)
    other = synthesize_texture(net, style, steps=3, seed=8, style_layers=STYLE)
    assert torch.equal(first.image, again.image) and torch.equal(first.losses["total"], again.losses["total"])
    assert not torch.equal(first.image, other.image)
    content = images(4)
    a = style_transfer(net, content, style, steps=3, init="noise", seed=1, optimizer="adam", **SETTINGS)
    b = style_transfer(net, content, style, steps=3, init="noise", seed=1, optimizer="adam", **SETTINGS)
    assert torch.equal(a.image, b.image)


def test_the_model_is_left_as_it_was():
    net = tiny_net(7).train()
    net.conv1.bias.requires_grad_(False)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    flags = [p.requires_grad for p in net.parameters()]
    content, style = images(5), images(6)
    style_transfer(net, content, style, steps=2, **SETTINGS)
    synthesize_texture(net, style, steps=2, optimizer="adam", style_layers=STYLE)
    train_fast_style(net, style[0], images(7, 2), steps=1, batch_size=2, content_layer="relu2", style_layers=STYLE,
                     net=TransformNet((4, 4, 4), 1), progress=False)
    assert net.training and [p.requires_grad for p in net.parameters()] == flags
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())  # batch norm statistics too
    assert all(p.grad is None for p in net.parameters())
    assert all(not m._forward_hooks for m in net.modules())
    assert not content.requires_grad and not style.requires_grad


def test_a_gpu_model_takes_cpu_images_and_gives_cpu_results():
    net, content, style = tiny_net(8), images(7), images(8)
    on_cpu = style_transfer(net, content, style, steps=2, **SETTINGS)
    with simcuda.simulated_cuda():
        net.cuda()
        result = style_transfer(net, content, style, steps=2, **SETTINGS)
        texture = synthesize_texture(net, style, steps=2, style_layers=STYLE)
        trained, history = train_fast_style(net, style, images(9, 2), steps=1, batch_size=2, content_layer="relu2",
                                            style_layers=STYLE, net=TransformNet((4, 4, 4), 1), progress=False)
        assert next(trained.parameters()).is_cuda
        outputs = [result.image, texture.image, *result.losses.values(), *history.values()]
        assert not any(t.is_cuda or t.requires_grad for t in outputs)
        net.cpu()
    torch.testing.assert_close(result.image, on_cpu.image)


def test_works_on_the_course_alexnet_with_its_default_layer_names():
    torch.manual_seed(0)
    net = models.get("alexnet_mini", num_classes=3)
    content, style = images(10, size=32), images(11, size=32)
    result = style_transfer(net, content, style, steps=2)
    texture = synthesize_texture(net, style, steps=2, optimizer="adam")
    assert result.image.shape == texture.image.shape == (1, 3, 32, 32)
    assert torch.isfinite(result.losses["total"]).all() and result.losses["style"][0] > 0
    trained, history = train_fast_style(net, style, images(12, 2, size=32), steps=2, batch_size=2,
                                        net=TransformNet((4, 4, 4), 1), progress=False)
    assert history["total"].shape == (2,) and torch.isfinite(history["total"]).all()


def test_transform_net_keeps_the_shape_and_the_range():
    torch.manual_seed(0)
    net = TransformNet((4, 6, 8), residual_blocks=2)
    y = net(torch.rand(2, 3, 16, 12) * 4 - 2)
    assert y.shape == (2, 3, 16, 12) and y.min() >= 0 and y.max() <= 1
    assert TransformNet((4, 4, 4), 1, in_channels=1)(torch.rand(1, 1, 8, 8)).shape == (1, 1, 8, 8)
    with pytest.raises(ValueError, match=r"TransformNet: input .*multiples of 4 and at least 8; got 18x16"):
        net(torch.rand(1, 3, 18, 16))
    with pytest.raises(ValueError, match=r"TransformNet: input .*multiples of 4 and at least 8; got 4x8"):
        net(torch.rand(1, 3, 4, 8))


def test_train_fast_style_lowers_the_loss_and_is_deterministic():
    loss_net, style, data = tiny_net(9), images(13)[0], images(14)  # one training image: every batch is the same

    def train():
        return train_fast_style(loss_net, style, data, steps=12, batch_size=2, content_layer="relu2",
                                style_layers=STYLE, progress=False, net=TransformNet((4, 8, 8), 1))

    torch.manual_seed(0)
    net, history = train()
    assert not net.training and set(history) == {"content", "style", "total"}
    assert history["total"].shape == (12,) and history["total"].device.type == "cpu"
    assert history["total"][-1] < 0.75 * history["total"][0]
    torch.manual_seed(0)
    again, repeat = train()
    assert torch.equal(history["total"], repeat["total"])
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), again.state_dict().values()))
    data = images(15, 3)
    _, seeded = train_fast_style(loss_net, style, data, steps=2, batch_size=2, content_layer="relu2",
                                 style_layers=STYLE, progress=False)  # a new net, initialised from the seed
    _, reseeded = train_fast_style(loss_net, style, data, steps=2, batch_size=2, content_layer="relu2",
                                   style_layers=STYLE, progress=False)
    assert torch.equal(seeded["total"], reseeded["total"])


def test_photo_crops_are_seeded_crops_in_range():
    crops = photo_crops(5, size=16, seed=3)
    assert crops.shape == (5, 3, 16, 16) and crops.min() >= 0 and crops.max() <= 1
    assert torch.equal(crops, photo_crops(5, size=16, seed=3))
    assert not torch.equal(crops, photo_crops(5, size=16, seed=4))


NET = tiny_net(10)
X, GREY = images(15), images(16, channels=1)


def transfer(**kwargs):
    args = dict(model=NET, content=X, style=X, steps=1, **SETTINGS)
    return lambda: style_transfer(**{**args, **kwargs})


def texture(**kwargs):
    return lambda: synthesize_texture(**{"model": NET, "style": X, "steps": 1, "style_layers": STYLE, **kwargs})


def fast(**kwargs):
    args = dict(loss_model=NET, style=X, images=X, steps=1, content_layer="relu2", style_layers=STYLE,
                progress=False)
    return lambda: train_fast_style(**{**args, **kwargs})


BAD = [
    ("style_transfer", "content", transfer(content=X * 2)),
    ("style_transfer", "content", transfer(content=GREY)),
    ("style_transfer", "style", transfer(style=X - 0.5)),
    ("style_transfer", "style", transfer(style=GREY)),
    ("style_transfer", "style", transfer(content=images(17, 2), style=images(18, 3))),
    ("style_transfer", "steps", transfer(steps=0)),
    ("style_transfer", "steps", transfer(steps=2.5)),
    ("style_transfer", "lr", transfer(lr=0.0)),
    ("style_transfer", "lr", transfer(lr=-1e-3, optimizer="adam")),
    ("style_transfer", "content_weight", transfer(content_weight=0)),
    ("style_transfer", "style_weight", transfer(style_weight=-1.0)),
    ("style_transfer", "style_weights", transfer(style_weights={"relu1": 1.0, "relu2": 0.0, "relu3": 1.0})),
    ("style_transfer", "style_weights", transfer(style_weights={"relu1": 1.0})),
    ("style_transfer", "optimizer", transfer(optimizer="sgd")),
    ("style_transfer", "init", transfer(init="zeros")),
    ("style_transfer", "value_range", transfer(value_range=(1.0, 0.0))),
    ("style_transfer", "seed", transfer(seed=-1)),
    ("style_transfer", "content_layers", transfer(content_layers=())),
    ("style_transfer", "the model has no layer 'c4'", transfer(content_layers=("c4",))),
    ("synthesize_texture", "size", texture(size=0)),
    ("synthesize_texture", "size", texture(size=(8, 8, 8))),
    ("synthesize_texture", "style", texture(style=X + 1)),
    ("synthesize_texture", "steps", texture(steps=-3)),
    ("synthesize_texture", "optimizer", texture(optimizer="LBFGS")),
    ("synthesize_texture", "style_layers", texture(style_layers=[])),
    ("synthesize_texture", "the model has no layer 'relu9'", texture(style_layers=("relu1", "relu9"))),
    ("gram_matrix", "features", lambda: gram_matrix(X[0])),
    ("content_loss", "target", lambda: content_loss(X, images(19, 2))),
    ("style_loss", "weights", lambda: style_loss({"a": X}, {"a": gram_matrix(X)}, {"a": 0})),
    ("style_loss", "features", lambda: style_loss({"a": X}, {"b": gram_matrix(X)})),
    ("style_loss", "target_grams", lambda: style_loss({"a": images(20, 2)}, {"a": gram_matrix(images(21, 3))})),
    ("train_fast_style", "steps", fast(steps=0)),
    ("train_fast_style", "batch_size", fast(batch_size=0)),
    ("train_fast_style", "batch_size", fast(batch_size=2.0)),
    ("train_fast_style", "images", fast(images=images(23, size=18))),
    ("train_fast_style", "lr", fast(lr=0)),
    ("train_fast_style", "style_weight", fast(style_weight=0)),
    ("train_fast_style", "style", fast(style=images(22, 2))),
    ("train_fast_style", "images", fast(images=X * 3)),
    ("train_fast_style", "images", fast(images=GREY)),
    ("TransformNet", "widths", lambda: TransformNet((4, 8))),
    ("photo_crops", "n", lambda: photo_crops(0)),
]


@pytest.mark.parametrize("function, argument, call", BAD, ids=[f"{f}-{a}" for f, a, _ in BAD])
def test_bad_input_is_a_value_error_naming_the_argument(function, argument, call):
    with pytest.raises(ValueError, match=rf"^{function}: (.* )?{argument}(?!\w)") as error:
        call()
    assert "got" in str(error.value) or "layers are" in str(error.value)


def test_total_variation_is_zero_on_constants_and_the_mean_squared_neighbour_difference():
    assert viz.total_variation(torch.full((2, 3, 5, 6), 0.3)).item() == 0
    x = torch.rand(2, 3, 5, 6)
    expected = (x.diff(dim=2) ** 2).mean() + (x.diff(dim=3) ** 2).mean()
    torch.testing.assert_close(viz.total_variation(x), expected)


def test_tv_weight_smooths_a_synthesised_texture_and_is_recorded():
    net = viz.random_features((8, 8), seed=3)
    style = torch.rand(1, 3, 16, 16)
    plain = viz.synthesize_texture(net, style, style_layers=("c1", "c2"), steps=5)
    smooth = viz.synthesize_texture(net, style, style_layers=("c1", "c2"), steps=5, tv_weight=10.0)
    assert "tv" in smooth.losses and "tv" not in plain.losses
    assert viz.total_variation(smooth.image) < viz.total_variation(plain.image)
    with pytest.raises(ValueError, match="tv_weight"):
        viz.style_transfer(net, style, style, content_layers=("c1",), style_layers=("c2",), tv_weight=-1)


def test_random_features_is_seeded_vgg_style_and_in_eval_mode():
    a, b, c = viz.random_features((4, 6, 8), seed=1), viz.random_features((4, 6, 8), seed=1), \
        viz.random_features((4, 6, 8), seed=2)
    x = torch.rand(1, 3, 16, 16)
    assert not a.training and torch.equal(a(x), b(x)) and not torch.equal(a(x), c(x))
    assert a(x).shape == (1, 8, 4, 4)
    assert [n for n, _ in a.named_children()] == ["c1", "pool1", "c2", "pool2", "c3"]
    with pytest.raises(ValueError, match="widths"):
        viz.random_features((4, 0))
