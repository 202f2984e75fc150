"""Grading: the exercises of the chapter *DenseNet, MobileNet and BagNet*."""

import pytest
import torch
from torch import nn
from torchvision.models.densenet import _DenseBlock

from cnncourse.analysis import count_params


def randomise_batch_norm(module):
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)


DENSE = pytest.mark.forbid("torchvision.models.densenet._DenseBlock", "torchvision.models.densenet._DenseLayer",
                           "cnncourse.models.densenet.DenseBlock", "cnncourse.models.densenet.DenseLayer")


@DENSE
@pytest.mark.points(4)
@pytest.mark.parametrize("num_layers, in_channels, growth_rate, bn_size", [(3, 8, 4, 4), (2, 16, 8, 2)])
def test_dense_block_loads_torchvision_weights_and_matches(submission, num_layers, in_channels, growth_rate, bn_size):
    torch.manual_seed(0)
    reference = _DenseBlock(num_layers, in_channels, bn_size, growth_rate, drop_rate=0.0)
    randomise_batch_norm(reference)
    block = submission("densenet_mobilenet_bagnet").DenseBlock(num_layers, in_channels, growth_rate, bn_size)
    block.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, in_channels, 6, 6)
    with torch.no_grad():
        out = block.eval()(x)
        assert out.shape == (2, in_channels + num_layers * growth_rate, 6, 6)
        torch.testing.assert_close(out, reference.eval()(x), atol=1e-5, rtol=1e-5)


@DENSE
@pytest.mark.points(1)
def test_dense_block_output_starts_with_its_input(submission):
    x = torch.randn(1, 5, 4, 4)
    out = submission("densenet_mobilenet_bagnet").DenseBlock(2, 5, 3).eval()(x)
    torch.testing.assert_close(out[:, :5], x)


@pytest.mark.forbid("cnncourse.layers.DepthwiseSeparableConv2d")
@pytest.mark.points(3)
@pytest.mark.parametrize("c_in, c_out, stride", [(8, 16, 1), (16, 32, 2), (256, 256, 1)])
def test_separable_block(submission, c_in, c_out, stride):
    block = submission("densenet_mobilenet_bagnet").separable_block(c_in, c_out, stride)
    convs = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.kernel_size, c.groups, c.stride, c.bias is None) for c in convs] == [((3, 3), c_in, (stride, stride), True), ((1, 1), 1, (1, 1), True)]
    assert count_params(block) == 9 * c_in + c_in * c_out + 2 * (c_in + c_out)
    assert block(torch.randn(2, c_in, 8, 8)).shape == (2, c_out, 8 // stride, 8 // stride)
    assert sum(isinstance(m, nn.ReLU) for m in block.modules()) == 2
