"""Receptive fields by arithmetic (analysis.receptive_fields) against the gradient's support, on every registry model."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnncourse import analysis, models


def _size_of(name):
    if name.startswith(("lenet", "cifar", "highway")):
        return 32
    return max(64, models.min_input_size(name))


def _spatial_outputs(model, shape):
    shapes = {}
    hooks = [m.register_forward_hook(lambda m, i, o, n=n: shapes.__setitem__(n, o.shape) if torch.is_tensor(o) else None)
             for n, m in model.named_modules() if n]
    with torch.no_grad():
        model(torch.zeros(1, *shape))
    for h in hooks:
        h.remove()
    return {n: s for n, s in shapes.items() if len(s) >= 3}


@pytest.mark.parametrize("name", models.list_models())
def test_arithmetic_matches_the_gradient_at_every_downsampling_layer(name):
    """Each layer where the jump changes, and the last spatial layer: the centre unit's pixels, offsets included."""
    model = models.get(name).eval()
    shape = (1 if name.startswith("lenet") else 3, _size_of(name), _size_of(name))
    fields, outputs = analysis.receptive_fields(model, shape), _spatial_outputs(model, shape)
    chosen, previous = [], None
    for layer, field in fields.items():
        if layer in outputs and not field.is_global:
            if previous is None or field.jump != previous.jump:
                chosen.append(layer)
            previous, last = field, layer
    chosen = list(dict.fromkeys(chosen + [last]))
    assert len(chosen) >= 2
    for layer in chosen:
        centre = tuple(n // 2 for n in outputs[layer][2:])
        assert fields[layer].seen_by(centre, shape[1:]) == analysis.measure_receptive_field(model, layer, shape), layer


def test_lenet5_subsampling_is_a_downsampling_layer():
    """The lecture's question: S2 sees 6x6 pixels with a jump of 2, C5 the whole 32x32 input."""
    rows = {r["name"]: r for r in analysis.summary(models.get("lenet5"), (1, 32, 32)).rows}
    assert (rows["2: Subsampling"]["rf"], rows["2: Subsampling"]["jump"]) == ((6, 6), (2, 2))
    assert (rows["8: Conv2d"]["rf"], rows["8: Conv2d"]["jump"]) == ((32, 32), (4, 4))
    assert rows["1: Linear"]["rf"] == "global"


class Branches(nn.Module):
    """Functional pooling, two branches concatenated, a strided slice, a spatial mean."""

    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Conv2d(1, 2, 3, padding=1), nn.Conv2d(1, 2, 5, padding=2)
        self.c = nn.Conv2d(4, 4, 3, dilation=2)

    def forward(self, x):
        x = F.avg_pool2d(x, 2)  # (a functional max pool would send the gradient to one pixel per window)
        x = self.c(torch.cat([self.a(x), self.b(x)], 1))
        return x[..., ::2, ::2], x.mean(dim=(2, 3))


def test_functional_operations_between_modules_are_followed():
    fields = analysis.receptive_fields(Branches(), (1, 40, 40))
    assert fields["a"].size == (2 + 2 * 2,) * 2 and fields["b"].size == (2 + 4 * 2,) * 2  # after a 2x2 pool: jump 2
    assert fields["c"].size == (10 + 2 * 2 * 2,) * 2 and fields["c"].jump == (2, 2)  # the union of the branches
    measured = analysis.measure_receptive_field(Branches(), "c", (1, 40, 40), index=(3, 3))
    assert fields["c"].seen_by((3, 3), (40, 40)) == measured
    pooled = analysis.receptive_fields(nn.Sequential(nn.Conv2d(1, 1, 3), nn.AdaptiveAvgPool2d(1)), (1, 8, 8))
    assert pooled["1"].is_global and pooled["1"].size == "global"


def test_measure_receptive_field_errors_name_the_layer():
    model = models.get("lenet5")
    with pytest.raises(KeyError, match="no layer 'features.99'.*features.0"):
        analysis.measure_receptive_field(model, "features.99", (1, 32, 32))
    with pytest.raises(ValueError, match="'classifier.1' has no spatial output"):
        analysis.measure_receptive_field(model, "classifier.1", (1, 32, 32))
