"""Grading: the exercises of the chapter *ResNet, ResNeXt and Highway networks*."""

import pytest
import torch
from torch import nn
from torchvision.models import resnet as tv


def reference_block(kind, in_channels, planes, stride):
    """torchvision's block with the projection shortcut torchvision's ResNet would give it."""
    block = {"BasicBlock": tv.BasicBlock, "Bottleneck": tv.Bottleneck}[kind]
    out = planes * block.expansion
    downsample = None
    if stride != 1 or in_channels != out:
        downsample = nn.Sequential(nn.Conv2d(in_channels, out, 1, stride, bias=False), nn.BatchNorm2d(out))
    return block(in_channels, planes, stride, downsample)


def randomise_batch_norm(module):
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)


CASES = [("BasicBlock", 16, 16, 1), ("BasicBlock", 16, 32, 2), ("Bottleneck", 64, 16, 1), ("Bottleneck", 32, 16, 2)]


BLOCKS = pytest.mark.forbid("torchvision.models.resnet.BasicBlock", "torchvision.models.resnet.Bottleneck",
                            "cnncourse.models.resnet.BasicBlock", "cnncourse.models.resnet.Bottleneck")


@BLOCKS
@pytest.mark.points(3)
@pytest.mark.parametrize("kind, in_channels, planes, stride", CASES)
def test_block_loads_torchvision_weights_and_matches_in_eval(submission, kind, in_channels, planes, stride):
    torch.manual_seed(0)
    reference = reference_block(kind, in_channels, planes, stride)
    randomise_batch_norm(reference)
    block = getattr(submission("resnet"), kind)(in_channels, planes, stride)
    block.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, in_channels, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(block.eval()(x), reference.eval()(x), atol=1e-5, rtol=1e-5)


@BLOCKS
@pytest.mark.points(1)
@pytest.mark.parametrize("kind", ["BasicBlock", "Bottleneck"])
def test_block_output_shape_and_gradients(submission, kind):
    block = getattr(submission("resnet"), kind)(8, 8, 2)
    x = torch.randn(2, 8, 10, 10, requires_grad=True)
    out = block(x)
    assert out.shape == (2, 8 * block.expansion, 5, 5)
    out.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
