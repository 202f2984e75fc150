"""The kernel switch: modules give the same result on either kernel, and the switch really switches."""

import pytest
import torch
from torch import nn

from cnncourse import layers
from cnncourse.layers import conv as conv_module

MODULES = [
    (lambda: layers.Conv2d(3, 4, 3, 2, 1, groups=1), (2, 3, 9, 9)),
    (lambda: layers.Conv1d(3, 4, 3, padding=1), (2, 3, 9)),
    (lambda: layers.MaxPool2d(3, 2, 1), (2, 3, 9, 9)),
    (lambda: layers.AvgPool2d(2), (2, 3, 8, 8)),
    (lambda: layers.BatchNorm2d(3), (4, 3, 5, 5)),
    (lambda: layers.LocalResponseNorm(3), (2, 5, 4, 4)),
    (lambda: layers.ConvTranspose2d(3, 2, 3, 2, 1, output_padding=1), (2, 3, 4, 4)),
]


@pytest.mark.parametrize("make, shape", MODULES)
def test_modules_agree_on_both_kernels(make, shape):
    torch.manual_seed(0)
    module, x = make(), torch.randn(shape)
    with layers.use_kernels("torch"):
        reference = module(x)
    torch.testing.assert_close(module(x), reference, atol=1e-5, rtol=1e-5)


def test_the_switch_selects_the_kernel_and_restores_the_previous_choice(monkeypatch):
    calls = []
    scratch = conv_module.conv2d
    monkeypatch.setattr(conv_module, "conv2d", lambda *a: calls.append(1) or scratch(*a))
    conv, x = layers.Conv2d(1, 1, 3), torch.randn(1, 1, 5, 5)
    conv(x)
    assert calls == [1] and layers.kernels() == "scratch"
    with layers.use_kernels("torch"):
        assert layers.kernels() == "torch"
        conv(x)
    assert calls == [1] and layers.kernels() == "scratch"


def test_an_unknown_kernel_name_is_refused_with_the_choices():
    with pytest.raises(ValueError, match=r"kernels must be one of \('scratch', 'torch'\); got 'cuda'"):
        layers.use_kernels("cuda")
    assert layers.kernels() == "scratch"


def test_dropout_follows_the_switch():
    drop = layers.Dropout(0.5)
    x = torch.ones(1000)
    for name in ("scratch", "torch"):
        with layers.use_kernels(name):
            kept = drop(x)
        assert set(kept.unique().tolist()) <= {0.0, 2.0}
    assert isinstance(drop, nn.Dropout)
