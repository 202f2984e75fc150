import pytest
import torch
from torch import nn

from cnncourse.layers.fully_conv import convolutionalize, linear_to_conv


def classifier():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3), nn.ReLU(), nn.MaxPool2d(2),           # 16 -> 14 -> 7
        nn.Conv2d(8, 16, 3), nn.ReLU(), nn.MaxPool2d(2),          # 7 -> 5 -> 2
        nn.Flatten(), nn.Linear(16 * 2 * 2, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 5),
    ).eval()


def test_converted_network_equals_the_classifier_on_its_input_size():
    model = classifier()
    fcn = convolutionalize(model, (3, 16, 16)).eval()
    x = torch.randn(4, 3, 16, 16)
    torch.testing.assert_close(fcn(x).flatten(1), model(x), atol=1e-5, rtol=1e-5)
    assert not any(isinstance(m, (nn.Linear, nn.Flatten)) for m in fcn.modules())


def test_on_a_larger_image_each_output_is_the_classifier_on_one_crop():
    model = classifier()
    fcn = convolutionalize(model, (3, 16, 16)).eval()
    big = torch.randn(1, 3, 40, 48)
    scores = fcn(big)  # total stride 4: (40 - 16) / 4 + 1 = 7 rows, 9 columns
    assert scores.shape == (1, 5, 7, 9)
    for i, j in [(0, 0), (3, 5), (6, 8)]:
        crop = big[:, :, 4 * i : 4 * i + 16, 4 * j : 4 * j + 16]
        torch.testing.assert_close(scores[:, :, i, j], model(crop), atol=1e-5, rtol=1e-5)


def test_errors_name_the_mismatch():
    with pytest.raises(ValueError, match=r"in_features=64, but an input of shape \(16, 3, 3\) has 144"):
        linear_to_conv(nn.Linear(64, 5), (16, 3, 3))
    with pytest.raises(ValueError, match="before any Flatten"):
        convolutionalize(nn.Sequential(nn.Linear(3, 2)), (3, 1, 1))
    with pytest.raises(TypeError, match="nn.Sequential"):
        convolutionalize(nn.Linear(3, 2), (3, 1, 1))


def test_converting_a_network_in_training_mode_leaves_batch_norm_statistics_and_mode_alone():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
    model[1].running_mean.fill_(0.7)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    convolutionalize(model, (3, 8, 8))
    assert model.training, "the model's mode must come back"
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), f"{k} changed"
