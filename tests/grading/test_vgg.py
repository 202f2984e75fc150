"""Grading: the exercises of the chapter *VGG*."""

import pytest
import torch
import torchvision

from cnncourse import models
from cnncourse.analysis import count_params
from cnncourse.models.vgg import CONFIGS


MAKE_LAYERS = pytest.mark.forbid("torchvision.models.vgg.make_layers", "cnncourse.models.vgg.make_layers")
COUNTING = pytest.mark.forbid("cnncourse.analysis.count_params", "torchvision.models.vgg.make_layers",
                              "cnncourse.models.vgg.make_layers")


@MAKE_LAYERS
@pytest.mark.points(4)
@pytest.mark.parametrize("letter, batch_norm", [("D", False), ("D", True), ("A", False)])
def test_make_layers_loads_torchvision_weights(submission, letter, batch_norm):
    torch.manual_seed(0)
    config = CONFIGS[letter]
    # torchvision's own builder of vgg16(_bn).features / vgg11.features (its full models take seconds to build)
    reference = torchvision.models.vgg.make_layers(torchvision.models.vgg.cfgs[letter], batch_norm).eval()
    features = submission("vgg").make_layers(config, 3, batch_norm)
    features.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(features.eval()(x), reference(x), atol=1e-4, rtol=1e-4)


@MAKE_LAYERS
@pytest.mark.points(2)
def test_make_layers_handles_1x1_layers_and_input_channels(submission):
    features = submission("vgg").make_layers([8, "1x1-4", "M"], in_channels=1)
    convs = [m for m in features.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.padding) for c in convs] == [(1, 8, (3, 3), (1, 1)), (8, 4, (1, 1), (0, 0))]
    assert features(torch.zeros(2, 1, 6, 6)).shape == (2, 4, 3, 3)


@COUNTING
@pytest.mark.points(3)
@pytest.mark.parametrize("letter, name", [("A", "vgg11"), ("A-LRN", "vgg11_lrn"), ("B", "vgg13"), ("C", "vgg16_c"), ("D", "vgg16"), ("E", "vgg19")])
def test_vgg_conv_params(submission, letter, name):
    with torch.device("meta"):
        expected = count_params(models.get(name).features)
    assert submission("vgg").vgg_conv_params(CONFIGS[letter]) == expected


@COUNTING
@pytest.mark.points(1)
def test_vgg_conv_params_with_one_input_channel(submission):
    assert submission("vgg").vgg_conv_params([4, "M", "1x1-2"], in_channels=1) == (9 * 4 + 4) + (4 * 2 + 2)
