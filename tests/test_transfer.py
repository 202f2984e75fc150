"""Transfer learning helpers: freezing, heads, features, the learning-curve protocol."""

import copy

import numpy as np
import pytest
import torch
import torchvision
from skimage.feature import hog
from torch import nn
from torch.utils.data import TensorDataset

from cnncourse import models, transfer
from cnncourse.train import fit_cosine


def _net(seed=0, num_classes=3):
    torch.manual_seed(seed)
    return models.get("alexnet_mini", num_classes=num_classes, widths=(4, 6, 8, 8, 8))


def _data(n=24, seed=0, classes=3):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, 32, 32, generator=g), torch.randint(0, classes, (n,), generator=g)


def test_blocks_are_the_top_level_children_with_parameters_in_order():
    assert transfer.blocks(_net()) == ["c1", "c2", "c3", "c4", "c5", "fc"]  # the pools have none
    assert transfer.blocks(models.get("resnet18")) == ["conv1", "bn1", "layer1", "layer2", "layer3", "layer4", "fc"]


@pytest.mark.parametrize("k", [0, 2, 5])
def test_freezing_leaves_frozen_parameters_and_statistics_bit_identical_after_training(k):
    model = _net()
    frozen = transfer.freeze(model, k)
    assert frozen == ["c1", "c2", "c3", "c4", "c5"][:k]
    before = copy.deepcopy(model.state_dict())
    x, y = _data()
    fit_cosine(model, TensorDataset(x, y), epochs=3, lr=0.05, batch_size=8, parameters=transfer.trainable(model))
    for name, tensor in model.state_dict().items():
        block = name.split(".")[0]
        if block in frozen:
            assert torch.equal(tensor, before[name]), f"{name} changed although {block} is frozen"
        elif tensor.is_floating_point() and "running" not in name:
            assert not torch.equal(tensor, before[name]), f"{name} did not train although {block} is not frozen"
    assert all(not p.requires_grad for b in frozen for p in getattr(model, b).parameters())
    assert model.training  # the model trains; only the frozen blocks' batch norms evaluate


def test_a_frozen_block_computes_as_in_eval_mode_while_the_model_trains():
    model = _net()
    x, _ = _data(8)
    expected = model.eval().c1(x)
    transfer.freeze(model, 1)
    model.train()
    torch.testing.assert_close(model.c1(x), expected)
    assert not torch.equal(model.c2(model.pool1(expected)), model.eval().c2(model.pool1(expected)))


def test_freezing_again_replaces_the_previous_freeze_and_unfreeze_undoes_it():
    model = _net()
    transfer.freeze(model, 4)
    transfer.freeze(model, 1)
    assert [name for name in transfer.blocks(model) if any(p.requires_grad for p in getattr(model, name).parameters())] \
        == ["c2", "c3", "c4", "c5", "fc"]
    transfer.unfreeze(model)
    assert all(p.requires_grad for p in model.parameters())
    statistics = model.c1[1].running_mean.clone()
    model.train()(_data(8)[0])
    assert not torch.equal(model.c1[1].running_mean, statistics), "batch norm must follow model.train() again"


@pytest.mark.parametrize("k", [-1, 7, 2.0, True])
def test_freeze_rejects_a_k_outside_the_blocks(k):
    with pytest.raises(ValueError, match=r"freeze: k must be an int in 0\.\.6 \(the model's blocks: c1, c2, c3, c4, c5, fc\); got"):
        transfer.freeze(_net(), k)


def test_replace_head_follows_torchvisions_idiom():
    reference = torchvision.models.resnet18(num_classes=10)
    ours = copy.deepcopy(reference)
    transfer.freeze(ours, 7)
    torch.manual_seed(3)
    head = transfer.replace_head(ours, 4)
    torch.manual_seed(3)
    reference.fc = nn.Linear(reference.fc.in_features, 4)  # what torchvision's tutorials write
    assert ours.fc is head and head.weight.requires_grad
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(ours.eval()(x), reference.eval()(x))


def test_replace_head_finds_the_last_linear_inside_containers():
    model = models.get("vgg11", num_classes=10)
    head = transfer.replace_head(model, 2)
    assert model.classifier[-1] is head and head.out_features == 2
    with pytest.raises(ValueError, match="replace_head: Sequential has no nn.Linear layer"):
        transfer.replace_head(nn.Sequential(nn.Conv2d(3, 3, 1)), 2)
    with pytest.raises(ValueError, match="replace_head: num_classes must be a positive int; got 0"):
        transfer.replace_head(model, 0)


def test_hog_features_are_scikit_images_on_the_grey_image():
    x, _ = _data(3)
    got = transfer.hog_features(x, orientations=8, pixels_per_cell=8, cells_per_block=2)
    expected = hog(x[1].mean(0).numpy(), orientations=8, pixels_per_cell=(8, 8), cells_per_block=(2, 2))
    assert got.shape == (3, 3 * 3 * 2 * 2 * 8)
    np.testing.assert_allclose(got[1].numpy(), expected, rtol=1e-5)


def test_stratified_split_draws_per_class_and_keeps_the_rest():
    labels = torch.tensor([0] * 10 + [1] * 6 + [2] * 8)
    chosen, rest = transfer.stratified_split(labels, 4, seed=1)
    assert torch.bincount(labels[chosen]).tolist() == [4, 4, 4]
    assert sorted(chosen.tolist() + rest.tolist()) == list(range(24))
    assert torch.equal(chosen, transfer.stratified_split(labels, 4, seed=1)[0])
    assert not torch.equal(chosen, transfer.stratified_split(labels, 4, seed=2)[0])
    with pytest.raises(ValueError, match="per_class must be at most 6 .*class 1.*; got 7"):
        transfer.stratified_split(labels, 7)


def test_learning_curve_draws_nested_sizes_from_the_pool_and_keeps_the_test_set():
    labels = torch.tensor([0, 1] * 20)
    test, pool = transfer.stratified_split(labels, 5)
    seen = []

    def method(train, test_indices, seed):
        seen.append((len(train), seed, test_indices))
        assert set(train.tolist()) <= set(pool.tolist())
        return len(train) / 100

    result = transfer.learning_curve({"m": method}, labels, pool, test, sizes=[1, 3], seeds=[0, 1])
    assert result == {"m": {1: [0.02, 0.02], 3: [0.06, 0.06]}}
    assert [s[:2] for s in seen] == [(2, 0), (6, 0), (2, 1), (6, 1)]
    assert all(torch.equal(s[2], test) for s in seen)
    assert transfer.summary(result)["m"][3] == (0.06, 0.06, 0.06)


def test_fine_tune_trains_the_top_for_the_given_steps_and_returns_an_eval_model():
    model = _net()
    x, y = _data(12, classes=2)
    before = copy.deepcopy(model.state_dict())
    out = transfer.fine_tune(model, x, y, k=3, num_classes=2, steps=6, batch_size=4, lr=0.01)
    assert out is model and not model.training and model.fc.out_features == 2
    assert all(torch.equal(model.state_dict()[n], before[n]) for n in before if n.split(".")[0] in ("c1", "c2", "c3"))
    assert not torch.equal(model.c4[0].weight, before["c4.0.weight"])
    with pytest.raises(ValueError, match="fine_tune: images and labels must have the same length; got 12 and 11"):
        transfer.fine_tune(model, x, y[:11], k=0, num_classes=2)


def test_fine_tune_trains_the_transferred_layers_at_body_lr():
    model = _net()
    x, y = _data(12, classes=2)
    before = copy.deepcopy(model.state_dict())
    transfer.fine_tune(model, x, y, k=0, num_classes=2, steps=4, batch_size=4, lr=0.01, body_lr=0.0)
    weights = [n for n in before if n.endswith("weight") and not n.startswith("fc")]
    assert all(torch.equal(model.state_dict()[n], before[n]) for n in weights), "body_lr=0 moves no transferred weight"
    other = _net()
    transfer.fine_tune(other, x, y, k=0, num_classes=2, steps=4, batch_size=4, lr=0.01)
    assert not torch.equal(other.c1[0].weight, before["c1.0.weight"])  # by default the body trains at lr
