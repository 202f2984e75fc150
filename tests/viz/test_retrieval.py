"""Activations, top patches cut to the receptive field, retrieval, linear probes, sanity checks."""

import pytest
import torch
from torch import nn

from cnncourse import viz


def spot_detector():
    """conv 3x3 (averaging) -> ReLU -> 2x2 max pool -> conv 3x3 -> ReLU: a unit fires on a bright spot."""
    net = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1, bias=False), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(1, 2, 3, padding=1, bias=False), nn.ReLU())
    with torch.no_grad():
        net[0].weight.fill_(1 / 9)
        net[3].weight.zero_()
        net[3].weight[0, 0, 1, 1] = 1.0  # channel 0 passes the spot on; channel 1 is silent
    return net.eval()


def test_activations_are_the_layers_outputs_and_unknown_layers_are_listed():
    net = spot_detector()
    x = torch.rand(2, 1, 16, 16)
    out = viz.activations(net, x, ["1", "4"])
    torch.testing.assert_close(out["1"], net[1](net[0](x)))
    torch.testing.assert_close(out["4"], net(x))
    assert not net[0]._forward_hooks
    with pytest.raises(ValueError, match="no layer 'c9'; its layers are: 0, 1, 2, 3, 4"):
        viz.activations(net, x, "c9")


def test_activations_before_an_in_place_relu_are_not_overwritten():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(inplace=True)).eval()
    x = torch.randn(2, 1, 8, 8)
    conv = viz.activations(net, x, "0")["0"]
    torch.testing.assert_close(conv, net[0](x))
    assert (conv < 0).any()  # what the ReLU would have zeroed in place


def test_top_patches_are_the_strongest_units_cut_to_their_receptive_field():
    net = spot_detector()
    images = torch.zeros(5, 1, 24, 24)
    spots = [(4, 6), (10, 12), (18, 5), (12, 20), (8, 8)]
    for n, (r, c) in enumerate(spots):
        images[n, 0, r, c] = 1.0 + n  # image 4 has the brightest spot
    patches = viz.top_patches(net, "4", 0, images, k=3)
    assert [p.image for p in patches] == [4, 3, 2] and patches[0].value > patches[1].value > patches[2].value
    for p in patches:
        r, c = spots[p.image]
        assert p.rows[0] <= r < p.rows[1] and p.columns[0] <= c < p.columns[1]  # the spot is in the patch
        assert p.pixels.shape == (1, p.rows[1] - p.rows[0], p.columns[1] - p.columns[0])
    interior = patches[0]  # spot (8, 8): the unit's whole 8x8 field (3, then 4 with jump 2, then 8) is inside
    assert interior.rows[1] - interior.rows[0] == 8 and interior.columns[1] - interior.columns[0] == 8
    with pytest.raises(ValueError, match="channel must be in 0..1; got 2"):
        viz.top_patches(net, "4", 2, images)
    both = viz.top_patches(net, "4", [0, 1], images, k=3)  # several channels: one forward pass
    assert list(both) == [0, 1] and len(both[0]) == len(patches)
    for a, b in zip(both[0], patches):
        assert a[:5] == b[:5] and torch.equal(a.pixels, b.pixels)


def test_retrieval_and_precision_at_k():
    torch.manual_seed(0)
    centres = torch.randn(3, 8) * 5
    labels = torch.arange(3).repeat_interleave(10)
    feats = centres[labels] + torch.randn(30, 8) * 0.1
    neighbours = viz.nearest_neighbours(feats, feats, k=4, exclude_self=True)
    assert not (neighbours == torch.arange(30)[:, None]).any()
    assert viz.precision_at_k(neighbours, labels, labels) == 1.0
    shuffled = labels[torch.randperm(30)]
    assert viz.precision_at_k(neighbours, shuffled, shuffled) < 0.7
    with pytest.raises(ValueError, match="must share D"):
        viz.nearest_neighbours(feats, feats[:, :4])
    assert viz.tsne(feats, perplexity=5).shape == (30, 2)


def test_linear_probe_reads_what_is_linearly_there():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Identity(), nn.Flatten())
    x = torch.randn(200, 1, 2, 2)
    y = (x[:, 0, 0, 0] > 0).long()  # linearly readable from the input
    assert viz.linear_probe(net, "0", (x[:150], y[:150]), (x[150:], y[150:]), pool=None) > 0.95
    noise = torch.randint(0, 2, (200,))
    assert viz.linear_probe(net, "0", (x[:150], noise[:150]), (x[150:], noise[150:]), pool=None) < 0.75


def test_linear_probes_of_several_layers_equal_one_probe_each_and_features_of_several_layers():
    torch.manual_seed(1)
    net = spot_detector()
    x, y = torch.rand(60, 1, 16, 16), torch.randint(0, 2, (60,))
    train, test = (x[:40], y[:40]), (x[40:], y[40:])
    both = viz.linear_probes(net, ["1", "4"], train, test, pool=2, epochs=20)
    assert both == {name: viz.linear_probe(net, name, train, test, pool=2, epochs=20) for name in ["1", "4"]}
    many = viz.features(net, ["1", "4"], x, pool=2, batch_size=7)
    torch.testing.assert_close(many["4"], viz.features(net, "4", x, pool=2))
    assert many["1"].shape == (60, 4)


def test_randomized_resets_only_the_named_layers_and_rank_correlation():
    net = spot_detector()
    shuffled = viz.randomized(net, ["3"])
    assert torch.equal(shuffled[0].weight, net[0].weight) and not torch.equal(shuffled[3].weight, net[3].weight)
    a = torch.rand(2, 8, 8)
    torch.testing.assert_close(viz.rank_correlation(a, a), torch.ones(2))
    assert viz.rank_correlation(a, torch.rand(2, 8, 8)).abs().max() < 0.4
