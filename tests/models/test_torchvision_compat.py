"""Every model torchvision also has: torchvision's state_dict loads strictly and the outputs are equal.

No network: torchvision's architectures come with random weights, whose
state_dict we load. Batch-norm statistics are first set from a real batch so
that every layer normalises (with the default statistics a deep network's
activations grow without bound). The comparison runs in float64, where two
correct implementations agree to rounding; in float32 their different
convolution algorithms drift apart by more than 1e-5 in the deepest networks.
"""

import pytest
import torch
import torchvision

from cnncourse import models


def calibrated(model, x):
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.momentum = 1.0
    model.train()
    with torch.no_grad():
        model(x)
    return model.eval()


@pytest.mark.parametrize("name", models.list_models(torchvision_only=True))
def test_state_dict_loads_strictly_and_outputs_match(name):
    torch.manual_seed(0)
    reference = getattr(torchvision.models, name)(**({"init_weights": False} if name == "googlenet" else {})).double()
    size = 64 if name == "alexnet" else 40  # small inputs keep the float64 check fast; AlexNet needs 63+
    x = torch.randn(2, 3, size, size, dtype=torch.float64)
    calibrated(reference, x)
    ours = models.get(name).double()
    ours.load_state_dict(reference.state_dict(), strict=True)
    ours.eval()
    probe = torch.randn(2, 3, size, size, dtype=torch.float64)
    with torch.no_grad():
        expected, got = reference(probe), ours(probe)
    assert got.shape == expected.shape == (2, 1000)
    torch.testing.assert_close(got, expected, atol=1e-10, rtol=1e-8)
