"""Grading: the exercises of the chapter *Activations and filters*."""

import pytest
import torch
from torch import nn

from cnncourse import viz

FEATURE_MAPS = pytest.mark.forbid("cnncourse.viz.activations", "cnncourse.viz.features")


def nested_net(seed):
    """Batch norm and dropout (so eval mode matters), a nested Sequential, in-place ReLUs."""
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(inplace=True),
                        nn.Sequential(nn.Conv2d(4, 6, 3, stride=2), nn.Dropout(0.5), nn.ReLU(inplace=True)),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 3))
    with torch.no_grad():  # running statistics far from a batch's own
        net[1].running_mean.uniform_(-1, 1)
        net[1].running_var.uniform_(0.5, 2)
    return net


def by_hand(net, x):
    """What each layer outputs in eval mode, computed step by step."""
    net.eval()
    with torch.no_grad():
        a0 = net[0](x)
        a1 = net[1](a0)
        a2 = a1.clamp(min=0)
        b0 = net[3][0](a2)
        return {"0": a0, "1": a1, "2": a2, "3.0": b0, "3": b0.clamp(min=0),
                "6": net[6](b0.clamp(min=0).mean((2, 3)))}


@FEATURE_MAPS
@pytest.mark.points(3)
@pytest.mark.parametrize("names", [["0"], ["1", "3.0"], ["3", "6", "2"]])
def test_feature_maps_are_the_layers_outputs_in_eval_mode(submission, names):
    net, x = nested_net(0), torch.randn(4, 3, 9, 9)
    expected = by_hand(nested_net(0), x)
    got = submission("activations").feature_maps(net.train(), x, names)
    assert sorted(got) == sorted(names), f"keys {sorted(got)}, expected {sorted(names)}"
    for name in names:
        torch.testing.assert_close(got[name], expected[name], atol=1e-5, rtol=1e-5, msg=f"layer {name!r}")


@FEATURE_MAPS
@pytest.mark.points(2)
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_feature_maps_leave_the_model_as_they_found_it(submission, mode):
    net, x = nested_net(1), torch.randn(2, 3, 9, 9)
    net.train(mode == "train")
    before = {k: v.clone() for k, v in net.state_dict().items()}
    submission("activations").feature_maps(net, x, ["1", "3"])
    assert net.training == (mode == "train"), "the model's train/eval mode was not restored"
    hooks = [m for m in net.modules() if m._forward_hooks or m._forward_pre_hooks]
    assert not hooks, f"hooks left on {len(hooks)} module(s)"
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items()), "weights or statistics changed"


class SignalAndNoise(nn.Module):
    """Input channel 0 is noise, channel 1 carries the label. ``noise`` reads only channel 0,
    ``signal`` only channel 1; the classifier reads ``signal``, so the network's output solves the task."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.noise, self.signal = nn.Conv2d(2, 8, 1), nn.Conv2d(2, 8, 1)
        with torch.no_grad():
            self.noise.weight[:, 1] = 0
            self.signal.weight[:, 0] = 0
        self.head = nn.Linear(8, 2)
        with torch.no_grad():
            self.head.weight.copy_(torch.sign(self.signal.weight[:, 1, 0, 0]).expand(2, 8) * torch.tensor([[-1.0], [1.0]]))

    def forward(self, x):
        noise, signal = self.noise(x), self.signal(x)
        return self.head(signal.mean((2, 3))) + 0 * noise.sum()


def signal_and_noise(n, seed):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 2, (n,), generator=g)
    x = torch.randn(n, 2, 4, 4, generator=g)
    x[:, 1] += (2.0 * labels - 1)[:, None, None]
    return x, labels


PROBE = pytest.mark.forbid("cnncourse.viz.linear_probe")


@pytest.fixture
def probe(submission, monkeypatch):
    """The submitted linear_probe, calling the reference feature_maps: graded on its own."""
    module = submission("activations")
    monkeypatch.setattr(module, "feature_maps", viz.activations, raising=False)
    return module.linear_probe


@PROBE
@pytest.mark.points(2)
def test_linear_probe_reads_a_layer_that_knows_the_label(probe):
    net = SignalAndNoise()
    accuracy = probe(net, "signal", signal_and_noise(60, 1), signal_and_noise(400, 2))
    assert 0.9 <= float(accuracy) <= 1.0, f"test accuracy {accuracy}; the layer carries the label"


@PROBE
@pytest.mark.points(3)
def test_linear_probe_of_a_layer_that_does_not_know_is_at_chance(probe):
    """A probe on the layer (not the network's output), scored on the test set (not the training set)."""
    net = SignalAndNoise()
    accuracy = probe(net, "noise", signal_and_noise(60, 1), signal_and_noise(400, 2))
    assert float(accuracy) <= 0.65, f"test accuracy {accuracy} on features that carry no label (chance is 0.5)"


@PROBE
@pytest.mark.points(1)
def test_linear_probe_leaves_the_network_frozen(probe):
    net = SignalAndNoise().train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    probe(net, "signal", signal_and_noise(60, 1), signal_and_noise(100, 2))
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items()), "the network's weights changed"
    assert all(p.grad is None or not p.grad.any() for p in net.parameters()), "gradients were left on the network"
